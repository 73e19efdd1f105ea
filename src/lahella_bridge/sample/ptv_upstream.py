"""The bundled sample PTV upstream: an ASGI app with the Open API v11 read paths.

Paths, 1-based `page`, the paging envelopes and bodies follow the reference pack
(`V3VmOpenApiGuidPage`, `V11VmOpenApiServicesWithPaging`, arrays for `list?guids=`).
Like the real API it answers a large `list?guids=` batch with 504. `Faults` injects
the same failures as the Lähellä.fi sample; `archive` and `touch` change records so
incremental sync can be shown.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lahella_bridge.sample.ptv_data import PtvSample, generate_ptv, stamp
from lahella_bridge.sample.upstream import Faults

PREFIX = "/api/v11"
GUID_PAGE_SIZE = 25
AREA_PAGE_SIZE = 10
MAX_GUIDS = 25  # larger `list?guids=` batches get a 504, as on the real API


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _page(items: list[Any], number: int, size: int) -> dict[str, Any]:
    count = max(1, -(-len(items) // size))
    return {
        "pageNumber": number,
        "pageSize": size,
        "pageCount": count,
        "itemList": items[(number - 1) * size : number * size],
    }


class SamplePtvUpstream:
    """State of the sample PTV server: its objects, faults and a log of requests."""

    def __init__(self, sample: PtvSample | None = None, anchor: date | None = None) -> None:
        self.sample = sample or generate_ptv(anchor)
        self.faults = Faults()
        self.max_guids = MAX_GUIDS
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.app = Starlette(
            routes=[
                Route(f"{PREFIX}/Service", self.service_guids),
                Route(f"{PREFIX}/Service/list", self.service_list),
                Route(f"{PREFIX}/Service/list/area/{{area}}/code/{{code}}", self.services_by_area),
                Route(f"{PREFIX}/Service/{{id}}", self.service),
                Route(f"{PREFIX}/ServiceChannel/list", self.channel_list),
                Route(f"{PREFIX}/ServiceChannel/{{id}}", self.channel),
                Route(f"{PREFIX}/Organization/list", self.organization_list),
                Route(f"{PREFIX}/Organization/{{id}}", self.organization),
                Route("/_sample/faults", self.set_faults, methods=["POST"]),
                Route("/_sample/health", self.health),
            ]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    # --- state changes for tests and demos ------------------------------------------

    def archive(self, service_id: str, when: datetime) -> None:
        """Archive a service in PTV: gone from listings, in `status=Archived` after `when`."""
        self.sample.services[service_id] |= {
            "publishingStatus": "Deleted",
            "modified": stamp(when),
        }

    def touch(self, service_id: str, when: datetime, **changes: Any) -> None:
        """Change a service and stamp it modified at `when`."""
        self.sample.services[service_id] |= {**changes, "modified": stamp(when)}

    # --- handlers ----------------------------------------------------------------

    async def _before(self, request: Request) -> Response | None:
        self.requests.append((request.url.path, dict(request.query_params)))
        return await self.faults.injected()

    @staticmethod
    def _page_number(request: Request) -> int:
        value = request.query_params.get("page") or "1"
        return max(1, int(value)) if value.isdigit() else 1

    async def service_guids(self, request: Request) -> Response:
        """`GET /Service`: ids and names modified in [date, dateBefore), by status."""
        if (fault := await self._before(request)) is not None:
            return fault
        try:
            since = _parse_time(request.query_params.get("date"))
            before = _parse_time(request.query_params.get("dateBefore"))
        except ValueError:
            return JSONResponse({"error": "date and dateBefore are ISO date-times"}, 400)
        status = request.query_params.get("status") or "Published"
        wanted = "Deleted" if status == "Archived" else "Published"
        items = []
        for service in self.sample.services.values():
            modified = _parse_time(service["modified"])
            assert modified is not None
            if service["publishingStatus"] != wanted:
                continue
            if (since and modified < since) or (before and modified >= before):
                continue
            items.append({"id": service["id"], "name": service["serviceNames"][0]["value"]})
        return JSONResponse(_page(items, self._page_number(request), GUID_PAGE_SIZE))

    async def services_by_area(self, request: Request) -> Response:
        if (fault := await self._before(request)) is not None:
            return fault
        area, code = request.path_params["area"], request.path_params["code"]
        if area != "Municipality":
            return JSONResponse({"error": f"area {area} is not in the sample"}, 400)
        items = [
            s
            for s in self.sample.services.values()
            if s["publishingStatus"] == "Published"
            and any(a["code"] == code for a in s.get("areas", []))
        ]
        return JSONResponse(_page(items, self._page_number(request), AREA_PAGE_SIZE))

    async def _by_guids(self, request: Request, table: dict[str, dict[str, Any]]) -> Response:
        if (fault := await self._before(request)) is not None:
            return fault
        guids = [g for g in (request.query_params.get("guids") or "").split(",") if g]
        if len(guids) > self.max_guids:
            return JSONResponse({"error": "Gateway Timeout"}, status_code=504)
        return JSONResponse([table[g] for g in guids if g in table])

    async def _by_id(self, request: Request, table: dict[str, dict[str, Any]]) -> Response:
        if (fault := await self._before(request)) is not None:
            return fault
        found = table.get(request.path_params["id"])
        if found is None:
            return JSONResponse({"error": "Not found"}, status_code=404)
        return JSONResponse(found)

    async def service_list(self, request: Request) -> Response:
        return await self._by_guids(request, self.sample.services)

    async def service(self, request: Request) -> Response:
        return await self._by_id(request, self.sample.services)

    async def channel_list(self, request: Request) -> Response:
        return await self._by_guids(request, self.sample.channels)

    async def channel(self, request: Request) -> Response:
        return await self._by_id(request, self.sample.channels)

    async def organization_list(self, request: Request) -> Response:
        return await self._by_guids(request, self.sample.organizations)

    async def organization(self, request: Request) -> Response:
        return await self._by_id(request, self.sample.organizations)

    async def set_faults(self, request: Request) -> Response:
        try:
            self.faults.update(await request.json())
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"faults": self.faults.__dict__})

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "services": len(self.sample.services)})
