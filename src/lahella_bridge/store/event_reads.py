"""The /v1/events and calendar feed read: sessions in a window, from the calendar's read
model (`event_slots`) when the filters are ones it is keyed by; a JSON page from the
sessions' narrow columns and their activities' stored fragments, the calendars from the
records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Text, and_, cast, func, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from lahella_bridge.fragments import EVENT, PLACE
from lahella_bridge.models import Activity, ItemFragment, Occurrence, Organisation
from lahella_bridge.store.activity_reads import activities_by_ids
from lahella_bridge.store.conditions import ActivityFilters, activity_conditions
from lahella_bridge.store.event_slots import answers, count_and_page, sessions_in
from lahella_bridge.store.sessions import occurrences_by_id, session_counts_in, without_place


def _calendar_only(filters: ActivityFilters) -> bool:
    """Whether the filters are all ones the read model answers (`event_slots.sessions_in`)."""
    return replace(filters, municipality=None, theme=None) == ActivityFilters() and answers(
        filters.theme
    )


async def _calendar_page(
    db: AsyncSession,
    filters: ActivityFilters,
    start: datetime,
    end: datetime,
    limit: int,
    offset: int,
) -> tuple[int, list[int]]:
    """(count, session ids of the page) from one range of one index, read index-only, in
    one round trip."""
    sessions = sessions_in(filters.municipality, filters.theme)
    where = [*sessions.where, sessions.starts >= start, sessions.starts < end]
    page = (
        select(sessions.occurrence_id.label("occurrence_id"), sessions.starts.label("starts"))
        .where(*where)
        .order_by(sessions.starts, sessions.occurrence_id)
        .limit(limit)
        .offset(offset)
    )
    count, rows = await count_and_page(
        db, [select(sessions.occurrence_id).where(*where)], page, "starts", "occurrence_id"
    )
    return count, [row.occurrence_id for row in rows]


async def event_ids(
    db: AsyncSession,
    filters: ActivityFilters,
    start: datetime,
    end: datetime,
    limit: int,
    offset: int,
) -> tuple[int, list[int]]:
    """(count, ids of the page) of the sessions starting in [start, end) of matching
    activities, by start time."""
    if _calendar_only(filters):
        return await _calendar_page(db, filters, start, end, limit, offset)
    # The session's own place decides, so a multi-town activity lists where it meets.
    codes = [filters.municipality] if filters.municipality else []
    conditions = [
        *activity_conditions(without_place(filters)),
        *session_counts_in(codes, filters),
        Occurrence.starts >= start,
        Occurrence.starts < end,
    ]
    total = await db.scalar(
        select(func.count())
        .select_from(Occurrence)
        .join(Activity, Activity.id == Occurrence.activity_id)
        .where(*conditions)
    )
    page = await db.scalars(
        select(Occurrence.id)
        .join(Activity, Activity.id == Occurrence.activity_id)
        .where(*conditions)
        .order_by(Occurrence.starts, Occurrence.id)
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), list(page.all())


async def list_events(
    db: AsyncSession,
    filters: ActivityFilters,
    start: datetime,
    end: datetime,
    limit: int,
    offset: int,
) -> tuple[int, Sequence[tuple[Occurrence, Activity]]]:
    """The page of `event_ids` as sessions with their activities, for the renderers that
    read records (iCalendar, JSON-LD)."""
    count, ids = await event_ids(db, filters, start, end, limit, offset)
    found = await occurrences_by_id(db, ids)
    return count, await _with_activities(db, [found[i] for i in ids if i in found])


@dataclass(frozen=True)
class EventParts:
    """What a session's `Event` is composed of (`fragments.event_item`)."""

    activity_id: uuid.UUID
    starts: datetime
    ends: datetime | None
    municipality: str | None
    place: str | None
    event: str


async def event_parts(db: AsyncSession, ids: Sequence[int], lang: str) -> list[EventParts]:
    """The sessions `ids`, in that order, as the narrow columns and stored fragments their
    items are composed of; in one query, no record read. A session's town is where it
    meets, else its activity's first."""
    if not ids:
        return []
    event = aliased(ItemFragment)
    place = aliased(ItemFragment)
    rows = await db.execute(
        select(
            Occurrence.id,
            Occurrence.activity_id,
            Occurrence.starts,
            Occurrence.ends,
            func.coalesce(Occurrence.municipality, Activity.municipalities[1]),
            place.body,
            event.body,
        )
        .join(Activity, Activity.id == Occurrence.activity_id)
        .join(
            event,
            and_(
                event.activity_id == Occurrence.activity_id,
                event.surface == EVENT,
                event.lang == lang,
                event.part == "",
            ),
        )
        .outerjoin(
            place,
            and_(
                place.activity_id == Occurrence.activity_id,
                place.surface == PLACE,
                place.lang == lang,
                place.part == cast(Occurrence.channel_id, Text),
            ),
        )
        .where(Occurrence.id.in_(list(ids)), *activity_conditions(ActivityFilters()))
    )
    found = {row[0]: EventParts(*row[1:]) for row in rows}
    return [found[i] for i in ids if i in found]


async def _with_activities(
    db: AsyncSession, occurrences: Sequence[Occurrence]
) -> list[tuple[Occurrence, Activity]]:
    """Sessions paired with their activities, each activity read once however many of its
    sessions there are (a month's calendar of a town: 5,000 sessions, 1,000 activities)."""
    activities = {
        a.id: a
        for a in await activities_by_ids(db, list({o.activity_id: None for o in occurrences}))
    }
    return [(o, activities[o.activity_id]) for o in occurrences if o.activity_id in activities]


async def organisation_emails(
    db: AsyncSession, org_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The organisations' own e-mail addresses, for those that gave one."""
    if not org_ids:
        return {}
    # SQL reads the stored JSON itself, not the record type the ORM hands Python.
    email = type_coerce(Organisation.document, JSONB)["email"].astext
    rows = await db.execute(
        select(Organisation.id, email).where(
            Organisation.id.in_(list(org_ids)), email.is_not(None), email != ""
        )
    )
    return {org_id: str(value) for org_id, value in rows}
