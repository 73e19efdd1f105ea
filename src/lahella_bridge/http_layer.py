"""The ASGI layer in front of the routers: request ids, the base URL of links (an unknown
Host is refused), access logs, metrics, and a response cache keyed by the data version and
that base URL, which also makes ETags and 304s cheap.

The data changes only when a harvest commits a batch (bumping `data_version`), so a
cached body stays right until the version moves; entries also expire after a minute so
"from now" windows do not go stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from lahella_bridge import metrics
from lahella_bridge.web.origin import PublicOrigin, base_url_of, unknown_host_problem

log = structlog.get_logger("lahella_bridge.http")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

CACHEABLE_PREFIXES = ("/v1/", "/ptv/", "/linkedevents/", "/hsds", "/embed/")
VARY_HEADERS = (b"accept", b"accept-language", b"accept-encoding")
FOLLOW_TIMEOUT_S = 30.0  # how long a request waits for an identical one being computed
KEPT_ON_304 = (b"etag", b"cache-control", b"vary", b"x-request-id")
# A response that took this long to compute (a town's calendar: seconds) and was asked for
# again is evicted only after the cheap ones, while such responses fill at most half of the
# cache. Asked for again: under overload every one-off page takes this long (queueing), and
# such pages pinned half the cache while the views the calendar repeats were evicted.
EXPENSIVE_S = 0.5
SLOW_REQUEST_S = 1.0
# Background recomputations at a time. Entries cached together expire together; run all at
# once, their refreshes held every request of the process for 1-1.7 s once a minute (soak).
REFRESH_CONCURRENCY = 2


@dataclass
class CachedResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes
    stored_at: float
    cost_s: float = 0.0  # how long it took to compute
    reused: bool = False  # served from the cache at least once
    fresh_s: float | None = None  # the response's own Cache-Control max-age

    @property
    def expensive(self) -> bool:
        return self.cost_s >= EXPENSIVE_S and self.reused


class ResponseCache:
    """An LRU of successful GET responses, bounded in entries and in bytes, that keeps
    expensive responses over cheap ones: many one-off list pages must not push out the
    calendar feed that every subscriber asks for and that takes seconds to rebuild."""

    def __init__(
        self,
        max_entries: int = 2048,
        max_bytes: int = 64 * 2**20,
        max_entry_bytes: int = 8 * 2**20,
        ttl_s: float = 60.0,
    ) -> None:
        self.max_entries, self.max_bytes, self.ttl_s = max_entries, max_bytes, ttl_s
        self.max_entry_bytes = max_entry_bytes
        self.size = 0
        self.expensive_size = 0
        self._entries: OrderedDict[tuple[Any, ...], CachedResponse] = OrderedDict()

    def get(self, key: tuple[Any, ...], *, stale_ok: bool = False) -> CachedResponse | None:
        """A fresh entry; with `stale_ok` also one past its freshness. The key holds the data
        version, so an entry goes out of date only for windows relative to now: it is fresh
        as long as its own max-age lets any HTTP cache keep it (`ttl_s` without one). With
        one TTL for all, the 420 views of a calendar were all recomputed every minute."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        fresh_s = self.ttl_s if entry.fresh_s is None else entry.fresh_s
        if not stale_ok and time.monotonic() - entry.stored_at > fresh_s:
            return None
        self._entries.move_to_end(key)
        if not entry.reused:
            entry.reused = True
            if entry.expensive:
                self.expensive_size += len(entry.body)
        return entry

    def put(self, key: tuple[Any, ...], entry: CachedResponse) -> None:
        if len(entry.body) > self.max_entry_bytes:
            return  # a huge body (a full calendar, say) would evict everything else
        if (previous := self._entries.get(key)) is not None:
            entry.reused = previous.reused  # a recomputed calendar is still asked for
        self._remove(key)
        self._entries[key] = entry
        self.size += len(entry.body)
        if entry.expensive:
            self.expensive_size += len(entry.body)
        while len(self._entries) > self.max_entries or self.size > self.max_bytes:
            self._remove(self._victim())

    def _victim(self) -> tuple[Any, ...]:
        """The least recently used cheap entry; the least recently used expensive one
        while expensive entries fill more than half the cache."""
        over_half = self.expensive_size > self.max_bytes // 2
        return next(
            (k for k, e in self._entries.items() if e.expensive == over_half),
            next(iter(self._entries)),
        )

    def _remove(self, key: tuple[Any, ...]) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.size -= len(entry.body)
            if entry.expensive:
                self.expensive_size -= len(entry.body)


class VersionProbe:
    """The current data version, read at most once a second (None: database down).

    One read at a time: requests arriving while it runs wait for that read instead of each
    starting its own (32 busy connections queued 32 identical queries once a second, which
    was most of a cached page's p99).
    """

    def __init__(self, read: Callable[[], Awaitable[int]], every_s: float = 1.0) -> None:
        self._read, self._every_s = read, every_s
        self._value: int | None = None
        self._at = 0.0
        self._reading: asyncio.Task[None] | None = None

    async def current(self) -> int | None:
        if time.monotonic() - self._at > self._every_s:
            if self._reading is None:
                self._reading = asyncio.create_task(self._refresh())
            # Shielded: a caller that goes away does not cancel the others' read.
            await asyncio.shield(self._reading)
        return self._value

    async def _refresh(self) -> None:
        try:
            self._value = await self._read()
        except Exception:
            self._value = None
        finally:
            self._at = time.monotonic()
            self._reading = None


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


def _etag_matches(scope: Scope, etag: bytes) -> bool:
    wanted = _header(scope, b"if-none-match")
    return bool(wanted) and (
        wanted.strip() == b"*" or etag in [t.strip() for t in wanted.split(b",")]
    )


def _entry(start: dict[str, Any], body: bytes, since: float) -> CachedResponse:
    """A response as the cache keeps it, with its ETag (a digest of the body) and what it
    cost to compute (from `since`, a monotonic time)."""
    etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'
    headers = [(k, v) for k, v in start["headers"] if k.lower() not in (b"content-length", b"etag")]
    headers.append((b"etag", etag))
    now = time.monotonic()
    control = next((v for k, v in headers if k.lower() == b"cache-control"), b"")
    max_age = re.search(rb"max-age=(\d+)", control)
    fresh_s = float(max_age[1]) if max_age else None
    return CachedResponse(start["status"], headers, body, etag, now, now - since, fresh_s=fresh_s)


async def _refuse_host(scope: Scope, send: Send, request_id: bytes) -> int:
    log.warning("http.unknown_host", host=_header(scope, b"host").decode("latin-1")[:100])
    body = unknown_host_problem(scope)
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id),
    ]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return 400


class HttpLayer:
    def __init__(
        self, app: App, version: VersionProbe, cache: ResponseCache, origin: PublicOrigin
    ) -> None:
        self.app, self.version, self.cache, self.origin = app, version, cache, origin
        # Misses being computed: a second request for the same key waits for the first
        # instead of computing it again (a calendar feed takes seconds).
        self._inflight: dict[tuple[Any, ...], asyncio.Event] = {}
        self._refreshing: set[asyncio.Task[None]] = set()
        self._refresh_slots = asyncio.Semaphore(REFRESH_CONCURRENCY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._ending_refreshes(receive), send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id").decode("latin-1")[:100] or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = [500]
        try:
            if (canonical := self.origin.canonical(scope)) is None:
                status[0] = await _refuse_host(scope, send, request_id.encode())
            else:
                await self._handle(canonical, receive, send, request_id.encode(), status)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            metrics.observe_request(scope["method"], route, status[0], elapsed)
            # Slow requests are warnings: operators running at WARNING still see them.
            (log.warning if elapsed >= SLOW_REQUEST_S else log.info)(
                "http.request",
                method=scope["method"],
                path=scope["path"],
                query=scope["query_string"].decode("latin-1"),
                status=status[0],
                ms=round(elapsed * 1000, 1),
            )
            structlog.contextvars.unbind_contextvars("request_id")

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, request_id: bytes, status: list[int]
    ) -> None:
        cacheable = scope["method"] == "GET" and scope["path"].startswith(CACHEABLE_PREFIXES)
        key = None
        if cacheable and (version := await self.version.current()) is not None:
            key = (
                version,
                base_url_of(scope),  # the links in the body are built on it
                scope["path"],
                scope["query_string"],
                *(_header(scope, name) for name in VARY_HEADERS),
            )
            if (hit := await self._cached(scope, key)) is not None:
                status[0] = await self._replay(scope, send, hit, request_id)
                return
        leading = key if key is not None and key not in self._inflight else None
        if leading is not None:
            self._inflight[leading] = asyncio.Event()
        captured: dict[str, Any] = {"body": [], "since": time.monotonic()}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id))
                streaming = any(k.lower() == b"content-type" and b"ndjson" in v for k, v in headers)
                if scope["method"] != "GET" or message["status"] != 200 or streaming:
                    captured["passthrough"] = True
                    await send({**message, "headers": headers})
                    return
                captured["start"] = {**message, "headers": headers}
                return
            if captured.get("passthrough"):
                await send(message)
                return
            captured["body"].append(message.get("body", b""))
            if not message.get("more_body"):
                await self._finish(scope, send, captured, key, status)

        try:
            await self.app(scope, receive, capture)
        finally:
            if leading is not None:
                self._inflight.pop(leading).set()

    async def _cached(self, scope: Scope, key: tuple[Any, ...]) -> CachedResponse | None:
        """The cached response. An expired one is served as it is while it is recomputed
        in the background (stale-while-revalidate: the data version has not moved); a
        miss that another request is computing waits for that result."""
        if (hit := self.cache.get(key)) is not None:
            return hit
        computing = self._inflight.get(key)
        if (stale := self.cache.get(key, stale_ok=True)) is not None:
            if computing is None:
                self._refresh(scope, key)
            return stale
        if computing is None:
            return None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(computing.wait(), FOLLOW_TIMEOUT_S)
        return self.cache.get(key)

    def _refresh(self, scope: Scope, key: tuple[Any, ...]) -> None:
        """Recompute an expired entry with no request waiting for it."""
        self._inflight[key] = asyncio.Event()
        captured: dict[str, Any] = {"body": []}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                captured["start"] = message
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))

        async def run() -> None:
            try:
                async with self._refresh_slots:  # the stale entry is served meanwhile
                    since = time.monotonic()
                    await self.app(dict(scope), receive, capture)
                start = captured.get("start")
                if start is not None and start["status"] == 200:
                    self.cache.put(key, _entry(start, b"".join(captured["body"]), since))
            except Exception:
                log.exception("cache.refresh_failed", path=scope["path"])
            finally:
                self._inflight.pop(key).set()

        task = asyncio.create_task(run())
        self._refreshing.add(task)
        task.add_done_callback(self._refreshing.discard)

    def _ending_refreshes(self, receive: Receive) -> Receive:
        """The lifespan's `receive`: at shutdown, background recomputations are cancelled
        before the app closes the database pool they read from."""

        async def lifespan_receive() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                for task in self._refreshing:
                    task.cancel()
                await asyncio.gather(*self._refreshing, return_exceptions=True)
            return message

        return lifespan_receive

    async def _finish(
        self,
        scope: Scope,
        send: Send,
        captured: dict[str, Any],
        key: tuple[Any, ...] | None,
        status: list[int],
    ) -> None:
        entry = _entry(captured["start"], b"".join(captured["body"]), captured["since"])
        if key is not None:
            self.cache.put(key, entry)
        status[0] = await self._replay(scope, send, entry, None)

    async def _replay(
        self, scope: Scope, send: Send, entry: CachedResponse, request_id: bytes | None
    ) -> int:
        headers = entry.headers
        if request_id is not None:
            headers = [(k, v) for k, v in headers if k != b"x-request-id"]
            headers.append((b"x-request-id", request_id))
        if _etag_matches(scope, entry.etag):
            kept = [(k, v) for k, v in headers if k.lower() in KEPT_ON_304]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return 304
        headers = [*headers, (b"content-length", str(len(entry.body)).encode())]
        await send({"type": "http.response.start", "status": entry.status, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body})
        return entry.status
