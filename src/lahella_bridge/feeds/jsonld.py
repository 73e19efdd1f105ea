"""schema.org `Event` JSON-LD, for search engines and calendar aggregators."""

from __future__ import annotations

from typing import Any

HYDRA = "http://www.w3.org/ns/hydra/core#"


def _municipality_name(item: dict[str, Any]) -> str | None:
    municipality = item["municipality"]
    return municipality.name if municipality is not None else None


def _place_name(place: Any, item: dict[str, Any]) -> str | None:
    """Upstream places have no name of their own: their address says where they are."""
    city = place.city or _municipality_name(item)
    return ", ".join(part for part in (place.street, city) if part) or None


def event_jsonld(item: dict[str, Any]) -> dict[str, Any]:
    place = item["place"]
    location: dict[str, Any]
    if place is not None and place.type == "online":
        location = {"@type": "VirtualLocation", "url": place.registration_url or item["url"]}
    elif place is not None:
        location = {
            "@type": "Place",
            "name": _place_name(place, item),
            "address": {
                "@type": "PostalAddress",
                "streetAddress": place.street,
                "postalCode": place.postal_code,
                "addressLocality": place.city,
                "addressCountry": "FI",
            },
        }
        if place.lat is not None:
            location["geo"] = {
                "@type": "GeoCoordinates",
                "latitude": place.lat,
                "longitude": place.lon,
            }
    else:
        location = {"@type": "Place", "name": _municipality_name(item)}
    event: dict[str, Any] = {
        "@type": "Event",
        "@id": f"urn:lahella-bridge:event:{item['id']}",
        "name": item["name"],
        "description": item["summary"],
        "startDate": item["starts"].isoformat(),
        "endDate": item["ends"].isoformat() if item["ends"] else None,
        "eventStatus": "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/OnlineEventAttendanceMode"
        if item["online"] and (place is None or place.type == "online")
        else "https://schema.org/OfflineEventAttendanceMode",
        "location": location,
        "url": item["url"],
        "isAccessibleForFree": item["is_free"],
    }
    if item["organisation"]:
        event["organizer"] = {"@type": "Organization", "name": item["organisation"]["name"]}
    return {k: v for k, v in event.items() if v is not None}


def _page_view(page_url: str, next_url: str | None, previous_url: str | None) -> dict[str, Any]:
    """Hydra's paging links (schema.org has none for a paged ItemList)."""
    view: dict[str, Any] = {"@id": page_url, "@type": "hydra:PartialCollectionView"}
    if next_url:
        view["hydra:next"] = {"@id": next_url}
    if previous_url:
        view["hydra:previous"] = {"@id": previous_url}
    return view


def events_jsonld(
    items: list[dict[str, Any]],
    page_url: str,
    count: int,
    next_url: str | None,
    previous_url: str | None,
) -> dict[str, Any]:
    return {
        "@context": ["https://schema.org", {"hydra": HYDRA}],
        "@type": "ItemList",
        "url": page_url,
        "hydra:view": _page_view(page_url, next_url, previous_url),
        "numberOfItems": count,
        "itemListElement": [
            {"@type": "ListItem", "position": n, "item": event_jsonld(item)}
            for n, item in enumerate(items, start=1)
        ],
    }
