"""HTTP routers: thin, reading PostgreSQL through `repository` only."""
