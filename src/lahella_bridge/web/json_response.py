"""The one JSON encoder of responses: orjson, for the bodies FastAPI does not already
serialise with pydantic (routes without a response model, the problem details).

Its output is what Starlette's `JSONResponse` gives for the same content: compact, UTF-8
(non-ASCII not escaped), non-string keys as strings; datetimes, which FastAPI turns into
ISO 8601 strings before any encoder sees them, are written the same way by orjson.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    """A `JSONResponse` encoded by orjson."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
