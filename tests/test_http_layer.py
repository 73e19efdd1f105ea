"""The response cache stays within its byte budget and computes a miss once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from lahella_bridge.http_layer import CachedResponse, HttpLayer, ResponseCache, VersionProbe


def entry(size: int) -> CachedResponse:
    return CachedResponse(200, [], b"x" * size, b'"e"', 0.0)


def test_cache_evicts_oldest_entries_to_stay_within_its_byte_budget() -> None:
    cache = ResponseCache(max_entries=100, max_bytes=1000, max_entry_bytes=600, ttl_s=1e12)
    for n in range(5):
        cache.put((n,), entry(300))
    assert cache.size <= 1000
    assert cache.get((0,)) is None and cache.get((4,)) is not None
    cache.put(("big",), entry(700))  # over the per-entry limit: not cached at all
    assert cache.get(("big",)) is None and cache.size <= 1000
    cache.put((4,), entry(100))  # replacing an entry releases its old size
    assert cache.size == sum(len(e.body) for e in cache._entries.values())


async def test_identical_misses_at_the_same_time_are_computed_once() -> None:
    calls = 0

    async def slow_feed(scope: Any, receive: Any, send: Any) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": f"feed {calls}".encode()})

    async def version() -> int:
        return 1

    layer = HttpLayer(slow_feed, VersionProbe(version), ResponseCache())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=layer), base_url="http://t"
    ) as client:
        same = await asyncio.gather(*(client.get("/v1/events.ics") for _ in range(5)))
        other = await client.get("/v1/events.ics?municipality=564")
    assert [r.text for r in same] == ["feed 1"] * 5
    assert other.text == "feed 2" and calls == 2
