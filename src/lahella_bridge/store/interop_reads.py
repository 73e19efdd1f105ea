"""Reads only the interop profiles need: Linked Events' event union, its id look-ups and
session stamps, and the places both Linked Events and HSDS list."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, case, func, literal, null, or_, select, union_all
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from lahella_bridge.models import Activity, Occurrence, ServiceChannel, event_spans
from lahella_bridge.schedule import HELSINKI
from lahella_bridge.store.activity_reads import activities_by_ids
from lahella_bridge.store.conditions import ActivityFilters, activity_conditions
from lahella_bridge.store.event_slots import (
    answers,
    count_and_page,
    sessions_in,
    span_conditions,
    started_before,
)
from lahella_bridge.store.sessions import occurrences_by_id, session_counts_in, without_place


@dataclass(frozen=True)
class EventQuery:
    """The Linked Events event list, already parsed: activity filters plus event rules."""

    filters: ActivityFilters
    keywords_any: tuple[tuple[str, str], ...] = ()
    keywords_all: tuple[tuple[str, str], ...] = ()
    keywords_not: tuple[tuple[str, str], ...] = ()
    municipalities: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    show_deleted: bool = False
    super_event: str | None = None  # an upstream id, or "none" for top-level only
    kinds: frozenset[str] | None = None  # single, sub, super, deleted; None: every kind
    hide_recurring_children: bool = False
    sort: str = "start_time"


def _keyword_condition(column: str, slug: str) -> Any:
    return getattr(Activity, column).contains([slug])


def _event_activity_conditions(query: EventQuery) -> list[Any]:
    conditions = activity_conditions(query.filters, include_deleted=query.show_deleted)
    if query.show_deleted:
        conditions.append(
            or_(
                Activity.deleted_at.is_not(None),
                Activity.visible_until.is_(None),
                Activity.visible_until > func.now(),
            )
        )
    if query.keywords_any:
        conditions.append(or_(*(_keyword_condition(c, s) for c, s in query.keywords_any)))
    conditions += [_keyword_condition(c, s) for c, s in query.keywords_all]
    conditions += [~_keyword_condition(c, s) for c, s in query.keywords_not]
    return conditions


def _calendar_keys(query: EventQuery) -> tuple[str | None, str | None] | None:
    """The (town, theme) of the read model's rows that answer an event list, or None when
    it asks more than they are keyed by: at most one town and one required theme, sorted by
    start, only published events and no event-kind rules."""
    keywords = (*query.keywords_any, *query.keywords_all, *query.keywords_not)
    if not (
        query.filters == ActivityFilters()
        and all(column == "themes" for column, _ in keywords)
        and not query.keywords_not
        and len(query.municipalities) <= 1
        and not query.show_deleted
        and query.super_event is None
        and query.kinds is None
        and not query.hide_recurring_children
        and query.sort == "start_time"
    ):
        return None
    any_of = {slug for _, slug in query.keywords_any}
    required = {slug for _, slug in query.keywords_all}
    if len(any_of) > 1 or len(required | any_of) > 1:
        return None
    town = query.municipalities[0] if query.municipalities else None
    theme = next(iter(required | any_of), None)
    return (town, theme) if answers(theme) else None


async def _linked_calendar(
    db: AsyncSession,
    query: EventQuery,
    town: str | None,
    theme: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[tuple[str, Activity, Occurrence | None]]]:
    """`linked_events` for the calendar's common query, counted and paged from the read
    model's index ranges: the sessions starting in the window, those that began before it
    and still go on (at most the longest session's length before), and the recurring
    activities' spans that meet it."""
    sessions = sessions_in(town, theme)
    starts = sessions.starts
    before_end = [starts < query.end] if query.end is not None else []
    windows = [before_end + ([starts >= query.start] if query.start is not None else [])]
    if query.start is not None:
        windows.append(
            [
                *before_end,
                starts < query.start,
                starts >= started_before(query.start),
                sessions.ends >= query.start,
            ]
        )
    branches = [
        select(
            sessions.occurrence_id.label("occurrence_id"),
            sessions.activity_id.label("activity_id"),
            starts.label("starts"),
        ).where(*sessions.where, *window)
        for window in windows
    ]
    supers = select(
        null().cast(BigInteger).label("occurrence_id"),
        event_spans.c.activity_id,
        event_spans.c.first_starts.label("starts"),
    ).where(*span_conditions(town, theme, query.start, query.end))
    order = ("starts", "activity_id", "occurrence_id")
    parts = [
        part.order_by(part.selected_columns.starts, part.selected_columns.activity_id).limit(
            limit + offset
        )
        for part in [*branches, supers]
    ]
    merged = union_all(*parts).subquery()
    page = (
        select(merged)
        .order_by(merged.c.starts, merged.c.activity_id, merged.c.occurrence_id.nulls_first())
        .limit(limit)
        .offset(offset)
    )
    count, rows = await count_and_page(db, [*branches, supers], page, *order)
    activities = {a.id: a for a in await activities_by_ids(db, [r.activity_id for r in rows])}
    occurrences = await occurrences_by_id(
        db, [r.occurrence_id for r in rows if r.occurrence_id is not None]
    )
    events: list[tuple[str, Activity, Occurrence | None]] = []
    for row in rows:
        activity = activities.get(row.activity_id)  # None if retired since the page was read
        if activity is None:
            continue
        if row.occurrence_id is None:
            events.append(("super", activity, None))
        else:
            kind = "single" if activity.occurrence_count == 1 else "sub"
            events.append((kind, activity, occurrences.get(row.occurrence_id)))
    return count, events


async def linked_events(
    db: AsyncSession, query: EventQuery, limit: int, offset: int
) -> tuple[int, list[tuple[str, Activity, Occurrence | None]]]:
    """Single, recurring (super) and sub events of matching activities, in one SQL union."""
    keys = _calendar_keys(query)
    if keys is not None:
        return await _linked_calendar(db, query, *keys, limit, offset)
    codes = list(query.municipalities)
    # A session is where it meets; a recurring whole is wherever its activity is.
    session_where = [
        *_event_activity_conditions(replace(query, filters=without_place(query.filters))),
        *session_counts_in(codes, query.filters),
    ]
    activity_where = _event_activity_conditions(query)
    if codes:
        activity_where.append(Activity.municipalities.overlap(codes))
    sessions = (
        select(
            case((Activity.occurrence_count == 1, literal("single")), else_=literal("sub")).label(
                "kind"
            ),
            Occurrence.id.label("occurrence_id"),
            Activity.id.label("activity_id"),
            Occurrence.starts.label("starts"),
            func.coalesce(Occurrence.ends, Occurrence.starts).label("ends"),
        )
        .join(Activity, Activity.id == Occurrence.activity_id)
        .where(*session_where, Activity.deleted_at.is_(None))
    )
    supers = select(
        case((Activity.deleted_at.is_not(None), literal("deleted")), else_=literal("super")).label(
            "kind"
        ),
        null().cast(BigInteger).label("occurrence_id"),
        Activity.id.label("activity_id"),
        Activity.first_starts.label("starts"),
        Activity.last_ends.label("ends"),
    ).where(
        *activity_where,
        or_(Activity.occurrence_count > 1, Activity.deleted_at.is_not(None)),
    )
    events = union_all(sessions, supers).subquery()
    conditions: list[Any] = []
    if query.start is not None:
        conditions.append(events.c.ends >= query.start)
    if query.end is not None:
        conditions.append(events.c.starts < query.end)
    if query.hide_recurring_children:
        conditions.append(events.c.kind != "sub")
    if query.kinds is not None:
        conditions.append(events.c.kind.in_(sorted(query.kinds)))
    if query.super_event == "none":
        conditions.append(events.c.kind != "sub")
    elif query.super_event is not None:
        conditions += [events.c.kind == "sub", Activity.upstream_id == query.super_event]
    base = (
        select(events.c.kind, events.c.occurrence_id, events.c.starts, Activity)
        .join(Activity, Activity.id == events.c.activity_id)
        .where(*conditions)
    )
    order = {
        "start_time": [events.c.starts.asc().nulls_last()],
        "-start_time": [events.c.starts.desc().nulls_last()],
        "last_modified_time": [Activity.updated_at.asc()],
        "-last_modified_time": [Activity.updated_at.desc()],
        "name": [Activity.name_sort.asc()],
        "-name": [Activity.name_sort.desc()],
        "end_time": [events.c.ends.asc().nulls_last()],
        "-end_time": [events.c.ends.desc().nulls_last()],
    }[query.sort]
    count = await db.scalar(select(func.count()).select_from(base.subquery()))
    rows = (
        await db.execute(
            base.order_by(
                *order, Activity.id, events.c.starts, events.c.occurrence_id.nulls_first()
            )
            .limit(limit)
            .offset(offset)
        )
    ).all()
    occurrences = await occurrences_by_id(
        db, [row.occurrence_id for row in rows if row.occurrence_id is not None]
    )
    return int(count or 0), [
        (row.kind, row.Activity, occurrences.get(row.occurrence_id)) for row in rows
    ]


async def session_stamps(
    db: AsyncSession, activity_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Each activity's session starts as local `YYYYMMDDHHMM` stamps, formatted in SQL:
    a recurring event lists every session's id, thousands on a page."""
    stamp = func.to_char(func.timezone(HELSINKI.key, Occurrence.starts), literal("YYYYMMDDHH24MI"))
    rows = await db.execute(
        select(Occurrence.activity_id, func.array_agg(aggregate_order_by(stamp, Occurrence.starts)))
        .where(Occurrence.activity_id.in_(list(activity_ids)))
        .group_by(Occurrence.activity_id)
    )
    return {activity_id: list(stamps) for activity_id, stamps in rows}


async def activity_by_upstream_id(
    db: AsyncSession, upstream_id: str, *, include_deleted: bool = True
) -> Activity | None:
    return await db.scalar(
        select(Activity).where(
            Activity.upstream_id == upstream_id,
            *activity_conditions(ActivityFilters(), include_deleted=include_deleted),
        )
    )


async def occurrence_at(
    db: AsyncSession, activity_id: uuid.UUID, starts: datetime
) -> Occurrence | None:
    return await db.scalar(
        select(Occurrence).where(Occurrence.activity_id == activity_id, Occurrence.starts == starts)
    )


async def places(
    db: AsyncSession,
    limit: int,
    offset: int,
    channel_ids: Sequence[uuid.UUID] | None = None,
    *,
    channel_type: str | None = "ServiceLocation",
) -> tuple[int, list[tuple[uuid.UUID, Activity, int]]]:
    """Channels (by default the places) of live activities, with upcoming session counts."""
    upcoming = (
        select(func.count())
        .select_from(Occurrence)
        .where(Occurrence.channel_id == ServiceChannel.id, Occurrence.starts >= func.now())
        .scalar_subquery()
    )
    query = (
        select(ServiceChannel.id, Activity, upcoming.label("n"))
        .join(Activity, Activity.id == ServiceChannel.activity_id)
        .where(*activity_conditions(ActivityFilters()))
    )
    if channel_type is not None:
        query = query.where(ServiceChannel.channel_type == channel_type)
    if channel_ids is not None:
        query = query.where(ServiceChannel.id.in_(list(channel_ids)))
    count = await db.scalar(select(func.count()).select_from(query.subquery()))
    rows = await db.execute(query.order_by(ServiceChannel.id).limit(limit).offset(offset))
    return int(count or 0), [(row[0], row[1], int(row[2])) for row in rows]
