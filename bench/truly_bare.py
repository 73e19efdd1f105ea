"""A truly bare ASGI app: fixed bytes for every request, no framework, no middleware.

The API bench measures it in the same run, on the same uvicorn settings as `lahella-bridge
serve`, as the floor its ratios are read against: `/healthz` through the service's stack
already costs more than this, and a baseline that costs more flatters every ratio.

    uv run python bench/truly_bare.py --port 8001
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

Message = MutableMapping[str, Any]
BODY = b'{"status":"ok"}'
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
    ],
}


async def app(
    scope: Message,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send(START)
    await send({"type": "http.response.body", "body": BODY})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The keywords `lahella-bridge serve` passes (cli.py), so only the app differs.
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, log_config=None, access_log=False, lifespan="on"
    )


if __name__ == "__main__":
    main()
