"""The stored records as types: what `activities.document` and `organisations.document` hold.

PURE: no database, no web framework. Both sources' normalisers build these (through
`normalise.assembly`), `models` stores them as JSONB and hands them back validated, and every
reader reads them by attribute, so a renderer sees which fields exist.

Field names are the JSON keys. A field only one source writes (`source_id`, `visible_until`,
a channel's `ptv_id`...) has a default, so the other source's records validate; `to_json`
leaves out what the normaliser did not set, so the stored JSON keeps the keys it always had.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

# Text per language code (fi, sv, en), in that order.
Labels = dict[str, str]


class RecordPart(BaseModel):
    """A part of a stored record: exactly the keys it declares, read-only once built."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        """The JSON stored for it: the keys its normaliser set, nothing added."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Self:
        return cls.model_validate(value)


class Reason(RecordPart):
    """Why a term was placed: the classification rule and the value it matched."""

    rule: str
    value: str


class SlugTerm(RecordPart):
    """A county term (stage, theme, activity type) with the reasons it applies."""

    slug: str
    because: list[Reason]


class CodeTerm(RecordPart):
    """A national code (target group, life event, service class) with its reasons."""

    code: str
    because: list[Reason]


class ActivityType(RecordPart):
    """Lähellä.fi's own activity type (`code` None for PTV services)."""

    code: str | None
    label: Labels


class OrganisationRef(RecordPart):
    id: str
    name: str


class Address(RecordPart):
    """The parts of a street address the upstream gave; absent parts stay absent."""

    street: str | None = None
    postal_code: str | None = None
    city: str | None = None


class Point(RecordPart):
    """WGS84 longitude and latitude."""

    lon: float
    lat: float


class Accessibility(RecordPart):
    code: str
    label: Labels


class ScheduleRow(RecordPart):
    """One weekly time of a channel: ISO weekday 1-7, local times, the rule's span."""

    weekday: int
    start_time: str | None
    end_time: str | None
    period: str
    valid_from: str | None = Field(alias="from")
    until: str | None


class StoredChannel(RecordPart):
    """A place, online, phone or web channel of an activity."""

    id: str
    ptv_id: str | None = None
    type: str
    name: Labels = Field(default_factory=dict)
    address: Address | None
    location: Point | None
    municipality: str | None
    summary: Labels
    registration: Labels
    registration_required: bool | None
    registration_url: str | None
    registration_email: str | None
    accessibility: list[Accessibility]
    schedule: list[ScheduleRow]


class ContactEntry(RecordPart):
    """A phone number, e-mail address or web page (`type` phone, email or www)."""

    type: str
    value: str
    label: Labels


class Image(RecordPart):
    key: str
    alt: str | None


class Unmapped(RecordPart):
    """An upstream code the taxonomy does not know, kept for the quarantine report."""

    field: str
    value: str


class Supplement(RecordPart):
    """The twin from another source whose texts filled this record's gaps (see `dedupe`)."""

    source: str | None
    id: str | None
    upstream_id: str | None
    filled: list[str] = Field(default_factory=list)


class StoredRecord(RecordPart):
    """One activity or service as every surface reads it, whichever source it came from."""

    id: str
    source: str
    upstream_id: str
    kind: str
    type: ActivityType
    name: Labels
    summary: Labels
    description: Labels
    description_html: Labels
    pricing: Labels
    registration: Labels
    is_free: bool | None
    languages: list[str]
    content_languages: list[str]
    stages: list[SlugTerm]
    themes: list[SlugTerm]
    activity_types: list[SlugTerm]
    target_groups: list[CodeTerm]
    life_events: list[CodeTerm]
    service_classes: list[CodeTerm]
    municipalities: list[str]
    organisation: OrganisationRef | None
    channels: list[StoredChannel]
    contacts: list[ContactEntry]
    image: Image | None
    lahella_url: str | None
    url: str
    # Lähellä.fi only.
    visible_until: str | None = None
    source_themes: list[str] = Field(default_factory=list)
    source_formats: list[str] = Field(default_factory=list)
    # PTV only.
    source_id: str | None = None
    modified_upstream: str | None = None
    unmapped: list[Unmapped]
    also_from: list[Supplement] = Field(default_factory=list)

    @property
    def public_url(self) -> str:
        """Its public page: Lähellä.fi for its activities, Suomi.fi for PTV's."""
        return self.url or self.lahella_url or ""

    def channel(self, channel_id: str) -> StoredChannel | None:
        return next((c for c in self.channels if c.id == channel_id), None)


class OrganisationRecord(RecordPart):
    """An organisation as the surfaces read it; `groups` and `lahella_url` are Lähellä.fi's,
    `ptv_id` and `organization_type` PTV's."""

    id: str
    source: str
    upstream_id: str
    groups: list[str] = Field(default_factory=list)
    ptv_id: str | None = None
    name: str
    business_id: str | None
    organization_type: str | None = None
    url: str | None
    email: str | None
    lahella_url: str | None = None
