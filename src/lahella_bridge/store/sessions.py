"""Where a session counts, written once: where it meets, or, without a place of its own,
wherever its activity is; the general /v1/events and Linked Events queries ask it, and
`event_slots.py` writes the same rule into the calendar's read model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from lahella_bridge.models import Activity, Occurrence, ServiceChannel
from lahella_bridge.store.conditions import ActivityFilters, area_conditions, channel_within


def _where_session_counts(own_place: Any, placeless: Any, activity_place: Any) -> list[Any]:
    """A session is where it meets; one with no place of its own, wherever its activity is.
    Alternatives: OR them, or run each as its own index-friendly branch."""
    return [own_place, and_(placeless, activity_place)]


def _session_in_towns(codes: Sequence[str], activity_in_towns: Any) -> list[Any]:
    return _where_session_counts(
        Occurrence.municipality.in_(list(codes)),
        Occurrence.municipality.is_(None),
        activity_in_towns,
    )


def _session_in_area(area: Any) -> list[Any]:
    """`area`, a condition on one channel, as the alternatives of a session meeting there."""
    own = select(ServiceChannel.id).where(ServiceChannel.id == Occurrence.channel_id, area)
    return _where_session_counts(
        own.exists(), Occurrence.channel_id.is_(None), channel_within(area)
    )


def session_counts_in(codes: Sequence[str], filters: ActivityFilters) -> list[Any]:
    """Conditions on a session joined to its activity: it counts in one of the towns `codes`
    (none: any) and within each area of `filters`, however far its activity's other places."""
    conditions = []
    if codes:
        activity_in_towns = Activity.municipalities.overlap(list(codes))
        conditions.append(or_(*_session_in_towns(codes, activity_in_towns)))
    return conditions + [or_(*_session_in_area(area)) for area in area_conditions(filters)]


def without_place(filters: ActivityFilters) -> ActivityFilters:
    """The filters an activity answers for its sessions: all but where they meet."""
    return replace(filters, municipality=None, bbox=None, near=None)


async def occurrences_by_id(db: AsyncSession, ids: Sequence[int]) -> dict[int, Occurrence]:
    """The sessions of a page, by id (none asked, no query)."""
    if not ids:
        return {}
    found = await db.scalars(select(Occurrence).where(Occurrence.id.in_(list(ids))))
    return {o.id: o for o in found}
