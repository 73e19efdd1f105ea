"""The list items' fragments: the JSON of everything in a /v1/events or /v1/activities item
that depends only on its activity and the language, written when the activity is, and the
pure composition of an item and a page around them at read time.

A request then costs what only it decides (a session's times, place and town, the next
sessions, `updated_at`) and one encoding of the page, not a record validated, a model built
and a dump per item. The values are exactly the response models' (`api/schemas.py`):
UUIDs in their canonical form, coordinates as floats, instants as pydantic writes them.
A change to what a fragment holds needs a migration that rewrites the stored ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

import orjson

from lahella_bridge.records import Address, CodeTerm, SlugTerm, StoredChannel, StoredRecord
from lahella_bridge.schedule import HELSINKI
from lahella_bridge.taxonomy import label_in, taxonomy

LANGS: Final = ("fi", "sv", "en")
# `item_fragments.surface`: an event's activity part, an activity summary, a channel's place.
EVENT: Final = "event"
SUMMARY: Final = "summary"
PLACE: Final = "place"


def _uuid(value: str) -> str:
    """The canonical text of a UUID stored as a string, as the models' `uuid.UUID` write it."""
    return str(uuid.UUID(value))


def place_fields(channel: StoredChannel, lang: str) -> dict[str, Any]:
    """A channel as the response models' `Place`."""
    address = channel.address or Address()
    location = channel.location
    return {
        "id": _uuid(channel.id),
        "type": channel.type,
        "street": address.street,
        "postal_code": address.postal_code,
        "city": address.city,
        "municipality": channel.municipality,
        "lat": float(location.lat) if location else None,
        "lon": float(location.lon) if location else None,
        "summary": label_in(channel.summary, lang),
        "registration": label_in(channel.registration, lang),
        "registration_required": channel.registration_required,
        "registration_url": channel.registration_url,
        "registration_email": channel.registration_email,
        "accessibility": [label_in(a.label, lang) or a.code for a in channel.accessibility],
    }


def municipality_fields(code: str, lang: str) -> dict[str, Any]:
    """A municipality code as the response models' `MunicipalityRef`."""
    found = taxonomy().municipalities.get(code)
    return {"code": code, "name": label_in(found.labels, lang) if found else None}


def term_fields(entries: Sequence[SlugTerm], kind: str, lang: str) -> list[dict[str, Any]]:
    """County terms (stage, theme or activity_type) as the response models' `TermRef`."""
    tax = taxonomy()
    lookup = {"stage": tax.stage, "theme": tax.theme, "activity_type": tax.activity_type}[kind]
    result = []
    for entry in entries:
        term = lookup(entry.slug)
        result.append(
            {
                "slug": entry.slug,
                "label": label_in(term.labels, lang) if term else None,
                "because": [{"rule": r.rule, "value": r.value} for r in entry.because],
            }
        )
    return result


def code_fields(entries: Sequence[CodeTerm], table: str, lang: str) -> list[dict[str, Any]]:
    """National codes (a taxonomy table's) as the response models' `CodeRef`."""
    items = getattr(taxonomy(), table)
    return [
        {
            "code": e.code,
            "label": label_in(items[e.code].labels, lang) if e.code in items else None,
            "because": [{"rule": r.rule, "value": r.value} for r in e.because],
        }
        for e in entries
    ]


def organisation_fields(document: StoredRecord) -> dict[str, Any] | None:
    """The record's organisation as the response models' `OrganisationRef`."""
    found = document.organisation
    return {"id": _uuid(found.id), "name": found.name} if found else None


@dataclass(frozen=True)
class Listed:
    """An activity as its list items show it: its document and the row's own columns."""

    id: uuid.UUID
    source: str
    kind: str
    online: bool
    languages: list[str]
    themes: list[str]
    stages: list[str]
    document: StoredRecord


@dataclass(frozen=True)
class Fragment:
    """One row of `item_fragments`; `part` is the channel id of a place, else empty."""

    activity_id: uuid.UUID
    surface: str
    lang: str
    part: str
    body: str


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def event_fields(listed: Listed, lang: str) -> dict[str, Any]:
    """What an `Event` takes from its activity alone."""
    doc = listed.document
    return {
        "activity_id": str(listed.id),
        "name": label_in(doc.name, lang) or "",
        "summary": label_in(doc.summary, lang),
        "organisation": organisation_fields(doc),
        "themes": listed.themes,
        "stages": listed.stages,
        "is_free": doc.is_free,
        "online": listed.online,
        "url": doc.public_url,
    }


def summary_fields(listed: Listed, lang: str) -> dict[str, Any]:
    """An `ActivitySummary` but what depends on the clock (`next_occurrences`) or is set by
    the database at write (`updated_at`)."""
    doc = listed.document
    return {
        "id": str(listed.id),
        "kind": listed.kind,
        "name": label_in(doc.name, lang) or "",
        "summary": label_in(doc.summary, lang),
        "type": doc.type.code,
        "organisation": organisation_fields(doc),
        "stages": term_fields(doc.stages, "stage", lang),
        "themes": term_fields(doc.themes, "theme", lang),
        "activity_types": term_fields(doc.activity_types, "activity_type", lang),
        "municipalities": [municipality_fields(code, lang) for code in doc.municipalities],
        "channels": [place_fields(c, lang) for c in doc.channels],
        "is_free": doc.is_free,
        "online": listed.online,
        "languages": listed.languages,
        "url": doc.public_url,
        "lahella_url": doc.lahella_url,
        "source": listed.source,
        "also_from": [{"source": a.source, "id": a.upstream_id} for a in doc.also_from],
    }


def fragments_of(listed: Listed) -> Iterator[Fragment]:
    """Every fragment of one activity: per language its event part, its summary and the
    place of each channel (the first of a repeated id, as `StoredRecord.channel` finds)."""
    for lang in LANGS:
        yield Fragment(listed.id, EVENT, lang, "", _json(event_fields(listed, lang)))
        yield Fragment(listed.id, SUMMARY, lang, "", _json(summary_fields(listed, lang)))
        seen: set[str] = set()
        for channel in listed.document.channels:
            if channel.id not in seen:
                seen.add(channel.id)
                body = _json(place_fields(channel, lang))
                yield Fragment(listed.id, PLACE, lang, channel.id, body)


def _instant(value: datetime) -> str:
    """A JSON string of an instant as pydantic writes it (UTC as Z)."""
    return orjson.dumps(value, option=orjson.OPT_UTC_Z).decode()


@lru_cache(maxsize=512)
def _municipality_json(code: str, lang: str) -> str:
    return _json(municipality_fields(code, lang))


def event_item(
    activity_id: uuid.UUID,
    starts: datetime,
    ends: datetime | None,
    municipality: str | None,
    lang: str,
    place: str | None,
    event: str,
) -> str:
    """One `Event` as JSON: the session's own members, then its activity's `event`
    fragment (`place` is the place fragment of the session's channel, if it has one;
    `municipality` where it meets, else its activity's first)."""
    local = starts.astimezone(HELSINKI)
    town = _municipality_json(municipality, lang) if municipality else "null"
    return (
        f'{{"id":"{activity_id}:{local:%Y%m%dT%H%M}","starts":{_instant(local)},'
        f'"ends":{_instant(ends.astimezone(HELSINKI)) if ends else "null"},'
        f'"place":{place or "null"},"municipality":{town},{event[1:]}'
    )


@dataclass(frozen=True)
class Upcoming:
    """One of an activity's next sessions, as its summary lists it."""

    starts: datetime
    ends: datetime | None
    channel_id: uuid.UUID | None


def summary_item(summary: str, updated_at: datetime, upcoming: Sequence[Upcoming]) -> str:
    """One `ActivitySummary` as JSON: its next sessions and `updated_at`, then its
    `summary` fragment."""
    sessions = ",".join(
        f'{{"starts":{_instant(s.starts.astimezone(HELSINKI))},'
        f'"ends":{_instant(s.ends.astimezone(HELSINKI)) if s.ends else "null"},'
        f'"channel_id":{_json(str(s.channel_id)) if s.channel_id else "null"}}}'
        for s in upcoming
    )
    return f'{{"next_occurrences":[{sessions}],"updated_at":{_instant(updated_at)},{summary[1:]}'


def list_page(
    count: int, next_url: str | None, previous_url: str | None, items: list[str]
) -> bytes:
    """A `ListEnvelope` around items already JSON, encoded once."""
    return (
        f'{{"count":{count},"next":{_json(next_url)},"previous":{_json(previous_url)},'
        f'"items":[{",".join(items)}]}}'
    ).encode()
