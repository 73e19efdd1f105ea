"""Linked Events v1 routes over the same tables as /v1 (no second copy).

Every parameter a list takes is declared (parameters.py), so generated clients can send it.
A parameter of the Linked Events reference that this service does not implement is a 422
naming it; any other unknown parameter is ignored, as the real Linked Events does. Malformed
values get a 400 (422 from the type and length checks) with `{"detail": ...}`, as Django
REST framework answers; a detail route's 404 comes from its `existing_*` dependency.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from lahella_bridge.interop.linkedevents import render as le
from lahella_bridge.interop.linkedevents.parameters import (
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
    PAGED,
    JsonFormat,
    ProfileRoute,
    not_found,
    place_channel,
    unsupported,
)
from lahella_bridge.models import Activity, Organisation
from lahella_bridge.records import StoredChannel
from lahella_bridge.schedule import HELSINKI
from lahella_bridge.store import activity_reads, interop_reads
from lahella_bridge.store.interop_reads import EventQuery
from lahella_bridge.taxonomy import Term
from lahella_bridge.web.deps import DatabaseDep
from lahella_bridge.web.openapi import opens_first_item

__all__ = ["router"]

router = APIRouter(prefix="/linkedevents/v1", tags=["linked events"], route_class=ProfileRoute)
EventQueryDep = Annotated[EventQuery, Depends(event_query)]
LANGUAGES = ("fi", "sv", "en")
# The one place every online and phone channel shares.
INTERNET = StoredChannel(
    id="internet",
    type="online",
    address=None,
    location=None,
    municipality=None,
    summary={},
    registration={},
    registration_required=None,
    registration_url=None,
    registration_email=None,
    accessibility=[],
    schedule=[],
)


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


async def _keyword_counts(db: DatabaseDep) -> dict[str, int]:
    counts = {
        column: await activity_reads.term_counts(db, column)
        for column in ("stages", "themes", "activity_types")
    }
    return {kid: counts[column].get(term.slug, 0) for kid, column, term in le.all_keywords()}


def _source(kind: str, activity: Any, occurrence: Any, sub_stamps: list[str]) -> le.EventSource:
    starts = occurrence.starts if occurrence is not None else activity.first_starts
    ends = (occurrence.ends or occurrence.starts) if occurrence is not None else activity.last_ends
    return le.EventSource(
        kind=kind,
        upstream_id=activity.upstream_id,
        record=activity.document,
        languages=activity.languages or activity.document.content_languages,
        stages=activity.stages,
        themes=activity.themes,
        activity_types=activity.activity_types,
        modified=activity.updated_at,
        starts=starts,
        ends=ends,
        channel_id=str(occurrence.channel_id) if occurrence is not None else None,
        sub_stamps=sub_stamps,
    )


@dataclass(frozen=True)
class FoundEvent:
    """An event id resolved: which kind of Linked Events event it names, and its rows."""

    kind: str
    activity: Activity
    occurrence: Any


async def existing_event(event_id: str, db: DatabaseDep) -> FoundEvent:
    """The event an id names (an activity, or one session of it by its stamp), else 404."""
    parsed = le.parse_event_id(event_id)
    activity = await interop_reads.activity_by_upstream_id(db, parsed[0]) if parsed else None
    if parsed is None or activity is None:
        raise not_found()
    stamp = parsed[1]
    if activity.deleted_at is not None:
        return FoundEvent("deleted", activity, None)
    if stamp is not None:
        starts = datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=HELSINKI)
        occurrence = await interop_reads.occurrence_at(db, activity.id, starts)
        if occurrence is None:
            raise not_found()
        return FoundEvent("sub", activity, occurrence)
    if activity.occurrence_count == 1:
        nexts = await activity_reads.next_occurrences(db, [activity.id], 1)
        return FoundEvent("single", activity, nexts.get(activity.id, [None])[0])
    return FoundEvent("super", activity, None)


@dataclass(frozen=True)
class FoundPlace:
    channel: StoredChannel
    events: int
    modified: datetime | None


async def existing_place(place_id: str, db: DatabaseDep) -> FoundPlace:
    """The internet place or a stored channel that is a place, else 404."""
    if place_id == le.INTERNET_PLACE:
        return FoundPlace(INTERNET, 0, None)
    try:
        channel_id = uuid.UUID(place_id.removeprefix(f"{le.DATA_SOURCE}:"))
    except ValueError:
        raise not_found() from None
    _, rows = await interop_reads.places(db, 1, 0, [channel_id])
    if not rows:
        raise not_found()
    cid, activity, n = rows[0]
    return FoundPlace(place_channel(activity, cid), n, activity.updated_at)


def existing_keyword(keyword_id: str) -> tuple[str, Term]:
    for kid, _, term in le.all_keywords():
        if kid == keyword_id:
            return kid, term
    raise not_found()


async def existing_organization(organization_id: str, db: DatabaseDep) -> Organisation:
    try:
        org_id = uuid.UUID(organization_id.removeprefix(f"{le.DATA_SOURCE}:"))
    except ValueError:
        raise not_found() from None
    row = await activity_reads.get_organisation(db, org_id)
    if row is None:
        raise not_found()
    return row


def existing_language(code: str) -> str:
    if code not in LANGUAGES:
        raise not_found()
    return code


ExistingEvent = Annotated[FoundEvent, Depends(existing_event)]
ExistingPlace = Annotated[FoundPlace, Depends(existing_place)]
ExistingKeyword = Annotated[tuple[str, Term], Depends(existing_keyword)]
ExistingOrganization = Annotated[Organisation, Depends(existing_organization)]
ExistingLanguage = Annotated[str, Depends(existing_language)]


@router.get(
    "/event/",
    summary="Events (Linked Events v1)",
    responses={**PAGED, 200: opens_first_item("le_get_event", "event_id", "/data")},
    dependencies=[unsupported(UNSUPPORTED_EVENT)],
)
async def le_list_events(
    request: Request,
    db: DatabaseDep,
    paging: ListPageDep,
    query: EventQueryDep,
    include: IncludeDep,
) -> JSONResponse:
    """Linked Events' event list: meta + data, its filters, sort, paging and include."""
    count, rows = await interop_reads.linked_events(db, query, paging.size, paging.offset)
    supers = [a.id for kind, a, _ in rows if kind == "super"]
    stamps = await interop_reads.session_stamps(db, supers) if supers else {}
    counts = await _keyword_counts(db) if "keywords" in include else None
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
    found: ExistingEvent, request: Request, db: DatabaseDep, include: IncludeDep
) -> JSONResponse:
    kind, activity, occurrence = found.kind, found.activity, found.occurrence
    sub_stamps = (await interop_reads.session_stamps(db, [activity.id])).get(activity.id, [])
    counts = await _keyword_counts(db) if "keywords" in include else None
    body = le.event_object(
        _base(request),
        _source(kind, activity, occurrence, sub_stamps),
        include=include,
        keyword_counts=counts,
    )
    return JSONResponse(body)


@router.get(
    "/place/",
    summary="Places (Linked Events v1)",
    responses={**PAGED, 200: opens_first_item("le_get_place", "place_id", "/data")},
    dependencies=[unsupported(UNSUPPORTED_PLACE)],
)
async def le_list_places(request: Request, db: DatabaseDep, paging: ListPageDep) -> JSONResponse:
    page, size = paging.page, paging.size
    count, rows = await interop_reads.places(db, size, paging.offset)
    base = _base(request)
    data = [le.place_object(base, place_channel(a, cid), n, a.updated_at) for cid, a, n in rows]
    if page == 1:
        data.insert(0, le.place_object(base, INTERNET, 0, None))
    return _envelope(request, count + 1, page, size, data[:size])


@router.get(
    "/place/{place_id}/",
    summary="One place (Linked Events v1)",
    responses=DETAIL,
    dependencies=[JsonFormat],
)
async def le_get_place(place: ExistingPlace, request: Request) -> JSONResponse:
    return JSONResponse(
        le.place_object(_base(request), place.channel, place.events, place.modified)
    )


@router.get(
    "/keyword/",
    summary="Keywords: the county's stages, themes, activity types",
    responses={**PAGED, 200: opens_first_item("le_get_keyword", "keyword_id", "/data")},
    dependencies=[unsupported(UNSUPPORTED_KEYWORD)],
)
async def le_list_keywords(
    request: Request, db: DatabaseDep, paging: ListPageDep, text: Text = None
) -> JSONResponse:
    counts = await _keyword_counts(db)
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
async def le_get_keyword(
    keyword: ExistingKeyword, request: Request, db: DatabaseDep
) -> JSONResponse:
    kid, term = keyword
    counts = await _keyword_counts(db)
    return JSONResponse(le.keyword_object(_base(request), kid, term, counts.get(kid, 0)))


@router.get(
    "/organization/",
    summary="Organisations (Linked Events v1)",
    responses={**PAGED, 200: opens_first_item("le_get_organization", "organization_id", "/data")},
    dependencies=[unsupported(UNSUPPORTED_ORGANIZATION)],
)
async def le_list_organizations(
    request: Request, db: DatabaseDep, paging: ListPageDep
) -> JSONResponse:
    count, rows = await activity_reads.list_organisations(db, paging.size, paging.offset)
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
async def le_get_organization(row: ExistingOrganization, request: Request) -> JSONResponse:
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
    languages = [le.language_object(_base(request), code) for code in LANGUAGES]
    data = languages[paging.offset : paging.offset + paging.size]
    return _envelope(request, len(languages), paging.page, paging.size, data)


@router.get(
    "/language/{code}/",
    summary="One language (Linked Events v1)",
    responses=DETAIL,
    dependencies=[JsonFormat],
)
async def le_get_language(code: ExistingLanguage, request: Request) -> JSONResponse:
    return JSONResponse(le.language_object(_base(request), code))
