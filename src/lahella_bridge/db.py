"""Declarative base, engine and sessionmaker factories, and the database location."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from lahella_bridge.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def asyncpg_url(url: str) -> str:
    """Any PostgreSQL URL as SQLAlchemy's asyncpg URL (a unix socket `host=` is kept)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The configured server, or the embedded one for as long as the context lasts."""
    if settings.database_url:
        yield asyncpg_url(settings.database_url)
        return
    from lahella_bridge.embedded_db import embedded_postgres

    with embedded_postgres(settings.data_dir) as url:
        yield asyncpg_url(url)


def decode_json(text: str | bytes) -> Any:
    """jsonb as Python, with orjson: a town's month of calendar decodes 4,000 activity
    documents, a second with the standard library. Numbers orjson cannot hold (beyond
    64 bits, which upstream JSON may carry) fall back to the standard parser."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def encode_json(value: Any) -> str:
    """Python as JSON text for jsonb parameters, with orjson: a harvest writes the raw record,
    the document and the PTV body of every activity. What orjson refuses (integers beyond
    64 bits, non-string keys) goes through the standard encoder."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def create_engine(
    url: str, *, pool_size: int = 10, statement_timeout_ms: int | None = None
) -> AsyncEngine:
    """`statement_timeout_ms` bounds each query: an abandoned request cannot run on forever."""
    server_settings = {
        "application_name": "lahella-bridge",
        # Custom plans always: asyncpg prepares every statement, and the generic plan
        # PostgreSQL switches to after five runs cannot see the municipality, theme or window.
        "plan_cache_mode": "force_custom_plan",
        # The data set lives in memory or on SSD: random reads cost little more than
        # sequential ones, so selective index scans are not traded for full-table scans.
        "random_page_cost": "1.1",
    }
    if statement_timeout_ms is not None:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        json_serializer=encode_json,
        json_deserializer=decode_json,
        connect_args={"server_settings": server_settings, "timeout": 5},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


MIGRATIONS_LOCK_ID = 0x1A4E11A0  # advisory lock: replicas starting together migrate once


def _alembic_config() -> Any:
    from alembic.config import Config

    # The source checkout, or the working directory of an installed copy (the image's /app).
    for root in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (root / "alembic.ini").exists():
            return Config(str(root / "alembic.ini"))
    raise FileNotFoundError("alembic.ini not found beside the source or in the working directory")


async def upgrade_database(engine: AsyncEngine) -> None:
    """Apply every pending alembic migration, serialised across processes."""
    from alembic import command

    def upgrade(connection: Connection) -> None:
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATIONS_LOCK_ID})")
        config = _alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)
