"""/v1/events: dated sessions as JSON, iCalendar and schema.org JSON-LD."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from lahella_bridge.api.schemas import Event, ListEnvelope, event_of
from lahella_bridge.errors import InvalidParameter
from lahella_bridge.feeds.ical import render_calendar
from lahella_bridge.feeds.jsonld import events_jsonld
from lahella_bridge.fragments import event_item, list_page
from lahella_bridge.store import event_reads
from lahella_bridge.web.cacheable import CacheableRoute
from lahella_bridge.web.deps import DatabaseDep, LangDep, PageDep, QueryTime, page_links
from lahella_bridge.web.filters import FiltersDep, reject_unknown_parameters

router = APIRouter(
    prefix="/v1",
    tags=["events"],
    dependencies=[Depends(reject_unknown_parameters)],
    route_class=CacheableRoute,
)
MAX_WINDOW = timedelta(days=366)
ICS_LIMIT = 5000


class Window:
    """`start`/`end` of the event window: default from now, 30 days; at most a year."""

    def __init__(
        self,
        start: Annotated[
            QueryTime | None,
            Query(
                description="Window start, ISO 8601, years 1900-2999 (default: now).",
                examples=["2026-12-01T00:00:00+02:00"],
            ),
        ] = None,
        end: Annotated[
            QueryTime | None,
            Query(
                description="Window end, ISO 8601, after start and at most a year after it "
                "(default: start + 30 days)."
            ),
        ] = None,
    ) -> None:
        start = start or datetime.now(UTC)
        end = end or start + timedelta(days=30)
        if end <= start:
            raise InvalidParameter("end: must be after start")
        if end - start > MAX_WINDOW:
            raise InvalidParameter("end: the window may be at most a year long")
        self.start, self.end = start, end


WindowDep = Annotated[Window, Depends()]


@router.get(
    "/events",
    summary="Events in a time window",
    response_model=ListEnvelope[Event],
    responses={
        200: {
            "content": {
                "application/ld+json": {
                    "schema": {"type": "object", "description": "schema.org ItemList of Events"}
                }
            }
        }
    },
)
async def list_events(
    request: Request,
    db: DatabaseDep,
    filters: FiltersDep,
    window: WindowDep,
    page: PageDep,
    lang: LangDep,
) -> Any:
    """Sessions of recurring activities and one-off events, ordered by start time, with
    Europe/Helsinki offsets. Send `Accept: application/ld+json` for schema.org JSON-LD."""
    headers = {"Cache-Control": "public, max-age=300", "Vary": "Accept, Accept-Language"}
    if "application/ld+json" in request.headers.get("accept", ""):
        count, rows = await event_reads.list_events(
            db, filters.filters, window.start, window.end, page.page_size, page.offset
        )
        nxt, prev = page_links(request, page, count)
        items = [event_of(o, a, lang) for o, a in rows]
        body = events_jsonld(items, str(request.url), count, nxt, prev)
        return JSONResponse(body, media_type="application/ld+json", headers=headers)
    count, ids = await event_reads.event_ids(
        db, filters.filters, window.start, window.end, page.page_size, page.offset
    )
    nxt, prev = page_links(request, page, count)
    parts = await event_reads.event_parts(db, ids, lang)
    events = [
        event_item(p.activity_id, p.starts, p.ends, p.municipality, lang, p.place, p.event)
        for p in parts
    ]
    return Response(
        list_page(count, nxt, prev, events), media_type="application/json", headers=headers
    )


@router.get(
    "/events.ics",
    summary="Events as an iCalendar feed",
    response_class=Response,
    responses={
        200: {
            "content": {"text/calendar": {"schema": {"type": "string"}}},
            "description": "RFC 5545 calendar",
        }
    },
)
async def events_calendar(
    db: DatabaseDep,
    filters: FiltersDep,
    window: WindowDep,
    lang: LangDep,
    expand: Annotated[
        bool,
        Query(
            description="One VEVENT per session instead of one per recurring series "
            "(RRULE with EXDATE/RDATE)."
        ),
    ] = False,
) -> Response:
    """The same query as /v1/events (up to 5000 sessions) for calendar subscriptions: a
    weekly activity is one recurring event, as calendar apps expect."""
    _, rows = await event_reads.list_events(
        db, filters.filters, window.start, window.end, ICS_LIMIT, 0
    )
    emails = await event_reads.organisation_emails(
        db, list({a.organisation_id for _, a in rows if a.organisation_id is not None})
    )
    # Thousands of events take seconds to render: off the event loop, so that one
    # calendar subscription does not stall every other request of this process.
    body = await asyncio.to_thread(
        lambda: render_calendar(
            [event_of(o, a, lang) for o, a in rows],
            name="Pohde: järjestöjen ja seurakuntien tapahtumat",
            now=datetime.now(UTC),
            expand=expand,
            organiser_emails={str(key): email for key, email in emails.items()},
        )
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Cache-Control": "public, max-age=900",
            "Content-Disposition": 'inline; filename="events.ics"',
        },
    )
