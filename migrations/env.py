"""Alembic environment: runs on a connection handed in by lahella-bridge, or on its own.

Run alone (`alembic upgrade head`), it reads the same settings as the service, so with
no DATABASE_URL it starts the embedded PostgreSQL for the duration of the command.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from lahella_bridge import models  # noqa: F401  (registers the tables)
from lahella_bridge.config import load_settings
from lahella_bridge.db import Base, create_engine, database_url

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
elif context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
else:
    with database_url(load_settings()) as url:
        asyncio.run(_run_standalone(url))
