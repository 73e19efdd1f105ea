"""HTTP routers: thin, reading PostgreSQL through `store` only."""
