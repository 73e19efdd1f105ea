"""PTV Open API v11 compatible read endpoints under /ptv/v11, mirroring PTV's paths."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from lahella_bridge.errors import InvalidParameter, NotFound
from lahella_bridge.store import ptv_reads
from lahella_bridge.taxonomy import taxonomy
from lahella_bridge.web.cacheable import CacheableRoute
from lahella_bridge.web.deps import MAX_PAGE, DatabaseDep, QueryTime, require_page
from lahella_bridge.web.filters import reject_unknown_parameters
from lahella_bridge.web.openapi import opens_first_item

router = APIRouter(
    prefix="/ptv/v11",
    tags=["ptv"],
    dependencies=[Depends(reject_unknown_parameters)],
    route_class=CacheableRoute,
)
GUID_PAGE_SIZE = 1000
FULL_PAGE_SIZE = 100
MAX_GUIDS = 100
KINDS = ("Service", "ServiceChannel", "Organization")
_GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
GUID_LIST = f"^{_GUID}(,{_GUID})*$"
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1.")]
DateFrom = Annotated[
    QueryTime | None, Query(description="Modified at or after (ISO 8601, years 1900-2999).")
]
DateBefore = Annotated[
    QueryTime | None,
    Query(alias="dateBefore", description="Modified before (ISO 8601, years 1900-2999)."),
]


def _body(body: dict[str, Any], modified: datetime) -> dict[str, Any]:
    return {**body, "modified": modified.isoformat().replace("+00:00", "Z")}


def _name(kind: str, body: dict[str, Any]) -> str | None:
    names = (
        body.get(
            {
                "Service": "serviceNames",
                "ServiceChannel": "serviceChannelNames",
                "Organization": "organizationNames",
            }[kind]
        )
        or []
    )
    return next(
        (n["value"] for n in names if n.get("language") == "fi"),
        names[0]["value"] if names else None,
    )


PtvRow = tuple[uuid.UUID, dict[str, Any], datetime]


async def _with_links(db: DatabaseDep, kind: str, rows: list[PtvRow]) -> list[PtvRow]:
    """Organisations with their live services and those services' areas, as PTV lists
    them; the links are read per request since services come and go without the
    organisation changing."""
    if kind != "Organization" or not rows:
        return rows
    services: dict[uuid.UUID, list[dict[str, Any]]] = {}
    areas: dict[uuid.UUID, dict[str, Any]] = {}
    found = await ptv_reads.services_of_organisations(db, [row[0] for row in rows])
    for organisation_id, service_id, names, service_areas in found:
        services.setdefault(organisation_id, []).append(
            {
                "service": {
                    "id": str(service_id),
                    "name": _name("Service", {"serviceNames": names}),
                },
                "roleType": "Responsible",
                "organizationId": str(organisation_id),
            }
        )
        for area in service_areas or []:
            areas.setdefault(organisation_id, {}).setdefault(f"{area['type']}/{area['code']}", area)
    linked = []
    for organisation_id, body, modified in rows:
        own_areas = sorted(
            areas.get(organisation_id, {}).values(), key=lambda a: (a["type"], a["code"])
        )
        body = {**body, "services": services.get(organisation_id, []), "areas": own_areas}
        if own_areas:
            body["areaType"] = "LimitedType"
        linked.append((organisation_id, body, modified))
    return linked


def _page_count(count: int, size: int) -> int:
    return math.ceil(count / size) if count else 0


def _guid_page(kind: str) -> Any:
    async def guid_page(
        db: DatabaseDep,
        date: DateFrom = None,
        date_before: DateBefore = None,
        page: PageNumber = 1,
    ) -> JSONResponse:
        count, rows = await ptv_reads.ptv_rows(
            db,
            kind,
            since=date,
            before=date_before,
            limit=GUID_PAGE_SIZE,
            offset=(page - 1) * GUID_PAGE_SIZE,
        )
        require_page(page, GUID_PAGE_SIZE, count)
        return JSONResponse(
            {
                "pageNumber": page,
                "pageSize": GUID_PAGE_SIZE,
                "pageCount": _page_count(count, GUID_PAGE_SIZE),
                "itemList": [{"id": str(i), "name": _name(kind, body)} for i, body, _ in rows],
            }
        )

    guid_page.__doc__ = f"PTV `GET /api/v11/{kind}`: ids and names, paged by 1000."
    return guid_page


def _by_id(kind: str) -> Any:
    async def by_id(db: DatabaseDep, id: Annotated[uuid.UUID, Path()]) -> JSONResponse:
        _, rows = await ptv_reads.ptv_rows(db, kind, ids=[id], limit=1)
        rows = await _with_links(db, kind, rows)
        if not rows:
            raise NotFound(f"no {kind} {id}")
        return JSONResponse(_body(rows[0][1], rows[0][2]))

    by_id.__doc__ = f"PTV `GET /api/v11/{kind}/{{id}}`: one full object."
    return by_id


def _by_guids(kind: str) -> Any:
    async def by_guids(
        db: DatabaseDep,
        guids: Annotated[
            str,
            Query(
                description="Comma-separated ids (at most 100).",
                pattern=GUID_LIST,
                examples=[
                    "0c5cc6b6-0bb0-4e8d-9c43-2c2b8e1c0f3a,6a2b4f8e-3f3e-4b43-9b1e-1b1a1b6e8f0d"
                ],
            ),
        ],
    ) -> JSONResponse:
        ids = [uuid.UUID(part) for part in guids.split(",")]  # the pattern checked them
        if len(ids) > MAX_GUIDS:
            raise InvalidParameter(f"guids: give 1 to {MAX_GUIDS} ids")
        _, rows = await ptv_reads.ptv_rows(db, kind, ids=ids, limit=MAX_GUIDS)
        rows = await _with_links(db, kind, rows)
        return JSONResponse([_body(body, modified) for _, body, modified in rows])

    by_guids.__doc__ = f"PTV `GET /api/v11/{kind}/list?guids=`: full objects by id."
    return by_guids


def _by_municipality(kind: str) -> Any:
    async def by_municipality(
        db: DatabaseDep,
        code: Annotated[str, Path(pattern=r"^\d{3}$")],
        page: PageNumber = 1,
    ) -> JSONResponse:
        if code not in taxonomy().municipalities:
            raise NotFound(f"municipality {code} is not in North Ostrobothnia")
        count, rows = await ptv_reads.ptv_rows(
            db,
            kind,
            municipality=code,
            limit=FULL_PAGE_SIZE,
            offset=(page - 1) * FULL_PAGE_SIZE,
        )
        require_page(page, FULL_PAGE_SIZE, count)
        rows = await _with_links(db, kind, rows)
        return JSONResponse(
            {
                "pageNumber": page,
                "pageSize": FULL_PAGE_SIZE,
                "pageCount": _page_count(count, FULL_PAGE_SIZE),
                "itemList": [_body(body, modified) for _, body, modified in rows],
            }
        )

    by_municipality.__doc__ = (
        f"PTV `GET /api/v11/{kind}/list/area/Municipality/code/{{code}}`: full objects, paged."
    )
    return by_municipality


GUID_EXAMPLE = {
    "pageNumber": 1,
    "pageSize": 1000,
    "pageCount": 1,
    "itemList": [
        {"id": "42fe416d-4487-5c07-b307-48d84827b894", "name": "Seniorien kuntosaliryhmä – Oulu"}
    ],
}
OBJECT_EXAMPLE = {
    "id": "42fe416d-4487-5c07-b307-48d84827b894",
    "sourceId": "lahella-activity-128867850000",
    "type": "Service",
    "fundingType": "MarketFunded",
    "areaType": "LimitedType",
    "serviceNames": [{"type": "Name", "language": "fi", "value": "Seniorien kuntosaliryhmä"}],
    "serviceDescriptions": [
        {"type": "Summary", "language": "fi", "value": "Ohjattu kuntosaliryhmä yli 65-vuotiaille."}
    ],
    "languages": ["fi"],
    "publishingStatus": "Published",
    "modified": "2026-11-25T19:30:00Z",
}


def _example(value: Any) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {"application/json": {"example": value}}}}


for _kind in KINDS:
    router.add_api_route(
        f"/{_kind}",
        _guid_page(_kind),
        methods=["GET"],
        name=f"ptv_{_kind.lower()}_guids",
        summary=f"{_kind} ids",
        responses={
            200: {
                **_example(GUID_EXAMPLE)[200],
                **opens_first_item(f"ptv_{_kind.lower()}", "id", "/itemList"),
            }
        },
    )
    router.add_api_route(
        f"/{_kind}/list",
        _by_guids(_kind),
        methods=["GET"],
        name=f"ptv_{_kind.lower()}_list",
        summary=f"{_kind} objects by id",
        responses=_example([OBJECT_EXAMPLE]),
    )
    router.add_api_route(
        f"/{_kind}/list/area/Municipality/code/{{code}}",
        _by_municipality(_kind),
        methods=["GET"],
        name=f"ptv_{_kind.lower()}_by_municipality",
        summary=f"{_kind} objects in a municipality",
        responses=_example(
            {"pageNumber": 1, "pageSize": 100, "pageCount": 1, "itemList": [OBJECT_EXAMPLE]}
        ),
    )
    router.add_api_route(
        f"/{_kind}/{{id}}",
        _by_id(_kind),
        methods=["GET"],
        name=f"ptv_{_kind.lower()}",
        summary=f"One {_kind}",
        responses=_example(OBJECT_EXAMPLE),
    )
