"""Linked Events v1 and HSDS 3.0 routes over the same tables as /v1 (no second copy).

Linked Events answers unknown query parameters the way the real API does: it ignores
them. Malformed values of known ones get a 400 with `{"detail": ...}`, as Django REST
framework does.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from lahella_bridge import repository
from lahella_bridge.interop import hsds
from lahella_bridge.interop import linkedevents as le
from lahella_bridge.models import Activity
from lahella_bridge.repository import ActivityFilters, EventQuery
from lahella_bridge.schedule import HELSINKI
from lahella_bridge.taxonomy import taxonomy
from lahella_bridge.web.deps import MAX_PAGE, SessionDep, plausible_time
from lahella_bridge.web.openapi import opens_first_item

router = APIRouter(prefix="/linkedevents/v1", tags=["linked events"])
MAX_PAGE_SIZE = 100
MAX_DAYS = 3660
SORTS = {
    "start_time",
    "-start_time",
    "last_modified_time",
    "-last_modified_time",
    "name",
    "-name",
    "end_time",
    "-end_time",
}


class ProfileError(BaseModel):
    """How Linked Events and HSDS answer an error."""

    detail: str


REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"model": ProfileError, "description": "Invalid or unsupported parameter"}
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ProfileError, "description": "Not found"}
}
PAGED = {**REFUSED, 404: {"model": ProfileError, "description": "Invalid page: beyond the last"}}


class LinkedEventsError(Exception):
    def __init__(self, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.detail, self.status = detail, status


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/linkedevents/v1"


def _paging(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", "1"))
        size = int(request.query_params.get("page_size", "20"))
    except ValueError:
        raise LinkedEventsError("page and page_size must be integers") from None
    if not 1 <= page <= MAX_PAGE:
        raise LinkedEventsError("Invalid page.", 404)
    return page, max(1, min(size, MAX_PAGE_SIZE))


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


def _time(value: str, *, end: bool = False) -> datetime:
    """`today`, `now`, a date (start or end of that day in Helsinki) or a timestamp."""
    now = datetime.now(HELSINKI)
    if value == "now":
        return now
    if value == "today":
        day = now.date()
    else:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise LinkedEventsError(f"{value!r} is not a date or time") from None
        try:
            parsed = plausible_time(parsed if parsed.tzinfo else parsed.replace(tzinfo=HELSINKI))
        except ValueError as error:
            raise LinkedEventsError(f"{value!r}: {error}") from None
        if len(value) > 10:
            return parsed
        day = parsed.date()
    moment = datetime.combine(day, time(0), tzinfo=HELSINKI)
    return moment + timedelta(days=1) if end else moment


def _keywords(value: str | None) -> tuple[tuple[str, str], ...]:
    if not value:
        return ()
    parsed = []
    for part in value.split(","):
        found = le.parse_keyword(part)
        if found is None:
            # Linked Events filters by unknown keywords too: they match nothing.
            found = ("stages", f"unknown:{part}")
        parsed.append(found)
    return tuple(parsed)


def _divisions(value: str | None) -> tuple[str, ...]:
    codes = []
    for part in (value or "").split(","):
        name = part.strip().rsplit("kunta:", 1)[-1] if part.strip() else ""
        if name:
            found = taxonomy().municipality_by_name(name)
            codes.append(found.code if found else "000")
    return tuple(codes)


def _bool(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.lower() in ("true", "1", "yes")


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if not value:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(map(math.isfinite, numbers)):
        raise LinkedEventsError("bbox must be four numbers: west,south,east,north")
    west, south, east, north = numbers
    return west, south, east, north


def event_query(request: Request) -> EventQuery:
    params = request.query_params
    start = _time(params["start"]) if params.get("start") else None
    end = _time(params["end"], end=True) if params.get("end") else None
    if params.get("days"):
        try:
            days = int(params["days"])
        except ValueError:
            days = 0
        if not 1 <= days <= MAX_DAYS:
            raise LinkedEventsError(f"days must be a whole number from 1 to {MAX_DAYS}")
        start = start or _time("today")
        end = start + timedelta(days=days)
    sort = params.get("sort", "start_time")
    if sort not in SORTS:
        raise LinkedEventsError(f"Unsupported sort: {sort}")
    language = params.get("language") or params.get("in_language")
    modified_since = params.get("last_modified_since")
    super_event = params.get("super_event")
    if super_event and super_event != "none":
        parsed = le.parse_event_id(super_event)
        super_event = parsed[0] if parsed else "?"
    return EventQuery(
        filters=ActivityFilters(
            q=(params.get("text") or params.get("combined_text") or "").strip() or None,
            language=language or None,
            is_free=_bool(params.get("is_free")),
            bbox=_bbox(params.get("bbox")),
            updated_since=_time(modified_since) if modified_since else None,
        ),
        keywords_any=_keywords(params.get("keyword")),
        keywords_all=_keywords(params.get("keyword_AND")),
        keywords_not=_keywords(params.get("keyword!")),
        municipalities=_divisions(params.get("division")),
        start=start,
        end=end,
        show_deleted=_bool(params.get("show_deleted")) or False,
        super_event=super_event,
        hide_recurring_children=_bool(params.get("hide_recurring_children")) or False,
        sort=sort,
    )


def _include(request: Request) -> set[str]:
    return {part.strip() for part in request.query_params.get("include", "").split(",")}


async def _keyword_counts(session: SessionDep) -> dict[str, int]:
    counts = {
        column: await repository.term_counts(session, column)
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
)
async def le_list_events(request: Request, session: SessionDep) -> JSONResponse:
    """Linked Events' event list: meta + data, its filters, sort, paging and include."""
    page, size = _paging(request)
    query = event_query(request)
    count, rows = await repository.linked_events(session, query, size, (page - 1) * size)
    supers = [a.id for kind, a, _ in rows if kind == "super"]
    stamps = await repository.session_stamps(session, supers) if supers else {}
    include = _include(request)
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
    return _envelope(request, count, page, size, data)


@router.get("/event/{event_id}/", summary="One event (Linked Events v1)", responses=NOT_FOUND)
async def le_get_event(event_id: str, request: Request, session: SessionDep) -> JSONResponse:
    parsed = le.parse_event_id(event_id)
    activity = await repository.activity_by_upstream_id(session, parsed[0]) if parsed else None
    if parsed is None or activity is None:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    stamp = parsed[1]
    occurrence = None
    if activity.deleted_at is not None:
        kind = "deleted"
    elif stamp is not None:
        starts = datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=HELSINKI)
        occurrence = await repository.occurrence_at(session, activity.id, starts)
        if occurrence is None:
            return JSONResponse({"detail": "Not found."}, status_code=404)
        kind = "sub"
    elif activity.occurrence_count == 1:
        kind = "single"
        occurrence = (await repository.next_occurrences(session, [activity.id], 1)).get(
            activity.id, [None]
        )[0]
    else:
        kind = "super"
    sub_stamps = (await repository.session_stamps(session, [activity.id])).get(activity.id, [])
    include = _include(request)
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
)
async def le_list_places(request: Request, session: SessionDep) -> JSONResponse:
    page, size = _paging(request)
    count, rows = await repository.places(session, size, (page - 1) * size)
    base = _base(request)
    data = [le.place_object(base, _place_channel(a, cid), n, a.updated_at) for cid, a, n in rows]
    if page == 1:
        data.insert(0, le.place_object(base, INTERNET, 0, None))
    return _envelope(request, count + 1, page, size, data[:size])


@router.get("/place/{place_id}/", summary="One place (Linked Events v1)", responses=NOT_FOUND)
async def le_get_place(place_id: str, request: Request, session: SessionDep) -> JSONResponse:
    if place_id == le.INTERNET_PLACE:
        return JSONResponse(le.place_object(_base(request), INTERNET, 0, None))
    try:
        channel_id = uuid.UUID(place_id.removeprefix(f"{le.DATA_SOURCE}:"))
    except ValueError:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    _, rows = await repository.places(session, 1, 0, [channel_id])
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
)
async def le_list_keywords(request: Request, session: SessionDep) -> JSONResponse:
    page, size = _paging(request)
    counts = await _keyword_counts(session)
    text = request.query_params.get("text", "").casefold()
    keywords = [
        (kid, term)
        for kid, _, term in le.all_keywords()
        if not text or any(text in label.casefold() for label in term.labels.values())
    ]
    chosen = keywords[(page - 1) * size : page * size]
    data = [
        le.keyword_object(_base(request), kid, term, counts.get(kid, 0)) for kid, term in chosen
    ]
    return _envelope(request, len(keywords), page, size, data)


@router.get("/keyword/{keyword_id}/", summary="One keyword (Linked Events v1)", responses=NOT_FOUND)
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
)
async def le_list_organizations(request: Request, session: SessionDep) -> JSONResponse:
    page, size = _paging(request)
    count, rows = await repository.list_organisations(session, size, (page - 1) * size)
    data = [
        le.organization_object(_base(request), str(r.id), r.document, r.updated_at) for r in rows
    ]
    return _envelope(request, count, page, size, data)


@router.get(
    "/organization/{organization_id}/",
    summary="One organisation (Linked Events v1)",
    responses=NOT_FOUND,
)
async def le_get_organization(
    organization_id: str, request: Request, session: SessionDep
) -> JSONResponse:
    try:
        org_id = uuid.UUID(organization_id.removeprefix(f"{le.DATA_SOURCE}:"))
    except ValueError:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    row = await repository.get_organisation(session, org_id)
    if row is None:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    return JSONResponse(
        le.organization_object(_base(request), str(row.id), row.document, row.updated_at)
    )


@router.get(
    "/language/",
    summary="Languages (Linked Events v1)",
    responses={200: opens_first_item("le_get_language", "code", "/data")},
)
async def le_list_languages(request: Request) -> JSONResponse:
    data = [le.language_object(_base(request), code) for code in ("fi", "sv", "en")]
    return _envelope(request, len(data), 1, MAX_PAGE_SIZE, data)


@router.get("/language/{code}/", summary="One language (Linked Events v1)", responses=NOT_FOUND)
async def le_get_language(code: str, request: Request) -> JSONResponse:
    if code not in ("fi", "sv", "en"):
        return JSONResponse({"detail": "Not found."}, status_code=404)
    return JSONResponse(le.language_object(_base(request), code))


hsds_router = APIRouter(prefix="/hsds", tags=["hsds"])
HSDS_MAX_PER_PAGE = 100
NDJSON_BATCH = 500


class HsdsError(LinkedEventsError):
    """HSDS answers errors with a detail too."""


def _hsds_paging(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", "1"))
        size = int(request.query_params.get("per_page", "20"))
    except ValueError:
        raise HsdsError("page and per_page must be integers") from None
    if page < 1 or size < 1:
        raise HsdsError("page and per_page start at 1")
    if page > MAX_PAGE:
        raise HsdsError(f"page may be at most {MAX_PAGE}")
    return page, min(size, HSDS_MAX_PER_PAGE)


def _term_filters(request: Request) -> dict[str, str] | None:
    """taxonomy_term_id / taxonomy_id as stage, theme and activity type filters."""
    filters: dict[str, str] = {}
    term = request.query_params.get("taxonomy_term_id")
    if term:
        found = next(
            (
                (column, t.slug)
                for kind, column, t in hsds.terms()
                if hsds.term_id(kind, t.slug) == term
            ),
            None,
        )
        if found is None:
            return None
        filters[
            {"stages": "stage", "themes": "theme", "activity_types": "activity_type"}[found[0]]
        ] = found[1]
    taxonomy_id = request.query_params.get("taxonomy_id")
    if taxonomy_id and taxonomy_id != str(hsds.TAXONOMY_ID):
        return None
    return filters


def _hsds_filters(request: Request) -> ActivityFilters | None:
    terms = _term_filters(request)
    if terms is None:
        return None
    params = request.query_params
    organisation = None
    if params.get("organization_id"):
        try:
            organisation = uuid.UUID(params["organization_id"])
        except ValueError:
            raise HsdsError("organization_id must be a UUID") from None
    modified = None
    if params.get("modified_after"):
        modified = _time(params["modified_after"])
    return ActivityFilters(
        q=(params.get("search") or "").strip() or None,
        organisation_id=organisation,
        updated_since=modified,
        stage=terms.get("stage"),
        theme=terms.get("theme"),
        activity_type=terms.get("activity_type"),
    )


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


async def _ndjson(
    session: SessionDep, filters: ActivityFilters, full: bool, rows: Sequence[Activity]
) -> AsyncIterator[bytes]:
    """Streams from the first batch on; the route read that one, so that a query the
    database refuses is an error response and not a stream cut off after its 200."""
    offset = 0
    while rows:
        for row in rows:
            yield (json.dumps(_service(row, full=full), ensure_ascii=False) + "\n").encode()
        if len(rows) < NDJSON_BATCH:
            return
        offset += len(rows)
        _, rows = await repository.list_activities(session, filters, NDJSON_BATCH, offset)


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
    responses={**REFUSED, 200: opens_first_item("hsds_service", "service_id", "/contents")},
)
async def hsds_services(request: Request, session: SessionDep) -> Any:
    """Page of services; `format=ndjson` streams every match without paging."""
    filters = _hsds_filters(request)
    full = _bool(request.query_params.get("full")) or False
    if request.query_params.get("format") == "ndjson":
        if filters is None:
            return StreamingResponse(iter(()), media_type="application/x-ndjson")
        _, first = await repository.list_activities(session, filters, NDJSON_BATCH, 0)
        return StreamingResponse(
            _ndjson(session, filters, full, first), media_type="application/x-ndjson"
        )
    page, size = _hsds_paging(request)
    if filters is None:
        return JSONResponse(hsds.page([], 0, page, size))
    count, rows = await repository.list_activities(session, filters, size, (page - 1) * size)
    minimal = _bool(request.query_params.get("minimal")) or False
    contents = [_service(row, full=full) for row in rows]
    if minimal:
        contents = [
            {k: v for k, v in c.items() if k in ("id", "name", "status", "organization_id")}
            for c in contents
        ]
    return JSONResponse(hsds.page(contents, count, page, size))


@hsds_router.get(
    "/services/{service_id}", summary="One HSDS service, fully nested", responses=NOT_FOUND
)
async def hsds_service(service_id: str, session: SessionDep) -> JSONResponse:
    try:
        row = await repository.get_activity(session, uuid.UUID(service_id))
    except ValueError:
        row = None
    if row is None:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    return JSONResponse(_service(row, full=True))


@hsds_router.get(
    "/organizations",
    summary="HSDS organizations",
    responses={
        **REFUSED,
        200: opens_first_item("hsds_organization", "organization_id", "/contents"),
    },
)
async def hsds_organizations(request: Request, session: SessionDep) -> JSONResponse:
    page, size = _hsds_paging(request)
    count, rows = await repository.list_organisations(
        session, size, (page - 1) * size, request.query_params.get("search")
    )
    return JSONResponse(
        hsds.page(
            [hsds.organization_object(str(r.id), r.document) for r in rows], count, page, size
        )
    )


@hsds_router.get(
    "/organizations/{organization_id}", summary="One HSDS organization", responses=NOT_FOUND
)
async def hsds_organization(organization_id: str, session: SessionDep) -> JSONResponse:
    try:
        row = await repository.get_organisation(session, uuid.UUID(organization_id))
    except ValueError:
        row = None
    if row is None:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    _, activities = await repository.list_activities(
        session, ActivityFilters(organisation_id=row.id), 100, 0
    )
    body = hsds.organization_object(str(row.id), row.document)
    body["services"] = [_service(a, full=False) for a in activities]
    return JSONResponse(body)


@hsds_router.get(
    "/service_at_locations",
    summary="HSDS services at locations",
    responses={**REFUSED, 200: opens_first_item("hsds_service_at_location", "sal_id", "/contents")},
)
async def hsds_service_at_locations(request: Request, session: SessionDep) -> JSONResponse:
    page, size = _hsds_paging(request)
    count, rows = await repository.places(session, size, (page - 1) * size, channel_type=None)
    contents = [
        hsds.service_at_location(
            str(a.id),
            _place_channel(a, cid),
            (a.document.get("organisation") or {}).get("id"),
            with_service=_service(a, full=False),
        )
        for cid, a, _ in rows
    ]
    return JSONResponse(hsds.page(contents, count, page, size))


@hsds_router.get(
    "/service_at_locations/{sal_id}", summary="One HSDS service at a location", responses=NOT_FOUND
)
async def hsds_service_at_location(sal_id: str, session: SessionDep) -> JSONResponse:
    """A service at a location is one of our channels: it keeps the channel's id."""
    try:
        channel_id = uuid.UUID(sal_id)
    except ValueError:
        return JSONResponse({"detail": "Not found."}, status_code=404)
    _, rows = await repository.places(session, 1, 0, [channel_id], channel_type=None)
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
    responses={**REFUSED, 200: opens_first_item("hsds_taxonomy", "taxonomy_id", "/contents")},
)
async def hsds_taxonomies(request: Request) -> JSONResponse:
    page, size = _hsds_paging(request)
    items = [hsds.taxonomy_object()] if page == 1 else []
    return JSONResponse(hsds.page(items, 1, page, size))


@hsds_router.get("/taxonomies/{taxonomy_id}", summary="One HSDS taxonomy", responses=NOT_FOUND)
async def hsds_taxonomy(taxonomy_id: str) -> JSONResponse:
    if taxonomy_id != str(hsds.TAXONOMY_ID):
        return JSONResponse({"detail": "Not found."}, status_code=404)
    return JSONResponse(hsds.taxonomy_object())


@hsds_router.get(
    "/taxonomy_terms",
    summary="HSDS taxonomy terms",
    responses={**REFUSED, 200: opens_first_item("hsds_taxonomy_term", "term_id", "/contents")},
)
async def hsds_taxonomy_terms(request: Request) -> JSONResponse:
    page, size = _hsds_paging(request)
    wanted = request.query_params.get("taxonomy_id")
    terms = [
        hsds.term_object(kind, t)
        for kind, _, t in hsds.terms()
        if not wanted or wanted == str(hsds.TAXONOMY_ID)
    ]
    return JSONResponse(hsds.page(terms[(page - 1) * size : page * size], len(terms), page, size))


@hsds_router.get("/taxonomy_terms/{term_id}", summary="One HSDS taxonomy term", responses=NOT_FOUND)
async def hsds_taxonomy_term(term_id: str) -> JSONResponse:
    for kind, _, term in hsds.terms():
        if hsds.term_id(kind, term.slug) == term_id:
            return JSONResponse(hsds.term_object(kind, term))
    return JSONResponse({"detail": "Not found."}, status_code=404)
