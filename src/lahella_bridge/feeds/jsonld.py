"""schema.org `Event` JSON-LD, for search engines and calendar aggregators."""

from __future__ import annotations

from typing import Any


def event_jsonld(item: dict[str, Any]) -> dict[str, Any]:
    place = item["place"]
    location: dict[str, Any]
    if place is not None and place.type == "online":
        location = {"@type": "VirtualLocation", "url": place.registration_url or item["url"]}
    elif place is not None:
        location = {
            "@type": "Place",
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
        location = {"@type": "Place", "name": (item["municipality"] or {}).get("name")}
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


def events_jsonld(items: list[dict[str, Any]], page_url: str, count: int) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@type": "ItemList",
        "url": page_url,
        "numberOfItems": count,
        "itemListElement": [
            {"@type": "ListItem", "position": n, "item": event_jsonld(item)}
            for n, item in enumerate(items, start=1)
        ],
    }
