"""PURE mapping of stored activities to Open Referral HSDS 3.0 objects.

Ids are UUIDs (stable uuid5 where we derive them); empty fields are left out, never null;
the county's stages, themes and activity types form one taxonomy of terms.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from lahella_bridge.records import (
    Address,
    OrganisationRecord,
    StoredChannel,
    StoredRecord,
)
from lahella_bridge.taxonomy import Term, localised, taxonomy

NAMESPACE = uuid.UUID("0c6ad2d5-42c4-5f4b-9c1e-3b1d8a2f7e10")
TAXONOMY_ID = uuid.uuid5(NAMESPACE, "taxonomy:pohde")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
STATE = "Pohjois-Pohjanmaa"


def derived_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def compact(value: dict[str, Any]) -> dict[str, Any]:
    """Drop None, empty strings and empty lists recursively: HSDS omits empty fields."""
    return dict(_compact(value))


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        cleaned = {k: _compact(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def finnish_label(labels: dict[str, str] | None) -> str:
    """HSDS has one text per field: Finnish, else Swedish, else English (`localised`)."""
    found = localised(labels)
    return found[0] if found else ""


def terms() -> list[tuple[str, str, Term]]:
    """(kind, column, term) for the county taxonomy published as HSDS terms."""
    tax = taxonomy()
    return [
        *(("stage", "stages", t) for t in tax.stages),
        *(("theme", "themes", t) for t in tax.themes),
        *(("activity-type", "activity_types", t) for t in tax.activity_types),
    ]


def term_id(kind: str, slug: str) -> str:
    return derived_id("term", kind, slug)


def taxonomy_object() -> dict[str, Any]:
    return {
        "id": str(TAXONOMY_ID),
        "name": "Pohde: palveluketju, teemat ja toimintamuodot",
        "description": "The Pohde county's service-chain stages, wellbeing themes and "
        "activity types (seed material of the county).",
        "version": "1",
    }


def term_object(kind: str, term: Term) -> dict[str, Any]:
    return compact(
        {
            "id": term_id(kind, term.slug),
            "code": f"{kind}:{term.slug}",
            "name": finnish_label(term.labels),
            "description": f"{kind}: {term.labels.get('en') or finnish_label(term.labels)}",
            "taxonomy": "pohde",
            "taxonomy_id": str(TAXONOMY_ID),
            "language": "fi",
        }
    )


def organization_object(
    org_id: str, name: str, record: OrganisationRecord | None
) -> dict[str, Any]:
    """An organisation; `record` None when only an activity's reference to it is at hand."""
    return compact(
        {
            "id": org_id,
            "name": name,
            "description": f"{name}: järjestön toiminta Lähellä.fi-palvelussa.",
            "email": record.email if record else None,
            "website": record.url if record else None,
            "tax_id": record.business_id if record else None,
            "uri": record.lahella_url if record else None,
        }
    )


def _location(channel: StoredChannel, org_id: str | None) -> dict[str, Any]:
    address = channel.address or Address()
    point = channel.location
    virtual = channel.type in ("online", "phone")
    location: dict[str, Any] = {
        "id": derived_id("location", channel.id),
        "location_type": "virtual" if virtual else "physical",
        "organization_id": org_id,
        "url": channel.registration_url if virtual else None,
        "name": ", ".join(p for p in (address.street, address.city) if p) or None,
        "latitude": point.lat if point else None,
        "longitude": point.lon if point else None,
    }
    if not virtual and address.street and address.postal_code:
        location["addresses"] = [
            {
                "id": derived_id("address", channel.id),
                "location_id": location["id"],
                "address_1": address.street,
                "city": address.city or "",
                "state_province": STATE,
                "postal_code": address.postal_code,
                "country": "FI",
                "address_type": "physical",
            }
        ]
    return location


def _schedules(service_id: str, channel: StoredChannel, sal_id: str) -> list[dict[str, Any]]:
    schedules = []
    for index, row in enumerate(channel.schedule):
        if not 1 <= row.weekday <= 7:
            continue
        schedules.append(
            {
                "id": derived_id("schedule", channel.id, str(index)),
                "service_id": service_id,
                "service_at_location_id": sal_id,
                "freq": "WEEKLY",
                "interval": 2 if row.period == "P2W" else 1,
                "byday": WEEKDAYS[row.weekday - 1],
                "wkst": "MO",
                "opens_at": row.start_time,
                "closes_at": row.end_time,
                "dtstart": (row.valid_from or "")[:10] or None,
                "until": (row.until or "")[:10] or None,
                "valid_from": (row.valid_from or "")[:10] or None,
                "valid_to": (row.until or "")[:10] or None,
                "timezone": 2,
                "description": "Europe/Helsinki",
            }
        )
    return schedules


def service_at_location(
    service_id: str,
    channel: StoredChannel,
    org_id: str | None,
    *,
    with_service: dict[str, Any] | None = None,
) -> dict[str, Any]:
    sal_id = channel.id
    location = _location(channel, org_id)
    return compact(
        {
            "id": sal_id,
            "service_id": service_id,
            "location_id": location["id"],
            "description": finnish_label(channel.summary),
            "location": location,
            "schedules": _schedules(service_id, channel, sal_id),
            "service": with_service,
        }
    )


def service_object(
    service_id: str,
    record: StoredRecord,
    stages: list[str],
    themes: list[str],
    activity_types: list[str],
    modified: datetime,
    organisation: dict[str, Any] | None,
    *,
    full: bool,
) -> dict[str, Any]:
    org_id = record.organisation.id if record.organisation else None
    base: dict[str, Any] = {
        "id": service_id,
        "organization_id": org_id,
        "name": finnish_label(record.name),
        "alternate_name": record.name.get("sv"),
        "description": finnish_label(record.description) or finnish_label(record.summary),
        "url": record.public_url,
        "email": next((c.value for c in record.contacts if c.type == "email"), None),
        "status": "active",
        "fees_description": finnish_label(record.pricing),
        "application_process": finnish_label(record.registration),
        "last_modified": modified.isoformat(),
    }
    if organisation is not None:
        base["organization"] = organisation
    if full:
        base["phones"] = [
            {
                "id": derived_id("phone", service_id, c.value),
                "service_id": service_id,
                "number": c.value,
            }
            for c in record.contacts
            if c.type == "phone"
        ]
        base["service_at_locations"] = [
            service_at_location(service_id, channel, org_id) for channel in record.channels
        ]
        base["service_areas"] = [
            {
                "id": derived_id("area", service_id, code),
                "service_id": service_id,
                "extent_type": "municipality",
                "name": finnish_label(taxonomy().municipalities[code].labels),
            }
            for code in record.municipalities
        ]
        base["languages"] = [
            {"id": derived_id("language", service_id, code), "service_id": service_id, "code": code}
            for code in record.languages
        ]
        base["attributes"] = [
            {
                "id": derived_id("attribute", service_id, kind, slug),
                "link_id": service_id,
                "link_type": "service",
                "link_entity": "service",
                "taxonomy_term_id": term_id(kind, slug),
                "taxonomy_term": term_object(kind, term),
            }
            for kind, column, term in terms()
            for slug in {"stages": stages, "themes": themes, "activity_types": activity_types}[
                column
            ]
            if slug == term.slug
        ]
    return compact(base)


def page(contents: list[dict[str, Any]], total: int, number: int, size: int) -> dict[str, Any]:
    pages = max(1, -(-total // size))
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": number,
        "size": len(contents),
        "first_page": number == 1,
        "last_page": number >= pages,
        "empty": total == 0,
        "contents": contents,
    }
