"""RPDE change feeds page as OpenActive recommends: 500 items a page by default, and every
page but the last (the empty one) cacheable for an hour, however few items it holds."""

from __future__ import annotations

import httpx

from lahella_bridge.harvest import Harvester


async def test_pages_hold_500_items_by_default(
    api: httpx.AsyncClient, harvested: Harvester
) -> None:
    first = (await api.get("/v1/changes/activities")).json()
    explicit = (await api.get("/v1/changes/activities?limit=500")).json()
    assert len(first["items"]) == len(explicit["items"]) == 317  # the whole sample, < 500
    assert "limit=500" in first["next"]


async def test_every_page_but_the_empty_last_one_is_cached_an_hour(
    api: httpx.AsyncClient, harvested: Harvester
) -> None:
    url = "/v1/changes/activities?limit=300"
    pages: list[tuple[int, str]] = []
    for _ in range(50):
        response = await api.get(url)
        body = response.json()
        pages.append((len(body["items"]), response.headers["cache-control"]))
        if not body["items"]:
            break
        url = body["next"]
    *before_last, (last_size, last_cache) = pages
    assert last_size == 0 and last_cache == "public, max-age=8"
    assert 0 < before_last[-1][0] < 300, "the sample should end on a short page"
    for size, cache in before_last:
        assert cache.startswith("public, max-age=")
        assert int(cache.rsplit("=", 1)[1]) >= 3600, (size, cache)
