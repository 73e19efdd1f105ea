"""The outermost layer: a fresh cache hit, or its 304, answered before any other layer runs.

A cache entry holds the response as the layers inside the cache computed it; the final
response also carries what the outer layers add (CORS for the request's Origin, the
policy headers, the request id). Those depend on the request only through
`CORS_REQUEST_HEADERS` and whether its ETag matched, so the final start the whole stack
sent with an entry for one such kind of request is kept with the entry
(`CachedResponse.dressed`) and replayed for the next, with that request's own id. A kind
not seen yet passes the whole stack once (the cache layer inside answers it) and its
final start is kept: the outer layers stay the one place their headers are decided.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lahella_bridge.web.cacheable import cacheable_paths
from lahella_bridge.web.cross_origin import CORS_REQUEST_HEADERS
from lahella_bridge.web.http_layer import (
    VARY_HEADERS,
    cache_key,
    etag_matches,
    observe,
    request_id_of,
)
from lahella_bridge.web.origin import PublicOrigin
from lahella_bridge.web.response_cache import Dressed, ResponseCache, VersionProbe

READ = frozenset({b"host", b"x-request-id", b"if-none-match", *VARY_HEADERS, *CORS_REQUEST_HEADERS})
# Kinds of request whose final start an entry keeps: one per Origin that reads it (the
# sites embedding the widget), bounded since any client may send any Origin.
DRESSED_PER_ENTRY = 16


class CacheFront:
    """Pure ASGI middleware, outermost: sees the request before HEAD becomes GET and the
    response after every other layer added its headers. Shares the cache, the version probe
    and the allowed hosts with `HttpLayer`, which fills the cache."""

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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        read: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in READ and name not in read:  # the first, as the other layers read
                read[name] = value
        version = self.version.known()  # a stale one is read again by HttpLayer
        base = self.origin.base_url(scope.get("scheme", "http"), read.get(b"host"))
        if version is None or base is None or not self.cacheable(scope["path"]):
            await self.app(scope, receive, send)
            return
        key = cache_key(version, base, scope, [read.get(name, b"") for name in VARY_HEADERS])
        cors = tuple(read.get(name) for name in CORS_REQUEST_HEADERS)
        if (entry := self.cache.get(key)) is not None:
            not_modified = etag_matches(read.get(b"if-none-match", b""), entry.etag)
            if (dressed := entry.dressed.get((not_modified, *cors))) is not None:
                request_id = request_id_of(read.get(b"x-request-id", b""))
                headers = list(dressed.headers)
                headers[dressed.request_id_at] = (b"x-request-id", request_id.encode())
                body = b"" if not_modified or scope["method"] == "HEAD" else entry.body
                await send(
                    {"type": "http.response.start", "status": dressed.status, "headers": headers}
                )
                await send({"type": "http.response.body", "body": body})
                observe(
                    scope, entry.route, dressed.status, time.perf_counter() - started, request_id
                )
                return
        starts: list[Message] = []

        async def keep_start(message: Message) -> None:
            if message["type"] == "http.response.start":
                starts.append(message)
            await send(message)

        await self.app(scope, receive, keep_start)
        if starts:
            self._keep_dressed(key, cors, starts[0])

    def _keep_dressed(
        self, key: tuple[object, ...], cors: tuple[object, ...], start: Message
    ) -> None:
        """Keep a final start with the entry it was sent with (its ETag says which)."""
        status, headers = start["status"], tuple(start.get("headers", ()))
        entry = self.cache.peek(key)
        if entry is None or status not in (200, 304) or len(entry.dressed) >= DRESSED_PER_ENTRY:
            return
        names = [name for name, _ in headers]
        if (b"etag", entry.etag) not in headers or names.count(b"x-request-id") != 1:
            return
        dressed = Dressed(status, headers, names.index(b"x-request-id"))
        entry.dressed[(status == 304, *cors)] = dressed
