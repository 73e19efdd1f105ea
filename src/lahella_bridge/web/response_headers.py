"""Headers every response carries, whichever route (or cache, or error) answered it."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Bodies follow the language (`Accept-Language`) and the format (`Accept`, e.g. JSON-LD)
# on many routes, and the response cache keys every response on both: shared caches must
# too. One rule for all, so that no route forgets it.
VARY = ("Accept", "Accept-Language")


def with_policy_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`headers` with `X-Content-Type-Options: nosniff` and one `Vary` naming `VARY` too
    (merged with the names a route or gzip already put there)."""
    varied: list[str] = []
    kept = []
    for name, value in headers:
        if name.lower() == b"vary":
            varied += [v.strip() for v in value.decode("latin-1").split(",") if v.strip()]
        elif name.lower() != b"x-content-type-options":
            kept.append((name, value))
    known = {v.lower() for v in varied}
    varied += [v for v in VARY if v.lower() not in known]
    return [
        *kept,
        (b"vary", ", ".join(varied).encode("latin-1")),
        (b"x-content-type-options", b"nosniff"),
    ]


class ResponseHeaders:
    """Adds the policy headers to every HTTP response of `app`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = with_policy_headers(list(message.get("headers", [])))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
