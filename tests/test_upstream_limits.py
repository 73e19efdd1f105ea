"""Every upstream request is bounded: in size, in total time, and in how long a 429's
`Retry-After` may hold it (waited in full up to the cap, in either of its forms)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from lahella_bridge.cli import sample_server
from lahella_bridge.harvest import Harvester
from lahella_bridge.sample.upstream import SampleUpstream
from lahella_bridge.upstream.client import ClientSettings, LahellaClient, UpstreamError
from tests.conftest import lahella_source
from tests.test_harvest import live_count

BASE = "https://hallinta.test"
LIST = f"{BASE}/v1/activities"
ONE_PAGE = {"items": [{"_key": "1"}], "total": 1, "hasMore": False}


def settings(**overrides: Any) -> ClientSettings:
    values: dict[str, Any] = {
        "base_url": BASE,
        "cookies": "AUTH_TOKEN_X=a",
        "backoff_base_s": 0.001,
        "backoff_cap_s": 0.01,
        "max_retries": 1,
    }
    return ClientSettings(**{**values, **overrides})


async def collect(client_settings: ClientSettings) -> list[Any]:
    async with LahellaClient(client_settings) as client:
        return [item async for item in client.activities()]


async def timed(client_settings: ClientSettings) -> float:
    started = time.monotonic()
    assert len(await collect(client_settings)) == 1
    return time.monotonic() - started


def http_date_in(seconds: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize("retry_after", ["1.5", "in 2.5 s as an HTTP date"])
@respx.mock
async def test_429_waits_as_long_as_retry_after_says(retry_after: str) -> None:
    # An HTTP date has whole seconds: "now + 2.5 s" is 1.5 to 2.5 s away.
    value = retry_after if retry_after == "1.5" else http_date_in(2.5)
    respx.get(LIST).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": value}),
            httpx.Response(200, json=ONE_PAGE),
        ]
    )
    waited = await timed(settings(retry_after_cap_s=10))
    assert 1.4 <= waited < 4


@respx.mock
async def test_an_obsolete_http_date_without_a_zone_is_read_as_utc() -> None:
    asctime = (datetime.now(UTC) + timedelta(seconds=2.5)).strftime("%a %b %d %H:%M:%S %Y")
    respx.get(LIST).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": asctime}),
            httpx.Response(200, json=ONE_PAGE),
        ]
    )
    waited = await timed(settings(retry_after_cap_s=10))
    assert 1.4 <= waited < 4


@pytest.mark.parametrize("retry_after", ["3600", "in an hour as an HTTP date"])
@respx.mock
async def test_retry_after_is_capped(retry_after: str) -> None:
    value = retry_after if retry_after == "3600" else http_date_in(3600)
    respx.get(LIST).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": value}),
            httpx.Response(200, json=ONE_PAGE),
        ]
    )
    waited = await timed(settings(retry_after_cap_s=0.5))
    assert 0.45 <= waited < 2


@respx.mock
async def test_a_response_over_the_cap_fails_at_once_naming_the_url_and_the_cap() -> None:
    route = respx.get(LIST).mock(return_value=httpx.Response(200, json=ONE_PAGE))
    with pytest.raises(UpstreamError) as raised:
        await collect(settings(max_response_bytes=16))
    assert f"{LIST}?" in str(raised.value) and "larger than 16 bytes" in str(raised.value)
    assert route.call_count == 1  # the same request would bring the same body: no retry


async def test_a_streamed_body_without_a_length_is_cut_off_at_the_cap() -> None:
    async def chunks() -> Any:
        yield b'{"items": ['
        for _ in range(1000):
            yield b'{"_key": "0123456789"},'
        yield b'{"_key": "end"}], "total": 1001}'

    async def listing(request: Request) -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="application/json")

    app = Starlette(routes=[Route("/v1/activities", listing)])
    client_settings = settings(max_response_bytes=4096)
    async with LahellaClient(client_settings, transport=httpx.ASGITransport(app=app)) as client:
        with pytest.raises(UpstreamError, match="larger than 4096 bytes"):
            [item async for item in client.activities()]


async def trickle(request: Request) -> StreamingResponse:
    """A server that never finishes its body, a byte well within every read timeout."""

    async def forever() -> Any:
        yield b'{"items": ['
        while True:
            await asyncio.sleep(0.05)
            yield b" "

    return StreamingResponse(forever(), media_type="application/json")


async def test_a_server_trickling_bytes_is_cut_off_by_the_deadline() -> None:
    app = Starlette(routes=[Route("/v1/activities", trickle)])
    with sample_server(app, "trickling-upstream") as url:
        started = time.monotonic()
        client_settings = settings(base_url=url, timeout_s=1.0, deadline_s=0.5, max_retries=1)
        with pytest.raises(UpstreamError, match=r"within 0\.5 s"):
            await asyncio.wait_for(collect(client_settings), timeout=15)
        # two attempts of 0.5 s each, however long the server would go on
        assert time.monotonic() - started < 3


async def test_an_oversized_page_fails_the_run_and_retires_nothing(
    harvested: Harvester, upstream: SampleUpstream, db: AsyncEngine
) -> None:
    live = await live_count(db)
    lahella_source(harvested).client.max_response_bytes = 20_000
    upstream.records.pop(0)
    report = await harvested.run()
    assert report.status == "failed" and report.retired == 0
    assert "http://sample.test/v1/activities?" in (report.error or "")
    assert "larger than 20000 bytes" in (report.error or "")
    assert await live_count(db) == live


async def test_a_token_refresh_trickling_bytes_is_cut_off_by_the_deadline() -> None:
    async def expired(request: Request) -> JSONResponse:
        return JSONResponse({"error": "Unauthorized"}, status_code=401)

    app = Starlette(
        routes=[
            Route("/v1/activities", expired),
            Route("/api/v1/auth/token", trickle, methods=["POST"]),
        ]
    )
    with sample_server(app, "trickling-token-endpoint") as url:
        started = time.monotonic()
        client_settings = settings(base_url=url, timeout_s=1.0, deadline_s=0.5)
        with pytest.raises(UpstreamError, match=r"auth/token within 0\.5 s"):
            await asyncio.wait_for(collect(client_settings), timeout=15)
        assert time.monotonic() - started < 3


@respx.mock
async def test_a_token_refresh_answer_over_the_cap_fails() -> None:
    respx.get(LIST).mock(return_value=httpx.Response(401))
    padded = {"status": "Success", "padding": "x" * 4096}
    respx.post(f"{BASE}/api/v1/auth/token").mock(return_value=httpx.Response(200, json=padded))
    with pytest.raises(UpstreamError, match="auth/token is larger than 1024 bytes"):
        await collect(settings(max_response_bytes=1024))
