"""Which sites' pages may read which responses (CORS).

The feeds are open data: any site may read them from its visitors' browsers, without
credentials, so the script widget works on a host site with the default settings. The
admin endpoints never answer another origin. The rest (the OpenAPI document, health) only
the configured origins.
"""

from __future__ import annotations

from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

OPEN_DATA_PREFIXES = ("/v1/", "/ptv/", "/linkedevents/", "/hsds", "/embed/")
ADMIN_PREFIX = "/admin"
READING = {
    "allow_methods": ["GET", "HEAD"],
    "allow_headers": ["If-None-Match", "Accept-Language", "X-Request-ID"],
    "expose_headers": ["ETag", "X-Request-ID"],
    "max_age": 3600,
}


# What of a request the CORS headers of its response depend on (Starlette's
# CORSMiddleware reads the Origin; a preflight is an OPTIONS, never replayed from the cache).
CORS_REQUEST_HEADERS = (b"origin",)


class CrossOrigin:
    """Picks the CORS policy by path: open data to all origins, admin to none."""

    def __init__(self, app: ASGIApp, configured_origins: list[str]) -> None:
        self.app = app
        policy: dict[str, Any] = {**READING, "allow_credentials": False}
        self.open_data = CORSMiddleware(app, allow_origins=["*"], **policy)
        self.configured = (
            CORSMiddleware(app, allow_origins=configured_origins, **policy)
            if configured_origins
            else app
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
        elif scope["path"].startswith(OPEN_DATA_PREFIXES):
            await self.open_data(scope, receive, send)
        else:
            await self.configured(scope, receive, send)
