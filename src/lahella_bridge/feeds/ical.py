"""RFC 5545 calendar of events, built with `icalendar`: stable UIDs, Europe/Helsinki."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from icalendar import Calendar, Event, Timezone, vText

from lahella_bridge import __version__


def render_calendar(events: list[dict[str, Any]], *, name: str, now: datetime) -> bytes:
    """Events as returned by the JSON endpoint -> a subscribable VCALENDAR."""
    calendar = Calendar()
    calendar.add("prodid", f"-//Pohde//lahella-bridge {__version__}//FI")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Helsinki")
    calendar.add("refresh-interval;value=duration", "PT1H")
    calendar.add_component(Timezone.from_tzid("Europe/Helsinki"))
    for item in events:
        event = Event()
        event.add("uid", f"{item['id']}@lahella-bridge")
        event.add("dtstamp", item.get("modified") or now)
        event.add("dtstart", item["starts"])
        if item["ends"] is not None:
            event.add("dtend", item["ends"])
        event.add("summary", item["name"])
        if item["summary"]:
            event.add("description", f"{item['summary']}\n\n{item['url']}")
        place = item["place"]
        if place is not None:
            where = ", ".join(p for p in (place.street, place.postal_code, place.city) if p)
            if where:
                event.add("location", vText(where))
            if place.lat is not None and place.lon is not None:
                event.add("geo", (place.lat, place.lon))
        event.add("url", item["url"])
        if item["organisation"]:
            event.add(
                "organizer",
                "mailto:noreply@pohde.fi",
                parameters={"CN": item["organisation"]["name"]},
            )
        calendar.add_component(event)
    return bytes(calendar.to_ical())
