"""PURE mapping of stored activities to City of Helsinki Linked Events v1 objects.

Recurring activities follow Linked Events' model: a `super_event` of type `recurring`
whose dated sessions are its `sub_events`; an activity with one session is one event.
The county's stages, themes and activity types are published as keywords.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lahella_bridge.records import Address, OrganisationRecord, StoredChannel, StoredRecord
from lahella_bridge.schedule import HELSINKI
from lahella_bridge.taxonomy import Term, taxonomy

DATA_SOURCE = "lahella"
INTERNET_PLACE = "lahella:internet"
KEYWORD_KINDS = {"stage": "stages", "theme": "themes", "type": "activity_types"}
CONTEXT = "http://schema.org"
_SUB_ID = re.compile(r"^lahella:(?P<key>[^.]+)\.(?P<stamp>\d{12})$")


def keyword_id(kind: str, slug: str) -> str:
    return f"pohde:{kind}-{slug}"


def parse_keyword(keyword_id_: str) -> tuple[str, str] | None:
    """`pohde:theme-mielen-hyvinvointi` -> ("themes", "mielen-hyvinvointi")."""
    match = re.fullmatch(r"pohde:(stage|theme|type)-([a-z0-9-]+)", keyword_id_.strip())
    return (KEYWORD_KINDS[match[1]], match[2]) if match else None


def all_keywords() -> list[tuple[str, str, Term]]:
    """(keyword id, activity column, term) for every published keyword."""
    tax = taxonomy()
    return [
        *((keyword_id("stage", t.slug), "stages", t) for t in tax.stages),
        *((keyword_id("theme", t.slug), "themes", t) for t in tax.themes),
        *((keyword_id("type", t.slug), "activity_types", t) for t in tax.activity_types),
    ]


def start_stamp(starts: datetime) -> str:
    """A session's local start as the `YYYYMMDDHHMM` part of its event id."""
    return f"{starts.astimezone(HELSINKI):%Y%m%d%H%M}"


def event_id(upstream_id: str, stamp: str | None = None) -> str:
    """`lahella:<key>` for a whole activity, `lahella:<key>.<stamp>` for one session."""
    if stamp is None:
        return f"{DATA_SOURCE}:{upstream_id}"
    return f"{DATA_SOURCE}:{upstream_id}.{stamp}"


def parse_event_id(value: str) -> tuple[str, str | None] | None:
    """(upstream id, local start stamp or None) of an event id we issued."""
    match = _SUB_ID.fullmatch(value)
    if match:
        return match["key"], match["stamp"]
    if value.startswith(f"{DATA_SOURCE}:") and "." not in value:
        return value.split(":", 1)[1], None
    return None


def place_id(channel: StoredChannel) -> str:
    if channel.type in ("online", "phone"):
        return INTERNET_PLACE
    return f"{DATA_SOURCE}:{channel.id}"


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(HELSINKI).isoformat() if moment else None


def _ref(base: str, kind: str, identifier: str) -> dict[str, str]:
    return {"@id": f"{base}/{kind}/{identifier}/"}


def _texts(labels: dict[str, str] | None) -> dict[str, str] | None:
    return {k: v for k, v in (labels or {}).items() if v} or None


def division(code: str) -> dict[str, Any]:
    municipality = taxonomy().municipalities[code]
    return {
        "type": "muni",
        "ocd_id": f"ocd-division/country:fi/kunta:{municipality.labels['fi'].lower()}",
        "municipality": None,
        "name": dict(municipality.labels),
    }


def keyword_object(base: str, identifier: str, term: Term, n_events: int) -> dict[str, Any]:
    return {
        "id": identifier,
        "@id": f"{base}/keyword/{identifier}/",
        "@type": "Keyword",
        "@context": CONTEXT,
        "data_source": "pohde",
        "publisher": "pohde",
        "name": dict(term.labels),
        "alt_labels": [],
        "aggregate": False,
        "deprecated": False,
        "n_events": n_events,
        "has_upcoming_events": n_events > 0,
        "image": None,
        "created_time": None,
        "last_modified_time": None,
        "replaced_by": None,
        "origin_id": term.slug,
    }


def place_object(
    base: str, channel: StoredChannel, n_events: int, modified: datetime | None
) -> dict[str, Any]:
    """A Linked Events Place from one of our channels (an address, or the internet)."""
    identifier = place_id(channel)
    address = channel.address or Address()
    location = channel.location
    code = channel.municipality
    municipality = taxonomy().municipalities.get(code) if code else None
    internet = identifier == INTERNET_PLACE
    name = (
        {"fi": "Internet", "sv": "Internet", "en": "Internet"}
        if internet
        else {"fi": ", ".join(p for p in (address.street, address.city) if p) or "Paikka"}
    )
    return {
        "id": identifier,
        "@id": f"{base}/place/{identifier}/",
        "@type": "Place",
        "@context": CONTEXT,
        "data_source": DATA_SOURCE,
        "publisher": DATA_SOURCE,
        "origin_id": None if internet else channel.id,
        "name": name,
        "street_address": None if internet or not address.street else {"fi": address.street},
        "postal_code": None if internet else address.postal_code,
        "address_locality": dict(municipality.labels)
        if municipality and not internet
        else ({"fi": address.city} if address.city and not internet else None),
        "address_region": None,
        "address_country": None if internet else "FI",
        "post_office_box_num": None,
        "position": {"type": "Point", "coordinates": [location.lon, location.lat]}
        if location and not internet
        else None,
        "divisions": [division(code)] if code and not internet else [],
        "n_events": n_events,
        "has_upcoming_events": n_events > 0,
        "deleted": False,
        "info_url": None,
        "description": None,
        "telephone": None,
        "email": None,
        "contact_type": None,
        "image": None,
        "parent": None,
        "replaced_by": None,
        "custom_data": None,
        "created_time": None,
        "last_modified_time": _iso(modified),
    }


def organization_object(
    base: str, org_id: str, record: OrganisationRecord, modified: datetime
) -> dict[str, Any]:
    identifier = f"{DATA_SOURCE}:{org_id}"
    return {
        "id": identifier,
        "@id": f"{base}/organization/{identifier}/",
        "@type": "Organization",
        "@context": CONTEXT,
        "data_source": DATA_SOURCE,
        "origin_id": record.upstream_id,
        "classification": "ngo",
        "name": record.name,
        "founding_date": None,
        "dissolution_date": None,
        "parent_organization": None,
        "sub_organizations": [],
        "affiliated_organizations": [],
        "created_time": None,
        "last_modified_time": _iso(modified),
        "replaced_by": None,
        "has_regular_users": False,
        "is_affiliated": False,
    }


@dataclass
class EventSource:
    """What one Linked Events event is made of (kind: single, sub, super or deleted)."""

    kind: str
    upstream_id: str
    record: StoredRecord
    languages: list[str]
    stages: list[str]
    themes: list[str]
    activity_types: list[str]
    modified: datetime
    starts: datetime | None
    ends: datetime | None
    channel_id: str | None = None
    sub_stamps: list[str] = field(default_factory=list)


def _type_id(source: EventSource) -> str:
    if source.record.type.code == "voluntary":
        return "Volunteering"
    return "Course" if "koulutus-ja-kurssit" in source.activity_types else "General"


def _location(base: str, source: EventSource, places: dict[str, Any] | None) -> Any:
    channels = source.record.channels
    channel = next((c for c in channels if c.id == source.channel_id), None) or (
        channels[0] if channels else None
    )
    if channel is None:
        return None
    identifier = place_id(channel)
    if places is not None:
        return place_object(base, channel, 1, source.modified)
    return _ref(base, "place", identifier)


def event_object(
    base: str,
    source: EventSource,
    *,
    include: set[str] = frozenset(),  # type: ignore[assignment]
    keyword_counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    """One Linked Events v1 Event; `include` embeds location and keywords."""
    record = source.record
    own_stamp = start_stamp(source.starts) if source.kind == "sub" and source.starts else None
    identifier = event_id(source.upstream_id, own_stamp)
    keyword_ids = (
        [keyword_id("stage", s) for s in source.stages]
        + [keyword_id("theme", t) for t in source.themes]
        + [keyword_id("type", t) for t in source.activity_types]
    )
    if "keywords" in include:
        terms = {kid: term for kid, _, term in all_keywords()}
        keywords: list[Any] = [
            keyword_object(base, kid, terms[kid], (keyword_counts or {}).get(kid, 0))
            for kid in keyword_ids
            if kid in terms
        ]
    else:
        keywords = [_ref(base, "keyword", kid) for kid in keyword_ids]
    organisation = record.organisation
    pricing = _texts(record.pricing)
    event: dict[str, Any] = {
        "id": identifier,
        "@id": f"{base}/event/{identifier}/",
        "@type": "Event/LinkedEvent",
        "@context": CONTEXT,
        "data_source": DATA_SOURCE,
        "publisher": f"{DATA_SOURCE}:{organisation.id}" if organisation else None,
        "location": _location(base, source, {} if "location" in include else None),
        "keywords": keywords,
        "audience": [],
        "images": [],
        "videos": [],
        "external_links": [],
        "in_language": [
            _ref(base, "language", code) for code in source.languages if code in ("fi", "sv", "en")
        ],
        "super_event": _ref(base, "event", event_id(source.upstream_id))
        if source.kind == "sub"
        else None,
        "super_event_type": "recurring" if source.kind == "super" else None,
        "sub_events": [
            _ref(base, "event", event_id(source.upstream_id, s)) for s in source.sub_stamps
        ]
        if source.kind == "super"
        else [],
        "event_status": "EventScheduled",
        "publication_status": "public",
        "type_id": _type_id(source),
        "offers": [
            {
                "is_free": bool(record.is_free),
                "price": None if record.is_free else pricing,
                "info_url": {"fi": record.public_url},
                "description": pricing,
            }
        ],
        "name": _texts(record.name) or {"fi": ""},
        "short_description": _texts(record.summary),
        "description": _texts(record.description_html),
        "info_url": {"fi": record.public_url},
        "provider": {"fi": organisation.name} if organisation else None,
        "provider_contact_info": None,
        "location_extra_info": None,
        "start_time": _iso(source.starts),
        "end_time": _iso(source.ends),
        "has_start_time": source.starts is not None,
        "has_end_time": source.ends is not None,
        "created_time": None,
        "last_modified_time": _iso(source.modified),
        "date_published": None,
        "custom_data": None,
        "audience_min_age": None,
        "audience_max_age": None,
        "deleted": source.kind == "deleted",
        "replaced_by": None,
        "maximum_attendee_capacity": None,
        "minimum_attendee_capacity": None,
        "enrolment_start_time": None,
        "enrolment_end_time": None,
        "local": False,
    }
    return event


def language_object(base: str, code: str) -> dict[str, Any]:
    names = {
        "fi": {"fi": "suomi", "sv": "finska", "en": "Finnish"},
        "sv": {"fi": "ruotsi", "sv": "svenska", "en": "Swedish"},
        "en": {"fi": "englanti", "sv": "engelska", "en": "English"},
    }
    return {
        "id": code,
        "@id": f"{base}/language/{code}/",
        "@type": "Language",
        "@context": CONTEXT,
        "translation_available": True,
        "name": names[code],
    }
