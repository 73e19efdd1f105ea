"""Linked Events v1 and HSDS 3.0 routes over the same tables as /v1 (no second copy).

Every parameter a list takes is declared (interop/*_parameters.py), so generated clients
can send it. A parameter of the Linked Events or HSDS reference that this service does not
implement is a 422 naming it; any other unknown parameter is ignored, as the real Linked
Events does. Malformed values get a 400 (422 from the type and length checks) with
`{"detail": ...}`, as Django REST framework answers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncScalarResult

from lahella_bridge.interop import hsds
from lahella_bridge.interop import linkedevents as le
from lahella_bridge.interop.hsds_parameters import (
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
from lahella_bridge.interop.le_parameters import (
    MAX_LIST,
    UNSUPPORTED_EVENT,
    UNSUPPORTED_KEYWORD,
    UNSUPPORTED_LANGUAGE,
    UNSUPPORTED_ORGANIZATION,
    UNSUPPORTED_PLACE,
    ListPageDep,
    Text,
    event_query,
)
from lahella_bridge.interop.profile import (
    DETAIL,
    NOT_FOUND,
    PAGED,
    REFUSED,
    JsonFormat,
    LinkedEventsError,
    ProfileRoute,
    unsupported,
)
from lahella_bridge.models import Activity
from lahella_bridge.schedule import HELSINKI
from lahella_bridge.store import activity_reads, interop_reads
from lahella_bridge.store.conditions import ActivityFilters
from lahella_bridge.store.interop_reads import EventQuery
from lahella_bridge.web.deps import SessionDep
from lahella_bridge.web.openapi import opens_first_item

__all__ = ["LinkedEventsError", "hsds_router", "router"]

router = APIRouter(prefix="/linkedevents/v1", tags=["linked events"], route_class=ProfileRoute)
EventQueryDep = Annotated[EventQuery, Depends(event_query)]


def _include(
    include: Annotated[
        str | None,
        Query(
            description="Reference fields to embed, comma-separated: `location`, `keywords`.",
            max_length=MAX_LIST,
            examples=["location,keywords"],
        ),
    ] = None,
) -> set[str]:
    return {part.strip() for part in (include or "").split(",")}


IncludeDep = Annotated[set[str], Depends(_include)]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/linkedevents/v1"


def _envelope(
    request: Request, count: int, page: int, size: int, data: list[dict[str, Any]]
) -> JSONResponse:
    if page > 1 and (page - 1) * size >= count:
        return JSONResponse({"detail": "Invalid page."}, status_code=404)
    nxt = str(request.url.include_query_params(page=page + 1)) if page * size < count else None
    prev = str(request.url.include_query_params(page=page - 1)) if page > 1 else None
    return JSONResponse(
        {"meta": {"count": count, "next": nxt, "previous": prev}, "data": data},
        headers={"Cache-Control": "public, max-age=300"},
    )


async def _keyword_counts(session: SessionDep) -> dict[str, int]:
    counts = {
        column: await activity_reads.term_counts(session, column)
        for column in ("stages", "themes", "activity_types")
    }
    return {kid: counts[column].get(term.slug, 0) for kid, column, term in le.all_keywords()}


def _source(kind: str, activity: Any, occurrence: Any, sub_stamps: list[str]) -> le.EventSource:
    starts = occurrence.starts if occurrence is not None else activity.first_starts
    ends = (occurrence.ends or occurrence.starts) if occurrence is not None else activity.last_ends
    return le.EventSource(
        kind=kind,
        upstream_id=activity.upstream_id,
        document=activity.document,
        languages=activity.languages or activity.document.get("content_languages", []),
        stages=activity.stages,
        themes=activity.themes,
        activity_types=activity.activity_types,
        modified=activity.updated_at,
        starts=starts,
        ends=ends,
        channel_id=str(occurrence.channel_id) if occurrence is not None else None,
        sub_stamps=sub_stamps,
    )


@router.get(
    "/event/",
    summary="Events (Linked Events v1)",
    responses={**PAGED, 200: opens_first_item("le_get_event", "event_id", "/data")},
    dependencies=[unsupported(UNSUPPORTED_EVENT)],
)
async def le_list_events(
    request: Request,
    session: SessionDep,
    paging: ListPageDep,
    query: EventQueryDep,
    include: IncludeDep,
) -> JSONResponse:
    """Linked Events' event list: meta + data, its filters, sort, paging and include."""
    count, rows = await interop_reads.linked_events(session, query, paging.size, paging.offset)
    supers = [a.id for kind, a, _ in rows if kind == "super"]
    stamps = await interop_reads.session_stamps(session, supers) if supers else {}
    counts = await _keyword_counts(session) if "keywords" in include else None
    data = [
        le.event_object(
            _base(request),
            _source(kind, a, o, stamps.get(a.id, [])),
            include=include,
            keyword_counts=counts,
        )
        for kind, a, o in rows
    ]
    return _envelope(request, count, paging.page, paging.size, data)


@router.get(
    "/event/{event_id}/",
    summary="One event (Linked Events v1)",
    responses=DETAIL,
    dependencies=[JsonFormat],
)
async def le_get_event(
    event_id: str, request: Request, session: SessionDep, include: IncludeDep
) -> JSONResponse:
    parsed = le.parse_event_id(event_id)
    activity = await interop_reads.activity_by_upstream_id(session, parsed[0]) if parsed else None
    if parsed is None or activity is None:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    stamp = parsed[1]
    occurrence = None
    if activity.deleted_at is not None:
        kind = "deleted"
    elif stamp is not None:
        starts = datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=HELSINKI)
        occurrence = await interop_reads.occurrence_at(session, activity.id, starts)
        if occurrence is None:
            return JSONResponse({"detail": "Not found."}, status_code=404)
        kind = "sub"
    elif activity.occurrence_count == 1:
        kind = "single"
        occurrence = (await activity_reads.next_occurrences(session, [activity.id], 1)).get(
            activity.id, [None]
        )[0]
    else:
        kind = "super"
    sub_stamps = (await interop_reads.session_stamps(session, [activity.id])).get(activity.id, [])
    counts = await _keyword_counts(session) if "keywords" in include else None
    body = le.event_object(
        _base(request),
        _source(kind, activity, occurrence, sub_stamps),
        include=include,
        keyword_counts=counts,
    )
    return JSONResponse(body)


def _place_channel(activity: Any, channel_id: uuid.UUID) -> dict[str, Any]:
    return next(c for c in activity.document["channels"] if c["id"] == str(channel_id))


INTERNET = {"id": "internet", "type": "online"}


@router.get(
    "/place/",
    summary="Places (Linked Events v1)",
    responses={**PAGED, 200: opens_first_item("le_get_place", "place_id", "/data")},
    dependencies=[unsupported(UNSUPPORTED_PLACE)],
)
async def le_list_places(
    request: Request, session: SessionDep, paging: ListPageDep
) -> JSONResponse:
    page, size = paging.page, paging.size
    count, rows = await interop_reads.places(session, size, paging.offset)
    base = _base(request)
    data = [le.place_object(base, _place_channel(a, cid), n, a.updated_at) for cid, a, n in rows]
    if page == 1:
        data.insert(0, le.place_object(base, INTERNET, 0, None))
    return _envelope(request, count + 1, page, size, data[:size])


@router.get(
    "/place/{place_id}/",
    summary="One place (Linked Events v1)",
    responses=DETAIL,
    dependencies=[JsonFormat],
)
async def le_get_place(place_id: str, request: Request, session: SessionDep) -> JSONResponse:
    if place_id == le.INTERNET_PLACE:
        return JSONResponse(le.place_object(_base(request), INTERNET, 0, None))
    try:
        channel_id = uuid.UUID(place_id.removeprefix(f"{le.DATA_SOURCE}:"))
    except ValueError:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    _, rows = await interop_reads.places(session, 1, 0, [channel_id])
    if not rows:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    cid, activity, n = rows[0]
    return JSONResponse(
        le.place_object(_base(request), _place_channel(activity, cid), n, activity.updated_at)
    )


@router.get(
    "/keyword/",
    summary="Keywords: the county's stages, themes, activity types",
    responses={**PAGED, 200: opens_first_item("le_get_keyword", "keyword_id", "/data")},
    dependencies=[unsupported(UNSUPPORTED_KEYWORD)],
)
async def le_list_keywords(
    request: Request, session: SessionDep, paging: ListPageDep, text: Text = None
) -> JSONResponse:
    counts = await _keyword_counts(session)
    wanted = (text or "").casefold()
    keywords = [
        (kid, term)
        for kid, _, term in le.all_keywords()
        if not wanted or any(wanted in label.casefold() for label in term.labels.values())
    ]
    chosen = keywords[paging.offset : paging.offset + paging.size]
    data = [
        le.keyword_object(_base(request), kid, term, counts.get(kid, 0)) for kid, term in chosen
    ]
    return _envelope(request, len(keywords), paging.page, paging.size, data)


@router.get(
    "/keyword/{keyword_id}/",
    summary="One keyword (Linked Events v1)",
    responses=DETAIL,
    dependencies=[JsonFormat],
)
async def le_get_keyword(keyword_id: str, request: Request, session: SessionDep) -> JSONResponse:
    for kid, _, term in le.all_keywords():
        if kid == keyword_id:
            counts = await _keyword_counts(session)
            return JSONResponse(le.keyword_object(_base(request), kid, term, counts.get(kid, 0)))
    return JSONResponse({"detail": "Not found."}, status_code=404)


@router.get(
    "/organization/",
    summary="Organisations (Linked Events v1)",
    responses={**PAGED, 200: opens_first_item("le_get_organization", "organization_id", "/data")},
    dependencies=[unsupported(UNSUPPORTED_ORGANIZATION)],
)
async def le_list_organizations(
    request: Request, session: SessionDep, paging: ListPageDep
) -> JSONResponse:
    count, rows = await activity_reads.list_organisations(session, paging.size, paging.offset)
    data = [
        le.organization_object(_base(request), str(r.id), r.document, r.updated_at) for r in rows
    ]
    return _envelope(request, count, paging.page, paging.size, data)


@router.get(
    "/organization/{organization_id}/",
    summary="One organisation (Linked Events v1)",
    responses=DETAIL,
    dependencies=[JsonFormat],
)
async def le_get_organization(
    organization_id: str, request: Request, session: SessionDep
) -> JSONResponse:
    try:
        org_id = uuid.UUID(organization_id.removeprefix(f"{le.DATA_SOURCE}:"))
    except ValueError:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    row = await activity_reads.get_organisation(session, org_id)
    if row is None:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    return JSONResponse(
        le.organization_object(_base(request), str(row.id), row.document, row.updated_at)
    )


@router.get(
    "/language/",
    summary="Languages (Linked Events v1)",
    responses={**PAGED, 200: opens_first_item("le_get_language", "code", "/data")},
    dependencies=[unsupported(UNSUPPORTED_LANGUAGE)],
)
async def le_list_languages(request: Request, paging: ListPageDep) -> JSONResponse:
    languages = [le.language_object(_base(request), code) for code in ("fi", "sv", "en")]
    data = languages[paging.offset : paging.offset + paging.size]
    return _envelope(request, len(languages), paging.page, paging.size, data)


@router.get(
    "/language/{code}/",
    summary="One language (Linked Events v1)",
    responses=DETAIL,
    dependencies=[JsonFormat],
)
async def le_get_language(code: str, request: Request) -> JSONResponse:
    if code not in ("fi", "sv", "en"):
        return JSONResponse({"detail": "Not found."}, status_code=404)
    return JSONResponse(le.language_object(_base(request), code))


hsds_router = APIRouter(prefix="/hsds", tags=["hsds"], route_class=ProfileRoute)
NDJSON_BATCH = 500


def _hsds_page(contents: list[dict[str, Any]], total: int, paging: HsdsPage) -> JSONResponse:
    """One page of an HSDS list; a page after the last is a 404, as Linked Events answers,
    not an empty page whose `page_number` a client would follow further."""
    if paging.past_the_end(total):
        last = max(1, -(-total // paging.size))
        raise HsdsError(f"Invalid page: the last page is {last}.", 404)
    return JSONResponse(hsds.page(contents, total, paging.page, paging.size))


def _service(row: Any, *, full: bool) -> dict[str, Any]:
    organisation = row.document.get("organisation")
    org = (
        hsds.organization_object(organisation["id"], {"name": organisation["name"]})
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


@hsds_router.get("/", summary="HSDS API root")
async def hsds_root(request: Request) -> JSONResponse:
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {"version": "3.0", "profile": f"{base}/hsds/profile", "openapi_url": f"{base}/openapi.json"}
    )


@hsds_router.get("/profile", summary="The HSDS profile of this API")
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


@hsds_router.get(
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
async def hsds_services(session: SessionDep, wanted: ServiceFiltersDep, paging: HsdsPageDep) -> Any:
    """Page of services; `format=ndjson` streams every match without paging."""
    filters, full = wanted.filters, wanted.full
    if wanted.format == "ndjson":
        if filters is None:
            return StreamingResponse(iter(()), media_type="application/x-ndjson")
        cursor = await activity_reads.stream_activities(session, filters, NDJSON_BATCH)
        return StreamingResponse(_ndjson(cursor, full), media_type="application/x-ndjson")
    if filters is None:
        return _hsds_page([], 0, paging)
    count, rows = await activity_reads.list_activities(session, filters, paging.size, paging.offset)
    contents = [_service(row, full=full) for row in rows]
    if wanted.minimal:
        contents = [
            {k: v for k, v in c.items() if k in ("id", "name", "status", "organization_id")}
            for c in contents
        ]
    return _hsds_page(contents, count, paging)


@hsds_router.get(
    "/services/{service_id}", summary="One HSDS service, fully nested", responses=NOT_FOUND
)
async def hsds_service(service_id: str, session: SessionDep) -> JSONResponse:
    try:
        row = await activity_reads.get_activity(session, uuid.UUID(service_id))
    except ValueError:
        row = None
    if row is None:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    return JSONResponse(_service(row, full=True))


@hsds_router.get(
    "/organizations",
    summary="HSDS organizations",
    responses={
        **PAGED,
        200: opens_first_item("hsds_organization", "organization_id", "/contents"),
    },
    dependencies=[unsupported(UNSUPPORTED_ORGANIZATIONS), JsonFormat],
)
async def hsds_organizations(
    session: SessionDep, paging: HsdsPageDep, search: Search = None
) -> JSONResponse:
    count, rows = await activity_reads.list_organisations(
        session, paging.size, paging.offset, search
    )
    contents = [hsds.organization_object(str(r.id), r.document) for r in rows]
    return _hsds_page(contents, count, paging)


@hsds_router.get(
    "/organizations/{organization_id}",
    summary="One HSDS organization",
    responses={**NOT_FOUND, **REFUSED},
    dependencies=[unsupported(UNSUPPORTED_ORGANIZATION_DETAIL)],
)
async def hsds_organization(organization_id: str, session: SessionDep) -> JSONResponse:
    try:
        row = await activity_reads.get_organisation(session, uuid.UUID(organization_id))
    except ValueError:
        row = None
    if row is None:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    _, activities = await activity_reads.list_activities(
        session, ActivityFilters(organisation_id=row.id), 100, 0
    )
    body = hsds.organization_object(str(row.id), row.document)
    body["services"] = [_service(a, full=False) for a in activities]
    return JSONResponse(body)


@hsds_router.get(
    "/service_at_locations",
    summary="HSDS services at locations",
    responses={**PAGED, 200: opens_first_item("hsds_service_at_location", "sal_id", "/contents")},
    dependencies=[unsupported(UNSUPPORTED_SERVICE_AT_LOCATIONS), JsonFormat],
)
async def hsds_service_at_locations(session: SessionDep, paging: HsdsPageDep) -> JSONResponse:
    count, rows = await interop_reads.places(session, paging.size, paging.offset, channel_type=None)
    contents = [
        hsds.service_at_location(
            str(a.id),
            _place_channel(a, cid),
            (a.document.get("organisation") or {}).get("id"),
            with_service=_service(a, full=False),
        )
        for cid, a, _ in rows
    ]
    return _hsds_page(contents, count, paging)


@hsds_router.get(
    "/service_at_locations/{sal_id}", summary="One HSDS service at a location", responses=NOT_FOUND
)
async def hsds_service_at_location(sal_id: str, session: SessionDep) -> JSONResponse:
    """A service at a location is one of our channels: it keeps the channel's id."""
    try:
        channel_id = uuid.UUID(sal_id)
    except ValueError:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    _, rows = await interop_reads.places(session, 1, 0, [channel_id], channel_type=None)
    if not rows:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    cid, activity, _ = rows[0]
    return JSONResponse(
        hsds.service_at_location(
            str(activity.id),
            _place_channel(activity, cid),
            (activity.document.get("organisation") or {}).get("id"),
            with_service=_service(activity, full=False),
        )
    )


@hsds_router.get(
    "/taxonomies",
    summary="HSDS taxonomies",
    responses={**PAGED, 200: opens_first_item("hsds_taxonomy", "taxonomy_id", "/contents")},
    dependencies=[unsupported(UNSUPPORTED_TAXONOMIES), JsonFormat],
)
async def hsds_taxonomies(paging: HsdsPageDep) -> JSONResponse:
    items = [hsds.taxonomy_object()] if paging.page == 1 else []
    return _hsds_page(items, 1, paging)


@hsds_router.get("/taxonomies/{taxonomy_id}", summary="One HSDS taxonomy", responses=NOT_FOUND)
async def hsds_taxonomy(taxonomy_id: str) -> JSONResponse:
    if taxonomy_id != str(hsds.TAXONOMY_ID):
        return JSONResponse({"detail": "Not found."}, status_code=404)
    return JSONResponse(hsds.taxonomy_object())


@hsds_router.get(
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


@hsds_router.get("/taxonomy_terms/{term_id}", summary="One HSDS taxonomy term", responses=NOT_FOUND)
async def hsds_taxonomy_term(term_id: str) -> JSONResponse:
    for kind, _, term in hsds.terms():
        if hsds.term_id(kind, term.slug) == term_id:
            return JSONResponse(hsds.term_object(kind, term))
    return JSONResponse({"detail": "Not found."}, status_code=404)
