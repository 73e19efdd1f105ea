"""Reads for the PTV v11 surface: stored PTV bodies and organisations' live services."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lahella_bridge.models import Activity, Organisation, ServiceChannel
from lahella_bridge.store.conditions import ActivityFilters, activity_conditions


async def ptv_rows(
    db: AsyncSession,
    kind: str,
    *,
    ids: Sequence[uuid.UUID] | None = None,
    municipality: str | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> tuple[int, list[tuple[uuid.UUID, dict[str, Any], datetime]]]:
    """(count, [(id, stored PTV body, updated_at)]) for Service, ServiceChannel, Organization."""
    live_activity = and_(*activity_conditions(ActivityFilters()))
    if kind == "Service":
        query = select(Activity.id, Activity.ptv, Activity.updated_at).where(live_activity)
        area = Activity.municipalities.contains([municipality]) if municipality else None
        stamp, key = Activity.updated_at, Activity.id
    elif kind == "ServiceChannel":
        query = (
            select(ServiceChannel.id, ServiceChannel.ptv, Activity.updated_at)
            .join(Activity, Activity.id == ServiceChannel.activity_id)
            .where(live_activity)
        )
        area = ServiceChannel.municipality == municipality if municipality else None
        stamp, key = Activity.updated_at, ServiceChannel.id
    else:
        query = select(Organisation.id, Organisation.ptv, Organisation.updated_at).where(
            Organisation.deleted_at.is_(None)
        )
        area = (
            select(Activity.id)
            .where(
                Activity.organisation_id == Organisation.id,
                live_activity,
                Activity.municipalities.contains([municipality]),
            )
            .exists()
            if municipality
            else None
        )
        stamp, key = Organisation.updated_at, Organisation.id
    if ids is not None:
        query = query.where(key.in_(list(ids)))
    if area is not None:
        query = query.where(area)
    if since is not None:
        query = query.where(stamp >= since)
    if before is not None:
        query = query.where(stamp < before)
    count = await db.scalar(select(func.count()).select_from(query.subquery()))
    rows = await db.execute(query.order_by(stamp, key).limit(limit).offset(offset))
    return int(count or 0), [(row[0], row[1], row[2]) for row in rows]


async def services_of_organisations(
    db: AsyncSession, organisation_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID, Any, Any]]:
    """(organisation id, service id, PTV serviceNames, PTV areas) of the live services of
    a page of organisations, in one query, by organisation and service name."""
    rows = await db.execute(
        select(
            Activity.organisation_id,
            Activity.id,
            Activity.ptv["serviceNames"],
            Activity.ptv["areas"],
        )
        .where(
            Activity.organisation_id.in_(list(organisation_ids)),
            *activity_conditions(ActivityFilters()),
        )
        .order_by(Activity.organisation_id, Activity.name_sort, Activity.id)
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]
