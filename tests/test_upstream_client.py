"""The real Lähellä.fi client against respx: every upstream fault it must survive."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from lahella_bridge.upstream.client import (
    ClientSettings,
    LahellaClient,
    UpstreamAuthError,
    UpstreamError,
)

BASE = "https://hallinta.test"
LIST = f"{BASE}/v1/activities"
REFRESH = f"{BASE}/api/v1/auth/token"


def settings(**overrides: Any) -> ClientSettings:
    return ClientSettings(
        base_url=BASE,
        cookies="AUTH_TOKEN_X=a; REFRESH_TOKEN_X=r",
        page_size=2,
        backoff_base_s=0.001,
        backoff_cap_s=0.01,
        max_retries=3,
        **overrides,
    )


def page(keys: list[str], total: int, has_more: bool) -> httpx.Response:
    items = [{"_key": k, "traits": {"translations": {"fi": {"name": k}}}} for k in keys]
    return httpx.Response(200, json={"items": items, "total": total, "hasMore": has_more})


async def collect(client_settings: ClientSettings) -> tuple[list[Any], LahellaClient]:
    async with LahellaClient(client_settings) as client:
        return [item async for item in client.activities()], client


@respx.mock
async def test_pages_until_has_more_is_false_and_dedupes_by_key() -> None:
    respx.get(LIST, params={"skip": "0"}).mock(return_value=page(["1", "2"], 3, True))
    respx.get(LIST, params={"skip": "2"}).mock(return_value=page(["2", "3"], 3, False))
    items, client = await collect(settings())
    assert [i["_key"] for i in items] == ["1", "2", "3"]
    assert client.progress.duplicates == 1 and client.progress.complete


@respx.mock
async def test_sends_the_documented_query_and_identifies_itself() -> None:
    route = respx.get(LIST).mock(return_value=page(["1"], 1, False))
    await collect(settings(groups=["7103010551"]))
    request = route.calls[0].request
    assert request.url.params["groups[0]"] == "7103010551"
    assert request.url.params["limit"] == "2" and request.url.params["total"] == "true"
    assert "lahella-bridge" in request.headers["user-agent"]
    assert "AUTH_TOKEN_X=a" in request.headers["cookie"]


@pytest.mark.parametrize("status", [500, 502, 503])
@respx.mock
async def test_server_errors_are_retried(status: int) -> None:
    respx.get(LIST).mock(side_effect=[httpx.Response(status), page(["1"], 1, False)])
    items, client = await collect(settings())
    assert len(items) == 1 and client.progress.retries == 1


@respx.mock
async def test_429_honours_retry_after() -> None:
    respx.get(LIST).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "0"}), page(["1"], 1, False)]
    )
    items, client = await collect(settings())
    assert len(items) == 1 and client.progress.retries == 1


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("reset"),
        httpx.RemoteProtocolError("connection reset"),
    ],
)
@respx.mock
async def test_timeouts_and_resets_are_retried(error: Exception) -> None:
    respx.get(LIST).mock(side_effect=[error, page(["1"], 1, False)])
    items, _ = await collect(settings())
    assert len(items) == 1


@respx.mock
async def test_malformed_json_is_retried_then_fails_clearly() -> None:
    respx.get(LIST).mock(return_value=httpx.Response(200, text='{"items": [{"_key": "1'))
    with pytest.raises(UpstreamError, match="after retries"):
        await collect(settings())


@respx.mock
async def test_persistent_outage_fails_after_bounded_retries() -> None:
    route = respx.get(LIST).mock(return_value=httpx.Response(503))
    with pytest.raises(UpstreamError):
        await collect(settings())
    assert route.call_count == 4  # the first try and max_retries=3


@respx.mock
async def test_a_lying_has_more_leaves_the_sweep_incomplete() -> None:
    respx.get(LIST).mock(return_value=page(["1", "2"], 10, False))
    items, client = await collect(settings())
    assert len(items) == 2 and not client.progress.complete


@respx.mock
async def test_a_truncated_page_is_followed_by_skip_and_still_completes() -> None:
    respx.get(LIST, params={"skip": "0"}).mock(return_value=page(["1"], 3, True))
    respx.get(LIST, params={"skip": "1"}).mock(return_value=page(["2", "3"], 3, False))
    items, client = await collect(settings())
    assert len(items) == 3 and client.progress.complete


@respx.mock
async def test_401_refreshes_tokens_once_and_retries_with_the_new_ones() -> None:
    listing = respx.get(LIST).mock(side_effect=[httpx.Response(401), page(["1"], 1, False)])
    refresh = respx.post(REFRESH).mock(
        return_value=httpx.Response(
            200, json={"status": "Success"}, headers={"Set-Cookie": "AUTH_TOKEN_X=new; Path=/"}
        )
    )
    items, _ = await collect(settings())
    assert len(items) == 1 and refresh.call_count == 1
    assert json.loads(refresh.calls[0].request.content) == {"grant_type": "refresh_token"}
    assert "AUTH_TOKEN_X=new" in listing.calls.last.request.headers["cookie"]


@respx.mock
async def test_401_after_refresh_fails_with_a_clear_message() -> None:
    respx.get(LIST).mock(return_value=httpx.Response(401))
    respx.post(REFRESH).mock(return_value=httpx.Response(200, json={"status": "Success"}))
    with pytest.raises(UpstreamAuthError, match="401 twice"):
        await collect(settings())


@respx.mock
async def test_refused_refresh_fails_with_a_clear_message() -> None:
    respx.get(LIST).mock(return_value=httpx.Response(401))
    respx.post(REFRESH).mock(return_value=httpx.Response(401))
    with pytest.raises(UpstreamAuthError, match="log in"):
        await collect(settings())


@respx.mock
async def test_an_invalid_record_among_valid_ones_is_passed_on_raw() -> None:
    respx.get(LIST).mock(
        return_value=httpx.Response(
            200,
            json={
                "items": [
                    {"_key": "1", "traits": {}},
                    "garbage",
                    {"_key": "2", "traits": {}, "newField": 1},
                ],
                "total": 3,
                "hasMore": False,
            },
        )
    )
    items, client = await collect(settings())
    assert items[1] == "garbage" and items[2]["newField"] == 1 and client.progress.complete


@respx.mock
async def test_nul_characters_are_dropped_before_anything_stores_them() -> None:
    body = '{"items": [{"_key": "1", "name": "a\\u0000b", "path": "c:\\\\u0000"}], "total": 1}'
    respx.get(LIST).mock(return_value=httpx.Response(200, text=body))
    items, _ = await collect(settings())
    assert items[0]["name"] == "ab" and items[0]["path"] == "c:\\u0000"
