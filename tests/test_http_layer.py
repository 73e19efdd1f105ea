"""The response cache stays within its byte budget, computes a miss once and serves the
previous response while it recomputes an expired one."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from lahella_bridge.web.http_layer import HttpLayer
from lahella_bridge.web.origin import PublicOrigin
from lahella_bridge.web.response_cache import CachedResponse, ResponseCache, VersionProbe

ORIGIN = PublicOrigin(None, ["t"])  # the clients' base_url below


def entry(size: int, cost_s: float = 0.0) -> CachedResponse:
    return CachedResponse(200, [], b"x" * size, b'"e"', 0.0, cost_s)


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


def test_cheap_entries_are_evicted_before_expensive_ones_up_to_half_the_budget() -> None:
    cache = ResponseCache(max_entries=100, max_bytes=1000, max_entry_bytes=600, ttl_s=1e12)
    cache.put(("calendar",), entry(300, cost_s=4.0))
    assert cache.get(("calendar",)) is not None  # asked for again: worth keeping
    for n in range(10):
        cache.put((n,), entry(200))
    # Ten one-off pages later the calendar is still there; the oldest pages went.
    assert cache.get(("calendar",)) is not None and cache.get((0,)) is None
    assert cache.size <= 1000 and cache.get((9,)) is not None
    # Expensive entries beyond half the budget: the least recently used of them goes.
    cache.put(("stages",), entry(300, cost_s=2.0))
    assert cache.get(("stages",)) is not None
    cache.put((10,), entry(100))
    assert cache.get(("calendar",)) is None and cache.get(("stages",)) is not None
    assert cache.expensive_size == 300 and cache.size <= 1000
    # Recomputed, the calendar the subscribers ask for keeps its place.
    cache.put(("stages",), entry(300, cost_s=2.0))
    assert cache.expensive_size == 300


def test_a_slow_response_asked_for_once_is_evicted_like_a_cheap_one() -> None:
    """Under overload every one-off page is slow (it queued); such pages must not pin half
    the cache while the views a calendar repeats are evicted."""
    cache = ResponseCache(max_entries=100, max_bytes=1000, max_entry_bytes=600, ttl_s=1e12)
    for n in range(3):
        cache.put(("one-off", n), entry(150, cost_s=0.8))
    for n in range(4):
        cache.put(("view", n), entry(150))
        assert cache.get(("view", n)) is not None
    assert all(cache.get(("view", n)) is not None for n in range(4))
    assert cache.get(("one-off", 0)) is None and cache.expensive_size == 0


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

    layer = HttpLayer(slow_feed, VersionProbe(version), ResponseCache(), ORIGIN)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=layer), base_url="http://t"
    ) as client:
        same = await asyncio.gather(*(client.get("/v1/events.ics") for _ in range(5)))
        other = await client.get("/v1/events.ics?municipality=564")
    assert [r.text for r in same] == ["feed 1"] * 5
    assert other.text == "feed 2" and calls == 2


async def test_an_expired_entry_is_served_while_it_is_recomputed_in_the_background() -> None:
    calls = 0

    async def slow_feed(scope: Any, receive: Any, send: Any) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": f"feed {calls}".encode()})

    async def version() -> int:
        return 1

    layer = HttpLayer(slow_feed, VersionProbe(version), ResponseCache(ttl_s=0.1), ORIGIN)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=layer), base_url="http://t"
    ) as client:
        assert (await client.get("/v1/events.ics")).text == "feed 1"
        await asyncio.sleep(0.15)  # expired
        started = asyncio.get_running_loop().time()
        expired = await client.get("/v1/events.ics")
        meanwhile = await client.get("/v1/events.ics")
        waited = asyncio.get_running_loop().time() - started
        # Both at once, without waiting for the recomputation, which runs in the background.
        assert (expired.text, meanwhile.text) == ("feed 1", "feed 1") and waited < 0.15
        await asyncio.sleep(0.3)
        assert (await client.get("/v1/events.ics")).text == "feed 2" and calls == 2


async def test_a_response_stays_fresh_as_long_as_its_own_max_age_says() -> None:
    """A calendar view (max-age=300) is not recomputed every minute like an unmarked one."""
    calls: dict[str, int] = {"/v1/events": 0, "/v1/stages": 0}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        calls[scope["path"]] += 1
        control = (
            [(b"cache-control", b"public, max-age=1")] if scope["path"] == "/v1/events" else []
        )
        await send({"type": "http.response.start", "status": 200, "headers": control})
        await send({"type": "http.response.body", "body": b"body"})

    async def version() -> int:
        return 1

    layer = HttpLayer(app, VersionProbe(version), ResponseCache(ttl_s=0.05), ORIGIN)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=layer), base_url="http://t"
    ) as client:
        for _ in range(2):
            for path in calls:
                await client.get(path)
            await asyncio.sleep(0.3)  # past the default TTL, within max-age=1
    assert calls == {"/v1/events": 1, "/v1/stages": 2}


async def test_shutdown_cancels_background_recomputations_before_the_app_stops() -> None:
    """A recomputation must not outlive the database pool the app closes at shutdown."""
    calls, running, running_at_shutdown = 0, 0, []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal calls, running
        if scope["type"] == "lifespan":
            while (await receive())["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            running_at_shutdown.append(running)
            await send({"type": "lifespan.shutdown.complete"})
            return
        calls += 1
        running += 1
        try:
            await asyncio.sleep(0 if calls == 1 else 30)  # the recomputation is slow
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"feed"})
        finally:
            running -= 1

    async def version() -> int:
        return 1

    layer = HttpLayer(app, VersionProbe(version), ResponseCache(ttl_s=0.05), ORIGIN)
    messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def record(message: dict[str, Any]) -> None:
        sent.append(message)

    lifespan = asyncio.create_task(layer({"type": "lifespan"}, messages.get, record))
    await messages.put({"type": "lifespan.startup"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=layer), base_url="http://t"
    ) as client:
        await client.get("/v1/events.ics")
        await asyncio.sleep(0.1)  # expired: the next request starts a recomputation
        assert (await client.get("/v1/events.ics")).text == "feed"
        await asyncio.sleep(0.05)
        assert running == 1
    await messages.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(lifespan, 5)
    assert running_at_shutdown == [0] and sent[-1]["type"] == "lifespan.shutdown.complete"


async def test_requests_arriving_together_share_one_read_of_the_data_version() -> None:
    """Once a second the version is read again; 32 busy connections used to start 32 reads."""
    reads = 0

    async def feed(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"feed"})

    async def version() -> int:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.05)  # a query
        return reads

    probe = VersionProbe(version, every_s=0.2)
    layer = HttpLayer(feed, probe, ResponseCache(), ORIGIN)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=layer), base_url="http://t"
    ) as client:
        first = await asyncio.gather(*(client.get("/v1/themes") for _ in range(32)))
        assert reads == 1 and {r.text for r in first} == {"feed"}
        await asyncio.sleep(0.25)  # the version is due to be read again
        await asyncio.gather(*(client.get("/v1/themes") for _ in range(32)))
    assert reads == 2 and await probe.current() == 2
