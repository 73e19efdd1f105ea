"""Tolerant models of Lähellä.fi payloads as they *are* (see shared lahella-api.md).

Unknown fields are kept (`extra="allow"`), unknown code values stay plain strings and
almost everything is optional: the upstream is reverse-engineered, so we accept what
comes and let `normalise` decide what is usable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _as_list(value: Any) -> Any:
    """Code lists sometimes arrive as one bare string; null means empty."""
    if value is None:
        return []
    if isinstance(value, str | int | float):
        return [value]
    return value


def _as_text(value: Any) -> Any:
    return None if value is None else str(value) if isinstance(value, int | float) else value


CodeList = Annotated[list[str], BeforeValidator(_as_list)]
Text = Annotated[str | None, BeforeValidator(_as_text)]


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=False)


class Visibility(Loose):
    start: int | None = None
    end: int | None = None


class Tags(Loose):
    visibility: Visibility | None = None


class Address(Loose):
    street: Text = None
    postal_code: Text = Field(default=None, alias="postalCode")
    city: Text = None
    state: Text = None
    country: Text = None


class ChannelTranslation(Loose):
    summary: Text = None
    registration: Text = None
    address: Address | None = None


class DayTimes(Loose):
    weekday: int
    start_time: Text = Field(default=None, alias="startTime")
    end_time: Text = Field(default=None, alias="endTime")


class Recurrence(Loose):
    period: Text = None
    end: int | None = None
    exclude: Annotated[list[Any], BeforeValidator(_as_list)] = Field(default_factory=list)
    day_specific_times: Annotated[list[DayTimes], BeforeValidator(_as_list)] = Field(
        default_factory=list, alias="daySpecificTimes"
    )


class ScheduleRule(Loose):
    """`channels[].events[]`: type "4" is weekly with day-specific times."""

    start: int | None = None
    end: int | None = None
    time_zone: Text = Field(default=None, alias="timeZone")
    type: Text = None
    recurrence: Recurrence | None = None
    start_time: Text = Field(default=None, alias="startTime")
    end_time: Text = Field(default=None, alias="endTime")


class GeoPoint(Loose):
    type: Text = None
    coordinates: list[float] | None = None


class MapInfo(Loose):
    center: GeoPoint | None = None
    zoom: int | None = None


class Channel(Loose):
    id: Text = None
    type: CodeList = Field(default_factory=list)
    accessibility: CodeList = Field(default_factory=list)
    map: MapInfo | None = None
    translations: dict[str, ChannelTranslation] = Field(default_factory=dict)
    events: Annotated[list[ScheduleRule], BeforeValidator(_as_list)] = Field(default_factory=list)
    registration_required: bool | None = Field(default=None, alias="registrationRequired")
    registration_url: Text = Field(default=None, alias="registrationUrl")
    registration_email: Text = Field(default=None, alias="registrationEmail")


class ContactTranslation(Loose):
    description: Text = None


class Contact(Loose):
    id: Text = None
    type: Text = None
    value: Text = None
    translations: dict[str, ContactTranslation] = Field(default_factory=dict)


class Translation(Loose):
    name: Text = None
    summary: Text = None
    description: Text = None
    pricing: Text = None
    registration: Text = None


class Traits(Loose):
    type: Text = None
    required_locales: CodeList = Field(default_factory=list, alias="requiredLocales")
    translations: dict[str, Translation] = Field(default_factory=dict)
    theme: CodeList = Field(default_factory=list)
    format: CodeList = Field(default_factory=list)
    locale: CodeList = Field(default_factory=list)
    demographic: CodeList = Field(default_factory=list)
    region: CodeList = Field(default_factory=list)
    pricing: CodeList = Field(default_factory=list)
    photo: Text = None
    photo_alt: Text = Field(default=None, alias="photoAlt")
    contacts: Annotated[list[Contact], BeforeValidator(_as_list)] = Field(default_factory=list)
    channels: Annotated[list[Channel], BeforeValidator(_as_list)] = Field(default_factory=list)


class GroupDetails(Loose):
    """An organisation as `links[groups]=true` may expand it (shape unverified upstream)."""

    key: Text = Field(default=None, alias="_key")
    name: Text = None
    business_id: Text = Field(default=None, alias="businessId")
    translations: dict[str, Translation] = Field(default_factory=dict)
    url: Text = None
    email: Text = None
    phone: Text = None

    def display_name(self) -> str | None:
        if self.name:
            return self.name
        for lang in ("fi", "sv", "en"):
            translation = self.translations.get(lang)
            if translation is not None and translation.name:
                return translation.name
        return None


class LahellaActivity(Loose):
    key: str = Field(alias="_key", min_length=1)
    status: Text = None
    group: Text = None
    tags: Tags | None = None
    traits: Traits
    links: Any = None

    def group_details(self) -> GroupDetails | None:
        """The expanded group, if the response carried one for `self.group`."""
        groups = self.links.get("groups") if isinstance(self.links, dict) else None
        candidates = list(groups.values()) if isinstance(groups, dict) else groups or []
        for candidate in candidates:
            if isinstance(candidate, dict) and str(candidate.get("_key")) == str(self.group):
                return GroupDetails.model_validate(candidate)
        return None


class Publication(StrEnum):
    PUBLISHED = "published"
    DRAFT = "draft"
    EXPIRED = "expired"
    PENDING = "pending"
    UNKNOWN = "unknown"


def epoch_ms(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, UTC)


def publication_state(activity: LahellaActivity | _PublicationFields, now: datetime) -> Publication:
    """`published`, or null status inside `tags.visibility`; an ended window retires."""
    visibility = activity.tags.visibility if activity.tags else None
    start = epoch_ms(visibility.start) if visibility else None
    end = epoch_ms(visibility.end) if visibility else None
    if end is not None and end <= now:
        return Publication.EXPIRED
    if activity.status == "published":
        return Publication.PUBLISHED
    if activity.status is not None:
        return Publication.DRAFT
    if start is None and end is None:
        return Publication.UNKNOWN
    if start is not None and start > now:
        return Publication.PENDING
    return Publication.PUBLISHED


class ActivitiesPage(Loose):
    """The `GET /v1/activities` envelope; items stay raw so one bad item spoils nothing."""

    items: list[Any]
    total: int | None = None
    has_more: bool | None = Field(default=None, alias="hasMore")


class _PublicationFields(Loose):
    key: str = Field(alias="_key")
    status: Text = None
    tags: Tags | None = None
    traits: Any = None


def raw_publication_state(raw: Any, now: datetime) -> Publication | None:
    """The publication state of a raw record without validating all of it (None: unusable)."""
    try:
        fields = _PublicationFields.model_validate(raw)
    except ValueError:
        return None
    return publication_state(fields, now)
