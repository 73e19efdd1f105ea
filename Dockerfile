# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY src ./src
COPY migrations ./migrations
COPY alembic.ini ./
RUN uv sync --locked --no-dev

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 bridge
WORKDIR /app
COPY --from=build --chown=bridge:bridge /app /app
ENV PATH="/app/.venv/bin:$PATH" \
    LAHELLA_BRIDGE_HOST=0.0.0.0 \
    LAHELLA_BRIDGE_PORT=8000 \
    LAHELLA_BRIDGE_LOG_FORMAT=json \
    LAHELLA_BRIDGE_DATA_DIR=/tmp/lahella-bridge
USER bridge
EXPOSE 8000
# LAHELLA_BRIDGE_DATABASE_URL must point at a real PostgreSQL in a container.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
CMD ["lahella-bridge", "serve"]
