"""The HSDS NDJSON export: every service of the paged list, read with a number of SQL
statements that does not grow with the data (it is unauthenticated)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge.app import create_app
from lahella_bridge.config import Settings
from tests.conftest import serving

pytestmark = pytest.mark.usefixtures("harvested")


@pytest.fixture
async def served(database_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The real app and a client of it: the test listens on the app's own engine."""
    app = create_app(Settings(harvest_interval_minutes=0), database_url)
    async with serving(app) as client:
        yield app, client


async def add_copies(engine: AsyncEngine, suffix: str) -> None:
    """Copies every harvested activity under a new id and upstream id."""
    async with engine.begin() as connection:
        columns = (
            await connection.execute(
                text(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = "
                    "'activities' AND table_schema = current_schema() AND is_generated = "
                    "'NEVER' AND column_name NOT IN ('id', 'upstream_id')"
                )
            )
        ).scalars()
        listed = ", ".join(f'"{name}"' for name in columns)
        await connection.execute(
            text(
                f"INSERT INTO activities (id, upstream_id, {listed}) "
                f"SELECT gen_random_uuid(), upstream_id || :suffix, {listed} FROM activities "
                "WHERE upstream_id NOT LIKE '%copy%'"
            ),
            {"suffix": suffix},
        )


async def export(app: FastAPI, client: httpx.AsyncClient) -> tuple[list[dict[str, Any]], int]:
    """The export's lines, and how many SQL statements on activities it ran (the service's
    other reads, such as the data-version probe, come and go with the clock)."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = await client.get("/hsds/services?format=ndjson")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    return lines, sum("FROM activities" in statement for statement in statements)


async def paged(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    services: list[dict[str, Any]] = []
    page = 1
    while True:
        body = (await client.get(f"/hsds/services?per_page=100&page={page}")).json()
        services += body["contents"]
        if body["last_page"]:
            return services
        page += 1


async def test_the_export_runs_as_many_statements_for_three_times_the_services(
    served: tuple[FastAPI, httpx.AsyncClient], db: AsyncEngine
) -> None:
    app, client = served
    lines, statements = await export(app, client)
    assert len(lines) == 317
    for suffix in ("-copy1", "-copy2"):
        await add_copies(db, suffix)
    tripled, statements_tripled = await export(app, client)
    assert len(tripled) == 3 * 317
    assert statements_tripled == statements
    assert tripled == await paged(client)
