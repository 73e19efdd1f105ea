"""The calendar's read model (`models.event_slots`, `models.event_spans`): written from the
stored sessions and activities whenever the writer changes them, read by /v1/events and the
Linked Events list, which then count and page one index range instead of deciding per
request where each session counts.

A session counts in its own place's town; one without a place, wherever its activity is
(as `sessions.py` says for the general path): a row for each, carrying its activity's
themes as a mask, so one row per session and town serves every theme. Only published
activities have rows; a row past its `visible_until` is skipped on read."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Select,
    Text,
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

ANYWHERE = ""  # the town of the spans a list without a town reads

# The bit of each theme in the rows' `themes` mask: fixed once stored, so a new theme takes
# the next bit and none ever moves (tests/test_event_slots.py holds the taxonomy to it).
THEME_BITS: dict[str, int] = {
    slug: 1 << position
    for position, slug in enumerate(
        (
            "asuminen-ymparisto-luonto",
            "oppiminen-ja-kasvu",
            "arjen-raha-asiat",
            "suhteet-ja-osallisuus",
            "tyo-ja-tyoelama",
            "mielen-hyvinvointi",
            "ruoka-liikkuminen-lepo",
            "vapaa-aika-ja-kulttuuri",
            "turvallisuus",
            "paihteet-ja-riippuvuudet",
            "fyysinen-terveys",
        )
    )
}

# An activity's themes as the mask of their bits (a theme without a bit adds none).
THEME_MASK_SQL = """(SELECT coalesce(bit_or(1 << (array_position(:slugs, t) - 1)), 0)
                       FROM unnest(a.themes) AS t)"""

_ACTIVITY_IDS = bindparam("ids", type_=ARRAY(UUID))
_SLUGS = bindparam("slugs", value=list(THEME_BITS), type_=ARRAY(Text))

_WRITE_SLOTS = text(
    f"""
    INSERT INTO event_slots (town, starts, occurrence_id, themes, activity_id, ends,
                             visible_until)
    SELECT towns.town, o.starts, o.id, {THEME_MASK_SQL}, o.activity_id,
           coalesce(o.ends, o.starts), a.visible_until
      FROM occurrences o
      JOIN activities a ON a.id = o.activity_id
     CROSS JOIN LATERAL (
           SELECT DISTINCT town FROM unnest(
               CASE WHEN o.municipality IS NULL THEN a.municipalities
                    ELSE ARRAY[o.municipality::text] END) AS town
           ) AS towns
     WHERE o.activity_id = ANY(:ids) AND a.deleted_at IS NULL
    """
).bindparams(_ACTIVITY_IDS, _SLUGS)

_WRITE_SPANS = text(
    f"""
    INSERT INTO event_spans (town, last_ends, first_starts, themes, activity_id,
                             visible_until)
    SELECT towns.town, a.last_ends, a.first_starts, {THEME_MASK_SQL}, a.id, a.visible_until
      FROM activities a
     CROSS JOIN LATERAL (
           SELECT DISTINCT town FROM unnest(a.municipalities || ARRAY[''::text]) AS town
           ) AS towns
     WHERE a.id = ANY(:ids) AND a.deleted_at IS NULL AND a.occurrence_count > 1
       AND a.first_starts IS NOT NULL AND a.last_ends IS NOT NULL
    """
).bindparams(_ACTIVITY_IDS, _SLUGS)


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


def answers(theme: str | None) -> bool:
    """Whether the read model can answer a list under `theme` (one with a bit, or none)."""
    return theme is None or theme in THEME_BITS


def _visible(table: Any) -> Any:
    return or_(table.c.visible_until.is_(None), table.c.visible_until > func.now())


@dataclass(frozen=True)
class Sessions:
    """Where a calendar list reads its sessions: the read model's rows of a town, or, for
    anywhere, the sessions themselves (their own covering index on start answers it, so
    the read model keeps no row for "any town"), and the conditions that pick them."""

    occurrence_id: Any
    activity_id: Any
    starts: Any
    ends: Any
    where: list[Any]


def sessions_in(town: str | None, theme: str | None) -> Sessions:
    """The sessions counting in `town` (None: anywhere) under `theme` (None: any), shown."""
    if town is None:
        return Sessions(
            Occurrence.id,
            Occurrence.activity_id,
            Occurrence.starts,
            func.coalesce(Occurrence.ends, Occurrence.starts),
            [
                *([Occurrence.themes.contains([theme])] if theme else []),
                or_(Occurrence.visible_until.is_(None), Occurrence.visible_until > func.now()),
            ],
        )
    slots = event_slots.c
    return Sessions(
        slots.occurrence_id,
        slots.activity_id,
        slots.starts,
        slots.ends,
        [slots.town == town, *_has_theme(event_slots, theme), _visible(event_slots)],
    )


def _has_theme(table: Any, theme: str | None) -> list[Any]:
    return [table.c.themes.op("&")(THEME_BITS[theme]) != 0] if theme else []


def span_conditions(
    town: str | None, theme: str | None, start: datetime | None, end: datetime | None
) -> list[Any]:
    """Recurring activities in `town` under `theme` whose span meets [start, end)."""
    return [
        event_spans.c.town == (town or ANYWHERE),
        *([event_spans.c.last_ends >= start] if start is not None else []),
        *([event_spans.c.first_starts < end] if end is not None else []),
        *_has_theme(event_spans, theme),
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
