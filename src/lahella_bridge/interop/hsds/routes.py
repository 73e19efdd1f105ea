"""HSDS 3.0 routes over the same tables as /v1 (no second copy).

Every parameter a list takes is declared (parameters.py). A parameter of the HSDS reference
that this service does not implement is a 422 naming it; malformed values get a 400 (422
from the type and length checks) with `{"detail": ...}`; a detail route's 404 comes from
its `existing_*` dependency.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncScalarResult

from lahella_bridge.interop.hsds import render as hsds
from lahella_bridge.interop.hsds.parameters import (
    UNSUPPORTED_ORGANIZATION_DETAIL,
    UNSUPPORTED_ORGANIZATIONS,
    UNSUPPORTED_SERVICE_AT_LOCATIONS,
    UNSUPPORTED_TAXONOMIES,
    UNSUPPORTED_TAXONOMY_TERMS,
    HsdsError,
    HsdsPage,
    HsdsPageDep,
    Search,
    ServiceFiltersDep,
)
from lahella_bridge.interop.profile import (
    NOT_FOUND,
    PAGED,
    REFUSED,
    JsonFormat,
    ProfileRoute,
    not_found,
    place_channel,
    unsupported,
)
from lahella_bridge.models import Activity, Organisation
from lahella_bridge.store import activity_reads, interop_reads
from lahella_bridge.store.conditions import ActivityFilters
from lahella_bridge.taxonomy import Term
from lahella_bridge.web.deps import DatabaseDep
from lahella_bridge.web.openapi import opens_first_item

__all__ = ["router"]

router = APIRouter(prefix="/hsds", tags=["hsds"], route_class=ProfileRoute)
NDJSON_BATCH = 500


def _hsds_page(contents: list[dict[str, Any]], total: int, paging: HsdsPage) -> JSONResponse:
    """One page of an HSDS list; a page after the last is a 404, as Linked Events answers,
    not an empty page whose `page_number` a client would follow further."""
    if paging.past_the_end(total):
        last = max(1, -(-total // paging.size))
        raise HsdsError(f"Invalid page: the last page is {last}.", 404)
    return JSONResponse(hsds.page(contents, total, paging.page, paging.size))


def _service(row: Any, *, full: bool) -> dict[str, Any]:
    organisation = row.document.organisation
    org = (
        hsds.organization_object(organisation.id, organisation.name, None)
        if organisation and full
        else None
    )
    return hsds.service_object(
        str(row.id),
        row.document,
        row.stages,
        row.themes,
        row.activity_types,
        row.updated_at,
        org,
        full=full,
    )


async def _ndjson(rows: AsyncScalarResult[Activity], full: bool) -> AsyncIterator[bytes]:
    """One service a line, a batch a chunk, from the cursor the route opened: a query the
    database refuses is an error response, not a stream cut off after its 200."""
    async for batch in rows.partitions():
        yield "".join(
            json.dumps(_service(row, full=full), ensure_ascii=False) + "\n" for row in batch
        ).encode()


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise not_found() from None


async def existing_service(service_id: str, db: DatabaseDep) -> Activity:
    row = await activity_reads.get_activity(db, _uuid(service_id))
    if row is None:
        raise not_found()
    return row


async def existing_organization(organization_id: str, db: DatabaseDep) -> Organisation:
    row = await activity_reads.get_organisation(db, _uuid(organization_id))
    if row is None:
        raise not_found()
    return row


async def existing_service_at_location(sal_id: str, db: DatabaseDep) -> tuple[uuid.UUID, Activity]:
    _, rows = await interop_reads.places(db, 1, 0, [_uuid(sal_id)], channel_type=None)
    if not rows:
        raise not_found()
    cid, activity, _ = rows[0]
    return cid, activity


def existing_taxonomy(taxonomy_id: str) -> str:
    if taxonomy_id != str(hsds.TAXONOMY_ID):
        raise not_found()
    return taxonomy_id


def existing_term(term_id: str) -> tuple[str, Term]:
    for kind, _, term in hsds.terms():
        if hsds.term_id(kind, term.slug) == term_id:
            return kind, term
    raise not_found()


ExistingService = Annotated[Activity, Depends(existing_service)]
ExistingOrganization = Annotated[Organisation, Depends(existing_organization)]
ExistingServiceAtLocation = Annotated[
    tuple[uuid.UUID, Activity], Depends(existing_service_at_location)
]
ExistingTaxonomy = Annotated[str, Depends(existing_taxonomy)]
ExistingTerm = Annotated[tuple[str, Term], Depends(existing_term)]


@router.get("/", summary="HSDS API root")
async def hsds_root(request: Request) -> JSONResponse:
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {"version": "3.0", "profile": f"{base}/hsds/profile", "openapi_url": f"{base}/openapi.json"}
    )


@router.get("/profile", summary="The HSDS profile of this API")
async def hsds_profile() -> JSONResponse:
    return JSONResponse(
        {
            "name": "Pohde lahella-bridge HSDS 3.0 profile",
            "description": "NGO and parish activities of North Ostrobothnia from Lähellä.fi. "
            "Texts in Finnish (Swedish name as alternate_name). The county's "
            "service-chain stages, wellbeing themes and activity types are the "
            "taxonomy 'pohde'. Schedules are weekly RRULE-style rows.",
        }
    )


@router.get(
    "/services",
    summary="HSDS services",
    response_model=None,
    responses={
        **PAGED,
        200: {
            **opens_first_item("hsds_service", "service_id", "/contents"),
            "description": "A page of services; with format=ndjson every match, unpaged, "
            "one full service a line.",
            "content": {
                "application/json": {},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
    },
)
async def hsds_services(db: DatabaseDep, wanted: ServiceFiltersDep, paging: HsdsPageDep) -> Any:
    """Page of services; `format=ndjson` streams every match without paging."""
    filters, full = wanted.filters, wanted.full
    if wanted.format == "ndjson":
        if filters is None:
            return StreamingResponse(iter(()), media_type="application/x-ndjson")
        cursor = await activity_reads.stream_activities(db, filters, NDJSON_BATCH)
        return StreamingResponse(_ndjson(cursor, full), media_type="application/x-ndjson")
    if filters is None:
        return _hsds_page([], 0, paging)
    count, rows = await activity_reads.list_activities(db, filters, paging.size, paging.offset)
    contents = [_service(row, full=full) for row in rows]
    if wanted.minimal:
        contents = [
            {k: v for k, v in c.items() if k in ("id", "name", "status", "organization_id")}
            for c in contents
        ]
    return _hsds_page(contents, count, paging)


@router.get("/services/{service_id}", summary="One HSDS service, fully nested", responses=NOT_FOUND)
async def hsds_service(row: ExistingService) -> JSONResponse:
    return JSONResponse(_service(row, full=True))


@router.get(
    "/organizations",
    summary="HSDS organizations",
    responses={
        **PAGED,
        200: opens_first_item("hsds_organization", "organization_id", "/contents"),
    },
    dependencies=[unsupported(UNSUPPORTED_ORGANIZATIONS), JsonFormat],
)
async def hsds_organizations(
    db: DatabaseDep, paging: HsdsPageDep, search: Search = None
) -> JSONResponse:
    count, rows = await activity_reads.list_organisations(db, paging.size, paging.offset, search)
    contents = [hsds.organization_object(str(r.id), r.document.name, r.document) for r in rows]
    return _hsds_page(contents, count, paging)


@router.get(
    "/organizations/{organization_id}",
    summary="One HSDS organization",
    responses={**NOT_FOUND, **REFUSED},
    dependencies=[unsupported(UNSUPPORTED_ORGANIZATION_DETAIL)],
)
async def hsds_organization(row: ExistingOrganization, db: DatabaseDep) -> JSONResponse:
    _, activities = await activity_reads.list_activities(
        db, ActivityFilters(organisation_id=row.id), 100, 0
    )
    body = hsds.organization_object(str(row.id), row.document.name, row.document)
    body["services"] = [_service(a, full=False) for a in activities]
    return JSONResponse(body)


@router.get(
    "/service_at_locations",
    summary="HSDS services at locations",
    responses={**PAGED, 200: opens_first_item("hsds_service_at_location", "sal_id", "/contents")},
    dependencies=[unsupported(UNSUPPORTED_SERVICE_AT_LOCATIONS), JsonFormat],
)
async def hsds_service_at_locations(db: DatabaseDep, paging: HsdsPageDep) -> JSONResponse:
    count, rows = await interop_reads.places(db, paging.size, paging.offset, channel_type=None)
    contents = [
        hsds.service_at_location(
            str(a.id),
            place_channel(a, cid),
            a.document.organisation.id if a.document.organisation else None,
            with_service=_service(a, full=False),
        )
        for cid, a, _ in rows
    ]
    return _hsds_page(contents, count, paging)


@router.get(
    "/service_at_locations/{sal_id}", summary="One HSDS service at a location", responses=NOT_FOUND
)
async def hsds_service_at_location(found: ExistingServiceAtLocation) -> JSONResponse:
    """A service at a location is one of our channels: it keeps the channel's id."""
    cid, activity = found
    return JSONResponse(
        hsds.service_at_location(
            str(activity.id),
            place_channel(activity, cid),
            activity.document.organisation.id if activity.document.organisation else None,
            with_service=_service(activity, full=False),
        )
    )


@router.get(
    "/taxonomies",
    summary="HSDS taxonomies",
    responses={**PAGED, 200: opens_first_item("hsds_taxonomy", "taxonomy_id", "/contents")},
    dependencies=[unsupported(UNSUPPORTED_TAXONOMIES), JsonFormat],
)
async def hsds_taxonomies(paging: HsdsPageDep) -> JSONResponse:
    items = [hsds.taxonomy_object()] if paging.page == 1 else []
    return _hsds_page(items, 1, paging)


@router.get("/taxonomies/{taxonomy_id}", summary="One HSDS taxonomy", responses=NOT_FOUND)
async def hsds_taxonomy(taxonomy_id: ExistingTaxonomy) -> JSONResponse:
    return JSONResponse(hsds.taxonomy_object())


@router.get(
    "/taxonomy_terms",
    summary="HSDS taxonomy terms",
    responses={**PAGED, 200: opens_first_item("hsds_taxonomy_term", "term_id", "/contents")},
    dependencies=[unsupported(UNSUPPORTED_TAXONOMY_TERMS), JsonFormat],
)
async def hsds_taxonomy_terms(
    paging: HsdsPageDep,
    taxonomy_id: Annotated[
        str | None,
        Query(
            description="Only the terms of this taxonomy (there is one: `pohde`).",
            examples=[str(hsds.TAXONOMY_ID)],
        ),
    ] = None,
) -> JSONResponse:
    terms = [
        hsds.term_object(kind, t)
        for kind, _, t in hsds.terms()
        if not taxonomy_id or taxonomy_id == str(hsds.TAXONOMY_ID)
    ]
    return _hsds_page(terms[paging.offset : paging.offset + paging.size], len(terms), paging)


@router.get("/taxonomy_terms/{term_id}", summary="One HSDS taxonomy term", responses=NOT_FOUND)
async def hsds_taxonomy_term(term: ExistingTerm) -> JSONResponse:
    return JSONResponse(hsds.term_object(*term))
