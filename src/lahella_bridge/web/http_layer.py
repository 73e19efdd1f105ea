"""The ASGI layer in front of the routers: request ids, the base URL of links (an unknown
Host is refused), access logs, metrics, and a response cache keyed by the data version and
that base URL (`response_cache`), which also makes ETags and 304s cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

import structlog
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lahella_bridge import metrics
from lahella_bridge.web.cacheable import cacheable_paths
from lahella_bridge.web.origin import PublicOrigin, base_url_of, unknown_host_problem
from lahella_bridge.web.response_cache import CachedResponse, ResponseCache, VersionProbe

log = structlog.get_logger("lahella_bridge.http")

VARY_HEADERS = (b"accept", b"accept-language", b"accept-encoding")
FOLLOW_TIMEOUT_S = 30.0  # how long a request waits for an identical one being computed
KEPT_ON_304 = (b"etag", b"cache-control", b"vary", b"x-request-id")
SLOW_REQUEST_S = 1.0
# Background recomputations at a time. Entries cached together expire together; run all at
# once, their refreshes held every request of the process for 1-1.7 s once a minute (soak).
REFRESH_CONCURRENCY = 2


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


def _entry(start: Message, body: bytes, since: float) -> CachedResponse:
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
    """`routes`: the app's routes, whose declarations (`web.cacheable`) say which GETs the
    cache may answer; without them (a bare ASGI app) every GET may be cached."""

    def __init__(
        self,
        app: ASGIApp,
        version: VersionProbe,
        cache: ResponseCache,
        origin: PublicOrigin,
        routes: Sequence[BaseRoute] | None = None,
    ) -> None:
        self.app, self.version, self.cache, self.origin = app, version, cache, origin
        self.cacheable = (lambda path: True) if routes is None else cacheable_paths(routes)
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
        cacheable = scope["method"] == "GET" and self.cacheable(scope["path"])
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

        async def capture(message: Message) -> None:
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

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def capture(message: Message) -> None:
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

        async def lifespan_receive() -> Message:
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
