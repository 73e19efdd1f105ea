"""The base URL that absolute links (`next`, Linked Events `@id`, the embed's script URL)
are built from: `public_base_url` when set, otherwise the request's own Host, but only a
host on the allow-list. Links built from whatever Host a client sends would let one request
put its host into the cached responses that everyone else then gets.

The ASGI layer applies it to the scope before anything reads it, so `request.url`,
`request.base_url` and `url_for` in every route give links on the chosen base.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import Scope

VERDICTS_KEPT = 256  # Host values whose verdict is remembered (any client may send any)


def host_name(host_header: str) -> str:
    """The host of a Host header without its port, lower case ("[::1]" keeps brackets)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class PublicOrigin:
    """Puts the scheme and Host that links are built from into a request's scope."""

    def __init__(self, public_base_url: str | None, allowed_hosts: Iterable[str]) -> None:
        self.public: tuple[str, bytes] | None = None
        if public_base_url:
            parts = urlsplit(public_base_url)
            self.public = (parts.scheme, parts.netloc.encode("latin-1"))
        self.allowed_hosts = frozenset(host_name(h) for h in allowed_hosts)
        self._verdicts: dict[bytes, bool] = {}  # Host header -> allowed, for the last few

    def allows(self, host: bytes) -> bool:
        """Whether links may be built on a Host header's value."""
        verdict = self._verdicts.get(host)
        if verdict is None:
            verdict = host_name(host.decode("latin-1")) in self.allowed_hosts
            if len(self._verdicts) < VERDICTS_KEPT:
                self._verdicts[host] = verdict
        return verdict

    def base_url(self, scheme: str, host: bytes | None) -> tuple[str, bytes] | None:
        """What `base_url_of` gives for the canonical scope of a request with this scheme
        and Host, without building that scope; None for a Host that is not allowed."""
        if self.public is not None:
            return self.public[0], self.public[1].lower()
        if host is None or not self.allows(host):
            return None
        return scheme, host.lower()

    def canonical(self, scope: Scope) -> Scope | None:
        """The scope whose scheme and Host are the links' base; None for a Host that is
        not allowed (no links may be built from it)."""
        if self.public is not None:
            scheme, netloc = self.public
            headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
            return {**scope, "scheme": scheme, "headers": [*headers, (b"host", netloc)]}
        host = next((bytes(v) for k, v in scope["headers"] if k == b"host"), None)
        if host is None or not self.allows(host):
            return None
        return scope


def base_url_of(scope: Scope) -> tuple[str, bytes]:
    """The scheme and Host a canonical scope's links are built from (a cache key part)."""
    host = next((bytes(v) for k, v in scope["headers"] if k == b"host"), b"")
    return scope.get("scheme", "http"), host.lower()


def unknown_host_problem(scope: Scope) -> bytes:
    """The 400 body (RFC 9457) for a Host that is not on the allow-list."""
    host = next((bytes(v) for k, v in scope["headers"] if k == b"host"), b"")
    detail = f"this service does not answer for Host {host.decode('latin-1')[:100]!r}"
    problem = {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": detail}
    return json.dumps(problem).encode()
