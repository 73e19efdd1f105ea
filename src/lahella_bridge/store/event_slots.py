"""The calendar's read model (`models.event_slots`, `models.event_spans`): written from the
stored sessions and activities whenever the writer changes them, read by /v1/events and the
Linked Events list, which then count and page one index range instead of deciding per
request where each session counts.

A session counts in its own place's town; one without a place, wherever its activity is
(as `sessions.py` says for the general path), and under each of its activity's themes.
Only published activities have rows; a row past its `visible_until` is skipped on read."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Select,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from lahella_bridge.models import Occurrence, event_slots, event_spans

ANYWHERE = ""  # the town of the rows a list without a town reads
ANY_THEME = ""  # the theme of the rows a list without a theme reads

_ACTIVITY_IDS = bindparam("ids", type_=ARRAY(UUID))

_WRITE_SLOTS = text(
    """
    INSERT INTO event_slots (town, theme, starts, occurrence_id, activity_id, ends, visible_until)
    SELECT towns.town, themes.theme, o.starts, o.id, o.activity_id,
           coalesce(o.ends, o.starts), a.visible_until
      FROM occurrences o
      JOIN activities a ON a.id = o.activity_id
     CROSS JOIN LATERAL (
           SELECT DISTINCT town FROM unnest(
               CASE WHEN o.municipality IS NULL THEN a.municipalities
                    ELSE ARRAY[o.municipality::text] END || ARRAY[''::text]) AS town
           ) AS towns
     CROSS JOIN LATERAL (
           SELECT DISTINCT theme FROM unnest(a.themes || ARRAY[''::text]) AS theme
           ) AS themes
     WHERE o.activity_id = ANY(:ids) AND a.deleted_at IS NULL
    """
).bindparams(_ACTIVITY_IDS)

_WRITE_SPANS = text(
    """
    INSERT INTO event_spans (town, theme, last_ends, first_starts, activity_id, visible_until)
    SELECT towns.town, themes.theme, a.last_ends, a.first_starts, a.id, a.visible_until
      FROM activities a
     CROSS JOIN LATERAL (
           SELECT DISTINCT town FROM unnest(a.municipalities || ARRAY[''::text]) AS town
           ) AS towns
     CROSS JOIN LATERAL (
           SELECT DISTINCT theme FROM unnest(a.themes || ARRAY[''::text]) AS theme
           ) AS themes
     WHERE a.id = ANY(:ids) AND a.deleted_at IS NULL AND a.occurrence_count > 1
       AND a.first_starts IS NOT NULL AND a.last_ends IS NOT NULL
    """
).bindparams(_ACTIVITY_IDS)


async def refresh_event_rows(db: AsyncSession, activity_ids: Sequence[uuid.UUID]) -> None:
    """Rebuild the read model's rows of these activities from their stored sessions and
    columns, set-wise: called in the transaction that changed them, after the change."""
    if not activity_ids:
        return
    ids = list(activity_ids)
    await db.execute(delete(event_slots).where(event_slots.c.activity_id.in_(ids)))
    await db.execute(delete(event_spans).where(event_spans.c.activity_id.in_(ids)))
    await db.execute(_WRITE_SLOTS, {"ids": ids})
    await db.execute(_WRITE_SPANS, {"ids": ids})


def _visible(table: Any) -> Any:
    return or_(table.c.visible_until.is_(None), table.c.visible_until > func.now())


def slot_conditions(town: str | None, theme: str | None, *window: Any) -> list[Any]:
    """One index range: the sessions counting in `town` (None: anywhere) under `theme`
    (None: any), within `window` (conditions on `event_slots.c.starts`), still shown."""
    return [
        event_slots.c.town == (town or ANYWHERE),
        event_slots.c.theme == (theme or ANY_THEME),
        *window,
        _visible(event_slots),
    ]


def span_conditions(
    town: str | None, theme: str | None, start: datetime | None, end: datetime | None
) -> list[Any]:
    """Recurring activities in `town` under `theme` whose span meets [start, end)."""
    return [
        event_spans.c.town == (town or ANYWHERE),
        event_spans.c.theme == (theme or ANY_THEME),
        *([event_spans.c.last_ends >= start] if start is not None else []),
        *([event_spans.c.first_starts < end] if end is not None else []),
        _visible(event_spans),
    ]


def longest_session() -> Any:
    """The longest session's length (`ix_occurrences_span` answers it from its last entry):
    a session still going on at an instant began at most this long before it."""
    ends = func.coalesce(Occurrence.ends, Occurrence.starts)
    return select(func.max(ends - Occurrence.starts)).scalar_subquery()


def started_before(moment: datetime) -> Any:
    """`moment` minus the longest session, as a bound on `event_slots.c.starts`."""
    return literal(moment, DateTime(timezone=True)) - longest_session()


async def count_and_page(
    db: AsyncSession, counted: Sequence[Select[Any]], page: Select[Any], *order: str
) -> tuple[int, list[Any]]:
    """The summed row counts of `counted` and the rows of `page` (ordered by the columns
    named `order`) in one round trip: the page is joined, lateral, to the one row of the
    total, so a page past the end still brings the count."""
    sums = [
        select(func.count()).select_from(query.order_by(None).subquery()).scalar_subquery()
        for query in counted
    ]
    total = select(sum(sums[1:], sums[0]).label("total")).subquery()
    rows = page.subquery().lateral()
    result = await db.execute(
        select(total.c.total, *rows.c)
        .select_from(total.outerjoin(rows, true()))
        .order_by(*(rows.c[name] for name in order))
    )
    found = result.all()
    count = int(found[0].total) if found else 0
    # The one row of a page past the end carries the total and nulls.
    return count, [row for row in found if getattr(row, order[0]) is not None]
