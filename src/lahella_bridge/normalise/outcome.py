"""What normalising one upstream record yields, and what it may know of the world.

PURE: no I/O, no clock (`now` comes in), no database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from lahella_bridge.records import OrganisationRecord, StoredRecord
from lahella_bridge.upstream.schemas import Publication

LANGUAGES = ("fi", "sv", "en")


M = TypeVar("M", bound=BaseModel)


class UnusableRecord(Exception):
    """The record cannot be published as it is; the harvester quarantines it."""


@dataclass(frozen=True)
class Context:
    """What normalisation may know of the world: the time and the occurrence horizon."""

    now: datetime
    activity_url_template: str = "https://www.lahella.fi/fi-FI/activities/{key}"
    organisation_url_template: str = "https://www.lahella.fi/fi-FI/organisation/{group}"
    ptv_service_url_template: str = "https://www.suomi.fi/palvelut/{id}"
    ptv_organisation_url_template: str = "https://www.suomi.fi/organisaatiot/{id}"
    past_days: int = 30
    future_days: int = 400


@dataclass
class NormalisedOrganisation:
    id: uuid.UUID
    upstream_id: str
    name: str
    business_id: str | None
    document: OrganisationRecord
    ptv: dict[str, Any]


@dataclass
class NormalisedChannel:
    id: uuid.UUID
    channel_type: str
    municipality: str | None
    lat: float | None
    lon: float | None
    ptv: dict[str, Any]


@dataclass
class NormalisedOccurrence:
    starts: datetime
    ends: datetime | None
    channel_id: uuid.UUID | None
    municipality: str | None


@dataclass
class NormalisedActivity:
    id: uuid.UUID
    upstream_id: str
    publication: Publication
    organisation: NormalisedOrganisation | None
    document: StoredRecord
    ptv: dict[str, Any]
    channels: list[NormalisedChannel]
    occurrences: list[NormalisedOccurrence]
    name_sort: str
    visible_until: datetime | None
    municipalities: list[str]
    stages: list[str]
    themes: list[str]
    activity_types: list[str]
    target_groups: list[str]
    languages: list[str]
    is_free: bool | None
    online: bool
    search_text: str
    match_keys: list[str] = field(default_factory=list)
    unmapped: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# A source's mapping of one raw record: a module-level function, so that a worker
# process can be handed it by name.
Normaliser = Callable[[Any, Context], NormalisedActivity]


def parse_record(raw: Any, model: type[M]) -> M:
    """Validate an upstream record's shape; an unusable shape raises `UnusableRecord`."""
    if not isinstance(raw, dict):
        raise UnusableRecord(f"record is a {type(raw).__name__}, not an object")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        raise UnusableRecord(f"{where}: {first['msg']} ({exc.error_count()} problem(s))") from None
