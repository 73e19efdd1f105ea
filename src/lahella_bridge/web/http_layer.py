"""The ASGI layer in front of the routers: request ids, the base URL of links (an unknown
Host is refused), access logs, metrics, and a response cache keyed by the data version and
that base URL (`response_cache`), which also makes ETags and 304s cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
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


# Request ids: a random prefix per process and a counter, 32 hex digits like a UUID's, and
# unique across replicas without a call to the random source per request.
_ID_PREFIX = secrets.token_hex(8)
_id_counter = itertools.count()


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_id_counter):016x}"


def request_id_of(given: bytes) -> str:
    """The request's own X-Request-ID (at most 100 characters), or a new one."""
    return given.decode("latin-1")[:100] or new_request_id()


def cache_key(
    version: int, base_url: tuple[str, bytes], scope: Scope, varied: Sequence[bytes]
) -> tuple[Any, ...]:
    """The response cache's key: the data version, the links' base (the links in the body
    are built on it), the path and query, and the `VARY_HEADERS` values."""
    return (version, base_url, scope["path"], scope["query_string"], *varied)


def observe(scope: Scope, route: str, status: int, elapsed: float, request_id: str) -> None:
    """The request's metrics and access log line (slow requests as warnings: operators
    running at WARNING still see them)."""
    metrics.observe_request(scope["method"], route, status, elapsed)
    level = logging.WARNING if elapsed >= SLOW_REQUEST_S else logging.INFO
    if log.is_enabled_for(level):  # at WARNING, an ordinary request builds no line at all
        (log.warning if level == logging.WARNING else log.info)(
            "http.request",
            request_id=request_id,
            method=scope["method"],
            path=scope["path"],
            query=scope["query_string"].decode("latin-1"),
            status=status,
            ms=round(elapsed * 1000, 1),
        )


def _max_age(cache_control: bytes) -> float | None:
    for directive in cache_control.split(b","):
        name, _, value = directive.strip().partition(b"=")
        if name.lower() == b"max-age" and value.isdigit():
            return float(value)
    return None


def _route_of(scope: Scope) -> str:
    """The template of the route the router picked for `scope`."""
    return str(getattr(scope.get("route"), "path", None) or "unmatched")


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


def _etag_matches(scope: Scope, etag: bytes) -> bool:
    return etag_matches(_header(scope, b"if-none-match"), etag)


def etag_matches(wanted: bytes, etag: bytes) -> bool:
    """Whether an If-None-Match value names `etag` (or any)."""
    return bool(wanted) and (
        wanted.strip() == b"*" or etag in [t.strip() for t in wanted.split(b",")]
    )


def _entry(start: Message, body: bytes, since: float, route: str) -> CachedResponse:
    """A response as the cache keeps it, with its ETag (a digest of the body), what it
    cost to compute (from `since`, a monotonic time) and the route that computed it."""
    etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'
    headers = [(k, v) for k, v in start["headers"] if k.lower() not in (b"content-length", b"etag")]
    headers.append((b"etag", etag))
    now = time.monotonic()
    control = next((v for k, v in headers if k.lower() == b"cache-control"), b"")
    return CachedResponse(
        start["status"],
        headers,
        body,
        etag,
        now,
        now - since,
        fresh_s=_max_age(control),
        route=route,
    )


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


@dataclass
class Outcome:
    """What a request's metrics and access log report: its status and, for a response the
    cache answered, the route that computed it (the router did not run)."""

    status: int = 500
    route: str = ""


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
        request_id = request_id_of(_header(scope, b"x-request-id"))
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        outcome = Outcome()
        canonical = None
        try:
            if (canonical := self.origin.canonical(scope)) is None:
                outcome.status = await _refuse_host(scope, send, request_id.encode())
            else:
                await self._handle(canonical, receive, send, request_id.encode(), outcome)
        finally:
            route = outcome.route or _route_of(canonical or scope)
            elapsed = time.perf_counter() - started
            observe(scope, route, outcome.status, elapsed, request_id)
            structlog.contextvars.unbind_contextvars("request_id")

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, request_id: bytes, outcome: Outcome
    ) -> None:
        cacheable = scope["method"] == "GET" and self.cacheable(scope["path"])
        key = None
        if cacheable and (version := await self.version.current()) is not None:
            varied = [_header(scope, name) for name in VARY_HEADERS]
            key = cache_key(version, base_url_of(scope), scope, varied)
            if (hit := await self._cached(scope, key)) is not None:
                outcome.status = await self._replay(scope, send, hit, request_id)
                outcome.route = hit.route
                return
        leading = key if key is not None and key not in self._inflight else None
        if leading is not None:
            self._inflight[leading] = asyncio.Event()
        captured: dict[str, Any] = {"body": [], "since": time.monotonic()}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome.status = message["status"]
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
                await self._finish(scope, send, captured, key, outcome)

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

        refreshed = dict(scope)

        async def run() -> None:
            try:
                async with self._refresh_slots:  # the stale entry is served meanwhile
                    since = time.monotonic()
                    await self.app(refreshed, receive, capture)
                start = captured.get("start")
                if start is not None and start["status"] == 200:
                    body = b"".join(captured["body"])
                    self.cache.put(key, _entry(start, body, since, _route_of(refreshed)))
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
        outcome: Outcome,
    ) -> None:
        body = b"".join(captured["body"])
        entry = _entry(captured["start"], body, captured["since"], _route_of(scope))
        if key is not None:
            self.cache.put(key, entry)
        outcome.status = await self._replay(scope, send, entry, None)

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
