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
from collections.abc import Sequence
from typing import Any

from lahella_bridge.records import Address, CodeTerm, SlugTerm, StoredChannel, StoredRecord
from lahella_bridge.taxonomy import label_in, taxonomy


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
