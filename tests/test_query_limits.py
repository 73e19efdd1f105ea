"""A query the request made too expensive is answered as such, never as the database being
down: the API's statement timeout gives its own problem and is counted in /metrics, and a
request PostgreSQL cannot evaluate (stack depth, class 54) is the client's error."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from lahella_bridge.app import create_app
from lahella_bridge.config import Settings
from lahella_bridge.harvest import Harvester
from tests.conftest import serving

TIMEOUTS = re.compile(
    r'^lahella_bridge_queries_refused_total\{reason="statement_timeout"\} (\S+)$', re.M
)


@pytest.fixture
async def impatient_api(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a statement timeout no search over the harvested sample can meet."""
    settings = Settings(harvest_interval_minutes=0, statement_timeout_ms=1)
    app = create_app(settings, database_url)
    async with serving(app) as client:
        yield client


async def timeouts_counted(api: httpx.AsyncClient) -> float:
    exposition = (await api.get("/metrics")).text
    found = TIMEOUTS.search(exposition)
    return float(found.group(1)) if found else 0.0


async def test_a_search_past_the_statement_timeout_says_so_and_is_counted(
    harvested: Harvester, api: httpx.AsyncClient, impatient_api: httpx.AsyncClient
) -> None:
    before = await timeouts_counted(api)
    response = await impatient_api.get("/v1/activities", params={"q": "vertais liikunta"})
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Query took too long"
    assert "1 ms" in body["detail"]
    assert await timeouts_counted(api) == before + 1


async def test_a_search_too_deep_for_postgresql_is_a_client_error(
    harvested: Harvester, api: httpx.AsyncClient
) -> None:
    """60,000 characters of one-letter words: today's Linked Events `text` reaches
    PostgreSQL, whose query tree exceeds its stack depth (SQLSTATE 54001). Whatever refuses
    it (a length limit on the parameter, or this answer), it is not the database down."""
    response = await api.get("/linkedevents/v1/event/", params={"text": "a b " * 15_000})
    assert 400 <= response.status_code < 500, response.text
    assert "Database unavailable" not in response.text
