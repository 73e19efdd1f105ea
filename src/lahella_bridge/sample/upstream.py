"""The bundled sample upstream: an ASGI app in the Lähellä.fi admin API's shape.

Paths, paging (`limit` capped, `skip`, `total`, `hasMore`, `groups[0]`, `text`), cookie
auth and the token refresh endpoint behave as documented; `Faults` injects failures so
the harvester can be tested and demonstrated without the internet.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field, fields
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lahella_bridge.sample.data import generate

AUTH_COOKIE = "AUTH_TOKEN_X"
REFRESH_COOKIE = "REFRESH_TOKEN_X"
SAMPLE_COOKIES = f"{AUTH_COOKIE}=sample-auth-1; {REFRESH_COOKIE}=sample-refresh; EXP_X=9999999999"
PAGE_CAP = 200


@dataclass
class Faults:
    """Failures to inject; tests set them directly or via `POST /_sample/faults`."""

    statuses: list[int] = field(default_factory=list)  # next listing responses, in order
    retry_after: str | None = None
    malformed_json: int = 0  # next N listing responses are cut-off JSON
    has_more_stops_at: int | None = None  # `hasMore` false from this skip on (a lie)
    fail_from_skip: int | None = None  # every page from this skip answers 500
    down: bool = False  # every request answers 503
    expire_auth: bool = False  # the current auth token is refused once
    reject_refresh: bool = False
    repeat_first_page: bool = False  # every page returns the first page, hasMore true
    delay_s: float = 0.0

    def update(self, values: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        for key, value in values.items():
            if key not in names:
                raise ValueError(f"unknown fault {key!r}")
            setattr(self, key, value)

    async def injected(self, skip: int = 0) -> Response | None:
        """The response an injected fault gives instead of the real one, if any."""
        faults = self
        if faults.delay_s:
            await asyncio.sleep(faults.delay_s)
        if faults.down:
            return JSONResponse({"error": "service unavailable"}, status_code=503)
        if faults.statuses:
            status = faults.statuses.pop(0)
            headers = {"Retry-After": faults.retry_after} if faults.retry_after else {}
            return JSONResponse(
                {"error": f"injected {status}"}, status_code=status, headers=headers
            )
        if faults.malformed_json:
            faults.malformed_json -= 1
            return Response('{"items": [{"_key": "1', media_type="application/json")
        if faults.fail_from_skip is not None and skip >= faults.fail_from_skip:
            return JSONResponse({"error": "injected failure"}, status_code=500)
        return None


class SampleUpstream:
    """State of the sample server: its records, tokens and faults."""

    def __init__(self, records: list[dict[str, Any]] | None = None) -> None:
        self.records: list[dict[str, Any]] = generate() if records is None else records
        self.faults = Faults()
        self._tokens = itertools.count(2)
        self.auth_token = "sample-auth-1"
        self.refresh_token = "sample-refresh"
        self.app = Starlette(
            routes=[
                Route("/v1/activities", self.list_activities),
                Route("/v1/activities/{key}", self.get_activity),
                Route("/api/v1/auth/token", self.refresh, methods=["POST"]),
                Route("/_sample/faults", self.set_faults, methods=["POST"]),
                Route("/_sample/health", self.health),
            ]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def _authorised(self, request: Request) -> bool:
        if self.faults.expire_auth:
            self.faults.expire_auth = False
            self.auth_token = f"sample-auth-{next(self._tokens)}-expired"
        return request.cookies.get(AUTH_COOKIE) == self.auth_token

    def _filtered(self, request: Request) -> list[dict[str, Any]]:
        group = request.query_params.get("groups[0]")
        text = (request.query_params.get("text") or "").casefold()
        items = self.records
        if group:
            items = [
                r
                for r in items
                if isinstance(r, dict)
                and (r.get("group") == group or group in r.get("partnerGroups", []))
            ]
        if text:
            items = [r for r in items if text in json.dumps(r, ensure_ascii=False).casefold()]
        return items

    async def list_activities(self, request: Request) -> Response:
        try:
            limit = min(max(int(request.query_params.get("limit", "20")), 1), PAGE_CAP)
            skip = max(int(request.query_params.get("skip", "0")), 0)
        except ValueError:
            return JSONResponse({"error": "limit and skip must be integers"}, status_code=400)
        if (fault := await self.faults.injected(skip)) is not None:
            return fault
        if not self._authorised(request):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        items = self._filtered(request)
        if self.faults.repeat_first_page:
            return JSONResponse({"items": items[:limit], "total": len(items), "hasMore": True})
        page = items[skip : skip + limit]
        has_more = skip + len(page) < len(items)
        if self.faults.has_more_stops_at is not None and skip >= self.faults.has_more_stops_at:
            has_more = False
        body: dict[str, Any] = {"items": page, "hasMore": has_more}
        if request.query_params.get("total") == "true":
            body["total"] = len(items)
        return JSONResponse(body)

    async def get_activity(self, request: Request) -> Response:
        if (fault := await self.faults.injected(0)) is not None:
            return fault
        if not self._authorised(request):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        key = request.path_params["key"]
        for record in self.records:
            if isinstance(record, dict) and record.get("_key") == key:
                return JSONResponse(record)
        return JSONResponse({"error": "Not found"}, status_code=404)

    async def refresh(self, request: Request) -> Response:
        body = await request.body()
        try:
            grant = json.loads(body or b"{}").get("grant_type")
        except ValueError:
            grant = None
        valid = request.cookies.get(REFRESH_COOKIE) == self.refresh_token
        if self.faults.reject_refresh or grant != "refresh_token" or not valid:
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        self.auth_token = f"sample-auth-{next(self._tokens)}"
        response = JSONResponse({"status": "Success"})
        response.set_cookie(AUTH_COOKIE, self.auth_token, httponly=True, samesite="lax")
        response.set_cookie("EXP_X", "9999999999", samesite="lax")
        return response

    async def set_faults(self, request: Request) -> Response:
        try:
            self.faults.update(await request.json())
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"faults": self.faults.__dict__})

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "records": len(self.records)})
