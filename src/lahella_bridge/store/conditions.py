"""Activity filters as SQL conditions: the one meaning of every filter, which each read
surface shares."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, text

from lahella_bridge.models import Activity, ServiceChannel


@dataclass(frozen=True)
class ActivityFilters:
    """Combinable filters; every field narrows the set."""

    municipality: str | None = None
    stage: str | None = None
    theme: str | None = None
    activity_type: str | None = None
    target_group: str | None = None
    language: str | None = None
    q: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north
    near: tuple[float, float] | None = None  # lat, lon
    radius_km: float = 10.0
    is_free: bool | None = None
    online: bool | None = None
    updated_since: datetime | None = None
    organisation_id: uuid.UUID | None = None
    kind: str | None = None


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def channel_within(condition: Any) -> Any:
    return (
        select(ServiceChannel.id)
        .where(ServiceChannel.activity_id == Activity.id, condition)
        .exists()
    )


def _distance_km(lat: float, lon: float) -> Any:
    """Haversine distance from a channel to (lat, lon), in SQL."""
    return 12742 * func.asin(
        func.sqrt(
            func.power(func.sin(func.radians(ServiceChannel.lat - lat) / 2), 2)
            + func.cos(func.radians(lat))
            * func.cos(func.radians(ServiceChannel.lat))
            * func.power(func.sin(func.radians(ServiceChannel.lon - lon) / 2), 2)
        )
    )


def _text_match(q: str) -> Any:
    """Finnish full text (stemmed words, web-search syntax), every word as a prefix too,
    and trigrams of the name, so that partial words match."""
    finnish = text("'finnish'::regconfig")
    # The name first: a row it matches needs no look at the (out-of-line) tsvector.
    alternatives = [
        Activity.name_sort.ilike(f"%{escape_like(q.casefold())}%", escape="\\"),
        Activity.search.op("@@")(func.websearch_to_tsquery(finnish, q)),
    ]
    words = re.findall(r"\w+", q)
    if words:
        prefixes = " & ".join(f"{word}:*" for word in words[:8])
        alternatives.append(Activity.search.op("@@")(func.to_tsquery(finnish, prefixes)))
    return or_(*alternatives)


def area_conditions(filters: ActivityFilters) -> list[Any]:
    """The `bbox` and `near` filters as conditions on one channel (a place)."""
    areas = []
    if filters.bbox is not None:
        west, south, east, north = filters.bbox
        areas.append(
            and_(ServiceChannel.lon.between(west, east), ServiceChannel.lat.between(south, north))
        )
    if filters.near is not None:
        lat, lon = filters.near
        degrees = filters.radius_km / 111.0 + 0.01
        areas.append(
            and_(
                ServiceChannel.lat.between(lat - degrees, lat + degrees),
                _distance_km(lat, lon) <= filters.radius_km,
            )
        )
    return areas


def activity_conditions(filters: ActivityFilters, *, include_deleted: bool = False) -> list[Any]:
    """WHERE clauses for live, visible activities matching the filters."""
    conditions: list[Any] = (
        []
        if include_deleted
        else [
            Activity.deleted_at.is_(None),
            or_(Activity.visible_until.is_(None), Activity.visible_until > func.now()),
        ]
    )
    arrays = (
        (Activity.municipalities, filters.municipality),
        (Activity.stages, filters.stage),
        (Activity.themes, filters.theme),
        (Activity.activity_types, filters.activity_type),
        (Activity.target_groups, filters.target_group),
        (Activity.languages, filters.language),
    )
    conditions += [column.contains([value]) for column, value in arrays if value is not None]
    if filters.q:
        conditions.append(_text_match(filters.q))
    conditions += [channel_within(area) for area in area_conditions(filters)]
    if filters.is_free is not None:
        conditions.append(Activity.is_free.is_(filters.is_free))
    if filters.online is not None:
        conditions.append(Activity.online.is_(filters.online))
    if filters.updated_since is not None:
        conditions.append(Activity.updated_at >= filters.updated_since)
    if filters.organisation_id is not None:
        conditions.append(Activity.organisation_id == filters.organisation_id)
    if filters.kind is not None:
        conditions.append(Activity.kind == filters.kind)
    return conditions
