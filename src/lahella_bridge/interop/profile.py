"""What the Linked Events and HSDS profiles share: their error shape, `{"detail": ...}` as
Django REST framework answers, also for the parameter checks FastAPI makes itself, and the
one not-found answer of their detail routes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from lahella_bridge.errors import BridgeError
from lahella_bridge.models import Activity
from lahella_bridge.records import StoredChannel
from lahella_bridge.web.cacheable import CacheableRoute

MAX_TEXT = 200  # as /v1's `q`: a free-text search longer than this is refused


class ProfileError(BaseModel):
    """How Linked Events and HSDS answer an error."""

    detail: str


class LinkedEventsError(BridgeError):
    """An expected failure of a profile request, answered as `{"detail": ...}` (not as the
    problem document of /v1): one handler in app.py renders every one."""

    def __init__(self, detail: str, status: int = 400) -> None:
        super().__init__(detail, status)
        self.detail = detail


def not_found() -> LinkedEventsError:
    """The profiles' 404 of a detail route, raised by its existing_* dependency."""
    return LinkedEventsError("Not found.", 404)


def place_channel(activity: Activity, channel_id: uuid.UUID) -> StoredChannel:
    """The stored channel an activity's place or service-at-location row names."""
    return next(c for c in activity.document.channels if c.id == str(channel_id))


REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"model": ProfileError, "description": "Invalid parameter value"},
    422: {
        "model": ProfileError,
        "description": "A parameter this service does not support, or a value over its limit",
    },
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ProfileError, "description": "Not found"}
}
DETAIL = {**NOT_FOUND, 422: REFUSED[422]}
PAGED = {**REFUSED, 404: {"model": ProfileError, "description": "Invalid page: beyond the last"}}


def _validation_detail(error: RequestValidationError) -> str:
    return "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in error.errors())


class ProfileRoute(CacheableRoute):
    """Answers FastAPI's own parameter checks (types, lengths) in the profile's shape. The
    profiles publish the feeds' data: cacheable like them."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer_in_profile_shape(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                return JSONResponse({"detail": _validation_detail(error)}, status_code=422)

        return answer_in_profile_shape


def unsupported(names: frozenset[str]) -> params.Depends:
    """A route dependency that answers 422 naming each parameter of the profile's reference
    that this service does not implement: a client must not take "ignored" for "matched"."""

    def refuse(request: Request) -> None:
        sent = sorted(names.intersection(request.query_params))
        if sent:
            raise LinkedEventsError(
                f"not supported by this service: {', '.join(sent)} "
                "(see /docs for the parameters it supports)",
                422,
            )

    dependency: params.Depends = Depends(refuse)
    return dependency


def json_format(
    format: Annotated[
        str | None,
        Query(description="Response format: only `json`.", pattern="^json$", examples=["json"]),
    ] = None,
) -> None:
    """DRF's and HSDS' `format`: these lists speak only JSON, anything else is refused."""


JsonFormat = Depends(json_format)
