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
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException

from lahella_bridge import metrics
from lahella_bridge.errors import BridgeError
from lahella_bridge.web.json_response import OrjsonResponse
from lahella_bridge.web.response_headers import with_policy_headers

log = structlog.get_logger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: object,
) -> OrjsonResponse:
    """The one error body; `instance` is the path the client asked for."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return OrjsonResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


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
    async def bridge_error(request: Request, exc: BridgeError) -> OrjsonResponse:
        return problem(request, exc.status, exc.title, exc.message)

    @app.exception_handler(HTTPException)
    async def framework_error(request: Request, exc: HTTPException) -> OrjsonResponse:
        detail = {
            404: f"no resource at {request.url.path}",
            405: f"{request.method} is not allowed here; see the Allow header",
        }.get(exc.status_code, str(exc.detail))
        headers = _allow_head(exc.headers)
        return problem(request, exc.status_code, _phrase(exc.status_code), detail, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> OrjsonResponse:
        errors = parameter_errors(exc)
        detail = "; ".join(f"{e['parameter']}: {e['message']}" for e in errors)
        return problem(request, 422, "Invalid parameter", detail, errors=errors)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(DBAPIError)
    @app.exception_handler(OSError)
    async def database_error(request: Request, exc: Exception) -> OrjsonResponse:
        refusal = _refusal(exc) if isinstance(exc, DBAPIError) else None
        if refusal is None:
            log.warning("database.unavailable", error=type(exc).__name__)
            detail = "the database cannot be reached; retry shortly"
            return problem(request, 503, "Database unavailable", detail)
        log.warning("database.refused", path=request.url.path, reason=refusal.reason)
        if refusal.reason is not None:
            metrics.QUERIES_REFUSED.labels(refusal.reason).inc()
        detail = refusal.detail.format(timeout_ms=request.app.state.settings.statement_timeout_ms)
        return problem(request, refusal.status, refusal.title, detail)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> OrjsonResponse:
        # Sent by the outermost error layer, past the middleware that adds these headers.
        response = problem(request, 500, _phrase(500), "the service failed; the error is logged")
        for name, value in with_policy_headers([]):
            response.headers[name.decode("latin-1")] = value.decode("latin-1")
        return response


@dataclass(frozen=True)
class Refusal:
    """A query PostgreSQL refused because of what the request asked, not because it is down."""

    status: int
    title: str
    detail: str
    reason: str | None  # the metrics label, for refusals an operator should see


# By SQLSTATE, then by its class (the first two characters).
REFUSALS = {
    # query_canceled: the API's statement_timeout (a request that went away is not answered).
    # 503, not 422: a timeout cannot tell an expensive request from a busy database.
    "57014": Refusal(
        503,
        "Query took too long",
        "the query ran past the {timeout_ms} ms limit; narrow the request (a shorter search, "
        "fewer filters, a smaller window or page) or retry later",
        "statement_timeout",
    ),
    # program_limit_exceeded, e.g. 54001 stack depth: the same request always fails.
    "54": Refusal(
        422,
        "Request too complex",
        "the request asks for more than the database can evaluate (too long or too many "
        "search terms); shorten it",
        "program_limit",
    ),
    # data_exception: a value the parameter checks let through but PostgreSQL cannot take
    # (a NUL character in a search, a number beyond bigint, a year beyond its range).
    "22": Refusal(
        422,
        "Invalid parameter",
        "a value in the request is not one the database accepts "
        "(a NUL character, or a number or time out of range)",
        None,
    ),
}


def _refusal(error: DBAPIError) -> Refusal | None:
    """The request's fault or cost, by SQLSTATE (asyncpg's, raised while encoding a
    parameter or by the server); None means the database itself failed."""
    sqlstate = str(getattr(error.orig, "sqlstate", "") or "")
    return REFUSALS.get(sqlstate) or REFUSALS.get(sqlstate[:2])
