"""Activity and organisation reads shared by /v1, the embed pages, HSDS and health: lists,
single records, upcoming sessions and term counts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncScalarResult, AsyncSession

from lahella_bridge.fragments import SUMMARY, Upcoming
from lahella_bridge.models import Activity, ItemFragment, Occurrence, Organisation
from lahella_bridge.store.conditions import ActivityFilters, activity_conditions, escape_like

ACTIVITY_SLICE = 200  # activities decoded per await when many are read at once


async def list_activities(
    db: AsyncSession, filters: ActivityFilters, limit: int, offset: int
) -> tuple[int, Sequence[Activity]]:
    conditions = activity_conditions(filters)
    if filters.q:
        return await _search_page(db, conditions, limit, offset)
    count = await db.scalar(select(func.count()).select_from(Activity).where(*conditions))
    rows = await db.scalars(
        select(Activity)
        .where(*conditions)
        .order_by(Activity.name_sort, Activity.id)
        .limit(limit)
        .offset(offset)
    )
    return int(count or 0), rows.all()


async def stream_activities(
    db: AsyncSession, filters: ActivityFilters, batch: int
) -> AsyncScalarResult[Activity]:
    """Every match in the lists' order from one server-side cursor, fetched `batch` rows at
    a time: one statement and one batch in memory however many rows match (OFFSET pages
    re-read every row before them and counted them again, each page)."""
    return await db.stream_scalars(
        select(Activity)
        .where(*activity_conditions(filters))
        .order_by(Activity.name_sort, Activity.id)
        .execution_options(yield_per=batch)
    )


async def _search_page(
    db: AsyncSession, conditions: list[Any], limit: int, offset: int
) -> tuple[int, Sequence[Activity]]:
    """A text search is selective: find the matches once, then count and page them,
    rather than let the planner walk the name index filtering every row."""
    matches = (
        select(Activity.id, Activity.name_sort)
        .where(*conditions)
        .cte("matches")
        .prefix_with("MATERIALIZED")
    )
    page = await db.execute(
        select(matches.c.id, func.count().over())
        .order_by(matches.c.name_sort, matches.c.id)
        .limit(limit)
        .offset(offset)
    )
    found = page.all()
    if not found:
        total = await db.scalar(select(func.count()).select_from(Activity).where(*conditions))
        return int(total or 0), []
    return int(found[0][1]), await activities_by_ids(db, [r[0] for r in found])


@dataclass(frozen=True)
class SummaryParts:
    """What an activity's `ActivitySummary` is composed of (`fragments.summary_item`)."""

    id: uuid.UUID
    updated_at: datetime
    summary: str


async def summary_page(
    db: AsyncSession, filters: ActivityFilters, limit: int, offset: int, lang: str
) -> tuple[int, list[SummaryParts]]:
    """The page `list_activities` finds, as its rows' stored summary fragments in `lang`
    and `updated_at`: no record read. (count, parts)"""
    conditions = activity_conditions(filters)

    def summary_of(activity_id: Any) -> ColumnElement[bool]:
        return and_(
            ItemFragment.activity_id == activity_id,
            ItemFragment.surface == SUMMARY,
            ItemFragment.lang == lang,
            ItemFragment.part == "",
        )

    summary = summary_of(Activity.id)
    columns = (Activity.id, Activity.updated_at, ItemFragment.body)
    if filters.q:
        # Counted and paged on the matches alone; only the page's rows meet the fragments
        # (joined before the LIMIT, every match was: 100 ms of PostgreSQL at 100k).
        matches = (
            select(Activity.id, Activity.name_sort, Activity.updated_at)
            .where(*conditions)
            .cte("matches")
            .prefix_with("MATERIALIZED")
        )
        page = (
            select(matches, func.count().over().label("total"))
            .order_by(matches.c.name_sort, matches.c.id)
            .limit(limit)
            .offset(offset)
            .subquery("page")
        )
        found = (
            await db.execute(
                select(page.c.id, page.c.updated_at, ItemFragment.body, page.c.total)
                .join(ItemFragment, summary_of(page.c.id))
                .order_by(page.c.name_sort, page.c.id)
            )
        ).all()
        if found:
            return int(found[0][3]), [SummaryParts(*row[:3]) for row in found]
        total = await db.scalar(select(func.count()).select_from(Activity).where(*conditions))
        return int(total or 0), []
    count = await db.scalar(select(func.count()).select_from(Activity).where(*conditions))
    rows = await db.execute(
        select(*columns)
        .join(ItemFragment, summary)
        .where(*conditions)
        .order_by(Activity.name_sort, Activity.id)
        .limit(limit)
        .offset(offset)
    )
    return int(count or 0), [SummaryParts(*row) for row in rows]


async def get_activity(db: AsyncSession, activity_id: uuid.UUID) -> Activity | None:
    return await db.scalar(
        select(Activity).where(Activity.id == activity_id, *activity_conditions(ActivityFilters()))
    )


async def activities_by_ids(db: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Activity]:
    """Live activities among `ids`, in the order asked.

    Thousands of them (a town's calendar for a month) are read in slices through a cursor,
    so that decoding their documents does not hold the event loop for a second."""
    statement = select(Activity).where(
        Activity.id.in_(list(ids)), *activity_conditions(ActivityFilters())
    )
    if len(ids) <= ACTIVITY_SLICE:
        rows = list(await db.scalars(statement))
    else:
        stream = await db.stream_scalars(statement.execution_options(yield_per=ACTIVITY_SLICE))
        rows = [row async for row in stream]
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


async def _next_sessions(
    db: AsyncSession, activity_ids: Sequence[uuid.UUID], per_activity: int
) -> Sequence[Any]:
    """The next `per_activity` sessions of each activity by start, in one query, as rows of
    (activity_id, starts, ends, channel_id, municipality)."""
    ranked = (
        select(
            Occurrence.activity_id,
            Occurrence.starts,
            Occurrence.ends,
            Occurrence.channel_id,
            Occurrence.municipality,
            func.row_number()
            .over(partition_by=Occurrence.activity_id, order_by=Occurrence.starts)
            .label("n"),
        )
        .where(Occurrence.activity_id.in_(list(activity_ids)), Occurrence.starts >= func.now())
        .subquery()
    )
    rows = await db.execute(
        select(
            ranked.c.activity_id,
            ranked.c.starts,
            ranked.c.ends,
            ranked.c.channel_id,
            ranked.c.municipality,
        )
        .where(ranked.c.n <= per_activity)
        .order_by(ranked.c.starts)
    )
    return rows.all()


async def next_occurrences(
    db: AsyncSession, activity_ids: Sequence[uuid.UUID], per_activity: int = 3
) -> dict[uuid.UUID, list[Occurrence]]:
    """The next few sessions of each activity, in one query."""
    if not activity_ids:
        return {}
    result: dict[uuid.UUID, list[Occurrence]] = {}
    for activity_id, starts, ends, channel_id, municipality in await _next_sessions(
        db, activity_ids, per_activity
    ):
        result.setdefault(activity_id, []).append(
            Occurrence(
                activity_id=activity_id,
                channel_id=channel_id,
                starts=starts,
                ends=ends,
                municipality=municipality,
            )
        )
    return result


async def upcoming(
    db: AsyncSession, activity_ids: Sequence[uuid.UUID], per_activity: int = 3
) -> dict[uuid.UUID, list[Upcoming]]:
    """The next few sessions of each activity, in one query, as their narrow columns."""
    if not activity_ids:
        return {}
    result: dict[uuid.UUID, list[Upcoming]] = {}
    for activity_id, starts, ends, channel_id, _ in await _next_sessions(
        db, activity_ids, per_activity
    ):
        result.setdefault(activity_id, []).append(Upcoming(starts, ends, channel_id))
    return result


async def term_counts(
    db: AsyncSession, column: str, filters: ActivityFilters | None = None
) -> dict[str, int]:
    """Live activities (under `filters`, if given) per stage, theme, activity type or
    municipality, in SQL."""
    array = getattr(Activity, column)
    term = func.unnest(array).label("term")
    inner = select(term).where(*activity_conditions(filters or ActivityFilters())).subquery()
    rows = await db.execute(select(inner.c.term, func.count()).group_by(inner.c.term))
    return {str(key): int(n) for key, n in rows}


async def published_counts(db: AsyncSession) -> dict[str, int]:
    rows = await db.execute(
        select(Activity.kind, func.count())
        .where(*activity_conditions(ActivityFilters()))
        .group_by(Activity.kind)
    )
    organisations = await db.scalar(
        select(func.count()).select_from(Organisation).where(Organisation.deleted_at.is_(None))
    )
    return {**{str(kind): int(n) for kind, n in rows}, "organization": int(organisations or 0)}


async def list_organisations(
    db: AsyncSession, limit: int, offset: int, q: str | None = None
) -> tuple[int, Sequence[Organisation]]:
    conditions: list[Any] = [Organisation.deleted_at.is_(None)]
    if q:
        conditions.append(Organisation.name.ilike(f"%{escape_like(q)}%", escape="\\"))
    count = await db.scalar(select(func.count()).select_from(Organisation).where(*conditions))
    rows = await db.scalars(
        select(Organisation)
        .where(*conditions)
        .order_by(Organisation.name, Organisation.id)
        .limit(limit)
        .offset(offset)
    )
    return int(count or 0), rows.all()


async def get_organisation(db: AsyncSession, org_id: uuid.UUID) -> Organisation | None:
    return await db.scalar(
        select(Organisation).where(Organisation.id == org_id, Organisation.deleted_at.is_(None))
    )


async def activity_counts(
    db: AsyncSession, organisation_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Live activities per organisation, for a page of organisations in one query."""
    rows = await db.execute(
        select(Activity.organisation_id, func.count())
        .where(
            Activity.organisation_id.in_(list(organisation_ids)),
            *activity_conditions(ActivityFilters()),
        )
        .group_by(Activity.organisation_id)
    )
    counts = {org_id: int(count) for org_id, count in rows if org_id is not None}
    return {org_id: counts.get(org_id, 0) for org_id in organisation_ids}
