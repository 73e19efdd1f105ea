"""Every error as one RFC 9457 problem: `type`, `title`, `status`, `detail`, `instance`, and
for refused parameters `errors`, one entry a parameter.

The framework's own answers (unknown path, wrong method, its parameter checks) and the
database's failures go through the same handlers as the service's `BridgeError`s, so a
client parses one shape whichever layer refused the request. The Linked Events and HSDS
profiles keep their own `{"detail": ...}` for the errors their routes raise themselves; a
problem carries `detail` too, so their clients read the framework's 404 and 405 the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException

from lahella_bridge.errors import BridgeError

log = structlog.get_logger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: object,
) -> JSONResponse:
    """The one error body; `instance` is the path the client asked for."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _allow_head(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    """Every GET also answers HEAD (see web.head), so a 405's `Allow` says so."""
    if not headers or "Allow" not in headers:
        return dict(headers) if headers else None
    methods = [m.strip() for m in headers["Allow"].split(",")]
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")
    return {**headers, "Allow": ", ".join(sorted(methods))}


def parameter_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """One entry per refused parameter, in the order the checks found them."""
    return [
        {
            "parameter": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
            "in": str(e["loc"][0]),
            "message": e["msg"],
        }
        for e in exc.errors()
    ]


def add_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(BridgeError)
    async def bridge_error(request: Request, exc: BridgeError) -> JSONResponse:
        return problem(request, exc.status, exc.title, exc.message)

    @app.exception_handler(HTTPException)
    async def framework_error(request: Request, exc: HTTPException) -> JSONResponse:
        detail = {
            404: f"no resource at {request.url.path}",
            405: f"{request.method} is not allowed here; see the Allow header",
        }.get(exc.status_code, str(exc.detail))
        headers = _allow_head(exc.headers)
        return problem(request, exc.status_code, _phrase(exc.status_code), detail, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = parameter_errors(exc)
        detail = "; ".join(f"{e['parameter']}: {e['message']}" for e in errors)
        return problem(request, 422, "Invalid parameter", detail, errors=errors)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(DBAPIError)
    @app.exception_handler(OSError)
    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and _is_data_exception(exc):
            # A value the parameter checks let through but PostgreSQL cannot take (a NUL
            # character in a search, say): the request is at fault, not the database.
            log.warning("database.rejected_value", path=request.url.path, error=str(exc.orig))
            return problem(
                request,
                422,
                "Invalid parameter",
                "a value in the request is not one the database accepts "
                "(a NUL character, or a number or time out of range)",
            )
        log.warning("database.unavailable", error=type(exc).__name__)
        return problem(
            request, 503, "Database unavailable", "the database cannot be reached; retry shortly"
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem(request, 500, _phrase(500), "the service failed; the error is logged")


def _is_data_exception(error: DBAPIError) -> bool:
    """SQLSTATE class 22 (data exception), e.g. a number beyond bigint or a year beyond
    PostgreSQL's range, raised by asyncpg while encoding a parameter or by the server."""
    return str(getattr(error.orig, "sqlstate", "") or "").startswith("22")
