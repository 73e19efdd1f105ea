"""Response models of the /v1 API, and the functions that fill them from rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from lahella_bridge.fragments import (
    Listed,
    code_fields,
    event_fields,
    municipality_fields,
    place_fields,
    summary_fields,
)
from lahella_bridge.models import Activity, Occurrence, Organisation
from lahella_bridge.records import StoredChannel
from lahella_bridge.schedule import HELSINKI
from lahella_bridge.taxonomy import label_in

T = TypeVar("T")


class ListEnvelope(BaseModel, Generic[T]):
    """Every list: total `count`, absolute `next`/`previous` page URLs, `items`."""

    count: int
    next: str | None
    previous: str | None
    items: list[T]


class Because(BaseModel):
    rule: str = Field(description="Which mapping rule placed it: theme, format, keyword, …")
    value: str = Field(description="The upstream value the rule matched.")


class TermRef(BaseModel):
    slug: str
    label: str | None
    because: list[Because] = Field(default_factory=list)


class CodeRef(BaseModel):
    code: str
    label: str | None
    because: list[Because] = Field(default_factory=list)


class MunicipalityRef(BaseModel):
    code: str
    name: str | None


class Provenance(BaseModel):
    source: str
    id: str = Field(description="The record's id in that source.")


class OrganisationRef(BaseModel):
    id: uuid.UUID
    name: str


class Place(BaseModel):
    id: uuid.UUID
    type: str = Field(description="place, online, phone or hybrid")
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    municipality: str | None = None
    lat: float | None = None
    lon: float | None = None
    summary: str | None = None
    registration: str | None = None
    registration_required: bool | None = None
    registration_url: str | None = None
    registration_email: str | None = None
    accessibility: list[str] = Field(default_factory=list)


class Session(BaseModel):
    starts: datetime
    ends: datetime | None
    channel_id: uuid.UUID | None


class ActivitySummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "64c9c47d-e4e1-5a91-ad69-c2d9e550486a",
                    "kind": "activity",
                    "name": "Seniorien kuntosaliryhmä – Oulu",
                    "summary": "Ohjattu kuntosaliryhmä yli 65-vuotiaille.",
                    "type": "hobby",
                    "organisation": {
                        "id": "cb67e966-dd44-5014-a96d-3b32bdd10b02",
                        "name": "Kuusamon Eläkeläiset ry",
                    },
                    "stages": [
                        {
                            "slug": "kotona-kaikki-hyvin",
                            "label": "Kotona kaikki hyvin",
                            "because": [{"rule": "activity_type", "value": "ryhmat-ja-kerhot"}],
                        }
                    ],
                    "themes": [
                        {
                            "slug": "fyysinen-terveys",
                            "label": "Fyysinen terveys",
                            "because": [{"rule": "theme", "value": "ht_urheilu"}],
                        }
                    ],
                    "activity_types": [
                        {
                            "slug": "ryhmat-ja-kerhot",
                            "label": "Ryhmät ja kerhot",
                            "because": [{"rule": "format", "value": "hm_ryhmat"}],
                        }
                    ],
                    "municipalities": [{"code": "564", "name": "Oulu"}],
                    "channels": [
                        {
                            "id": "12917778-f6c9-53e0-a542-fe58a48dba78",
                            "type": "place",
                            "street": "Isokatu 23",
                            "postal_code": "90100",
                            "city": "Oulu",
                            "municipality": "564",
                            "lat": 65.0212,
                            "lon": 25.476,
                        }
                    ],
                    "next_occurrences": [
                        {
                            "starts": "2026-12-01T10:00:00+02:00",
                            "ends": "2026-12-01T11:30:00+02:00",
                            "channel_id": "12917778-f6c9-53e0-a542-fe58a48dba78",
                        }
                    ],
                    "is_free": True,
                    "online": False,
                    "languages": ["fi"],
                    "url": "https://www.lahella.fi/fi-FI/activities/128867850000",
                    "lahella_url": "https://www.lahella.fi/fi-FI/activities/128867850000",
                    "source": "lahella",
                    "also_from": [{"source": "ptv", "id": "3f2e7c1a-9b8d-5e4f-a1b2-c3d4e5f60718"}],
                    "updated_at": "2026-11-25T19:30:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    kind: str = Field(description="activity (low-threshold) or sote (social and health service)")
    name: str
    summary: str | None
    type: str | None = Field(description="Lähellä.fi type: hobby, support or voluntary")
    organisation: OrganisationRef | None
    stages: list[TermRef]
    themes: list[TermRef]
    activity_types: list[TermRef]
    municipalities: list[MunicipalityRef]
    channels: list[Place]
    next_occurrences: list[Session]
    is_free: bool | None
    online: bool
    languages: list[str]
    url: str = Field(description="The public page: Lähellä.fi, or Suomi.fi for PTV records.")
    lahella_url: str | None = Field(description="The Lähellä.fi page; null for PTV records.")
    source: str = Field(description="Where the record comes from: lahella or ptv.")
    also_from: list[Provenance] = Field(
        description="Other sources that list the same activity; their record is folded "
        "into this one, which wins for every field it has."
    )
    updated_at: datetime


class Contact(BaseModel):
    type: str
    value: str
    label: str | None


class ActivityDetail(ActivitySummary):
    description: str | None
    description_html: str | None = Field(description="Sanitised HTML (nh3) for display.")
    pricing: str | None
    target_groups: list[CodeRef]
    life_events: list[CodeRef]
    service_classes: list[CodeRef]
    contacts: list[Contact]
    translations: dict[str, dict[str, str]] = Field(
        description="Every language the upstream had, per field: name, summary, description."
    )


class Event(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "8de64aa2-30d8-547a-a61a-509a99d0aabd:20261126T1000",
                    "activity_id": "8de64aa2-30d8-547a-a61a-509a99d0aabd",
                    "name": "Luontoretki lähimetsään – Oulu",
                    "summary": "Opastettu retki lähimetsään.",
                    "starts": "2026-11-26T10:00:00+02:00",
                    "ends": "2026-11-26T11:30:00+02:00",
                    "place": {
                        "id": "12917778-f6c9-53e0-a542-fe58a48dba78",
                        "type": "place",
                        "street": "Isokatu 23",
                        "postal_code": "90100",
                        "city": "Oulu",
                    },
                    "organisation": {
                        "id": "cb67e966-dd44-5014-a96d-3b32bdd10b02",
                        "name": "Pudasjärven Luontoyhdistys ry",
                    },
                    "municipality": {"code": "564", "name": "Oulu"},
                    "themes": ["asuminen-ymparisto-luonto"],
                    "stages": ["kotona-kaikki-hyvin"],
                    "is_free": True,
                    "online": False,
                    "url": "https://www.lahella.fi/fi-FI/activities/128867850007",
                }
            ]
        }
    )

    id: str = Field(description="Stable occurrence id: activity id and start time.")
    activity_id: uuid.UUID
    name: str
    summary: str | None
    starts: datetime
    ends: datetime | None
    place: Place | None
    organisation: OrganisationRef | None
    municipality: MunicipalityRef | None
    themes: list[str]
    stages: list[str]
    is_free: bool | None
    online: bool
    url: str


class OrganisationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "cb67e966-dd44-5014-a96d-3b32bdd10b02",
                    "name": "Limingan Kuoro ry",
                    "business_id": "0301234-5",
                    "url": "https://www.lahella.fi/fi-FI/organisation/7103010010",
                    "lahella_url": "https://www.lahella.fi/fi-FI/organisation/7103010010",
                    "source": "lahella",
                    "activities": 21,
                }
            ]
        }
    )

    id: uuid.UUID
    name: str
    business_id: str | None
    url: str | None
    lahella_url: str | None
    source: str = Field(description="The source whose record this is: lahella or ptv.")
    activities: int = Field(description="How many published activities it offers.")


def municipality_ref(code: str, lang: str) -> MunicipalityRef:
    return MunicipalityRef.model_validate(municipality_fields(code, lang))


def place(channel: StoredChannel, lang: str) -> Place:
    return Place.model_validate(place_fields(channel, lang))


def session_of(occurrence: Occurrence) -> Session:
    return Session(
        starts=occurrence.starts.astimezone(HELSINKI),
        ends=occurrence.ends.astimezone(HELSINKI) if occurrence.ends else None,
        channel_id=occurrence.channel_id,
    )


def _listed(row: Activity) -> Listed:
    return Listed(
        id=row.id,
        source=row.source,
        kind=row.kind,
        online=row.online,
        languages=row.languages,
        themes=row.themes,
        stages=row.stages,
        document=row.document,
    )


def activity_summary(row: Activity, lang: str, upcoming: list[Occurrence]) -> dict[str, Any]:
    """The same fields a stored summary fragment holds, with the clock's and the row's."""
    return {
        **summary_fields(_listed(row), lang),
        "next_occurrences": [session_of(o) for o in upcoming],
        "updated_at": row.updated_at,
    }


def activity_detail(row: Activity, lang: str, upcoming: list[Occurrence]) -> dict[str, Any]:
    doc = row.document
    translations = {"name": doc.name, "summary": doc.summary, "description": doc.description}
    return {
        **activity_summary(row, lang, upcoming),
        "description": label_in(doc.description, lang),
        "description_html": label_in(doc.description_html, lang),
        "pricing": label_in(doc.pricing, lang),
        "target_groups": code_fields(doc.target_groups, "target_groups", lang),
        "life_events": code_fields(doc.life_events, "life_events", lang),
        "service_classes": code_fields(doc.service_classes, "service_classes", lang),
        "contacts": [
            Contact(type=c.type, value=c.value, label=label_in(c.label, lang)) for c in doc.contacts
        ],
        "translations": {k: texts for k, texts in translations.items() if texts},
    }


def event_of(occurrence: Occurrence, row: Activity, lang: str) -> dict[str, Any]:
    """An event as the JSON-LD and iCalendar feeds read it: the activity's part (as its
    stored fragment holds it) and the session's own."""
    doc = row.document
    channel = doc.channel(str(occurrence.channel_id))
    code = occurrence.municipality or (doc.municipalities[0] if doc.municipalities else None)
    return {
        **event_fields(_listed(row), lang),
        "id": f"{row.id}:{occurrence.starts.astimezone(HELSINKI):%Y%m%dT%H%M}",
        "activity_id": row.id,
        "starts": occurrence.starts.astimezone(HELSINKI),
        "ends": occurrence.ends.astimezone(HELSINKI) if occurrence.ends else None,
        "place": place(channel, lang) if channel else None,
        "municipality": municipality_ref(code, lang) if code else None,
        "modified": row.updated_at,
    }


def organisation_out(row: Organisation, activities: int) -> OrganisationOut:
    doc = row.document
    return OrganisationOut(
        id=row.id,
        name=row.name,
        business_id=row.business_id,
        url=doc.url,
        lahella_url=doc.lahella_url,
        source=row.source,
        activities=activities,
    )
