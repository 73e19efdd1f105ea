"""RFC 5545 calendar of events, built with `icalendar`: stable UIDs, Europe/Helsinki."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vText

from lahella_bridge import __version__
from lahella_bridge.feeds.recurrence import Series, series_of, single

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

# EU summer time since 1996, as yearly rules: readers that expand RDATE lists badly
# (ical.js read icalendar's generated zone as +02:00 all year) read these right.
HELSINKI_TRANSITIONS = (
    # component, name, first transition (local time before it), month, offset before, after
    (TimezoneDaylight, "EEST", datetime(1996, 3, 31, 3), 3, 2, 3),
    (TimezoneStandard, "EET", datetime(1996, 10, 27, 4), 10, 3, 2),
)


def helsinki_timezone() -> Timezone:
    """Europe/Helsinki with RRULE transitions: last Sunday of March 03:00 -> +03:00,
    last Sunday of October 04:00 -> +02:00."""
    zone = Timezone()
    zone.add("tzid", "Europe/Helsinki")
    for component, name, first, month, before, after in HELSINKI_TRANSITIONS:
        transition = component()
        transition.add("tzname", name)
        transition.add("dtstart", first)
        transition.add("tzoffsetfrom", timedelta(hours=before))
        transition.add("tzoffsetto", timedelta(hours=after))
        transition.add("rrule", {"freq": "yearly", "bymonth": month, "byday": "-1SU"})
        zone.add_component(transition)
    return zone


def render_calendar(
    events: list[dict[str, Any]],
    *,
    name: str,
    now: datetime,
    expand: bool = False,
    organiser_emails: dict[str, str] | None = None,
) -> bytes:
    """Events as returned by the JSON endpoint -> a subscribable VCALENDAR: one VEVENT per
    recurring series (RRULE), or per session with `expand`."""
    calendar = Calendar()
    calendar.add("prodid", f"-//Pohde//lahella-bridge {__version__}//FI")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Helsinki")
    calendar.add("refresh-interval;value=duration", "PT1H")
    calendar.add_component(helsinki_timezone())
    series = [single(e) for e in events] if expand else series_of(events)
    for one in series:
        calendar.add_component(_vevent(one, now, organiser_emails or {}))
    return bytes(calendar.to_ical())


def _vevent(series: Series, now: datetime, organiser_emails: dict[str, str]) -> Event:
    item = series.sessions[0]
    event = Event()
    event.add("uid", series.uid)
    event.add("dtstamp", item.get("modified") or now)
    event.add("dtstart", item["starts"])
    if item["ends"] is not None:
        event.add("dtend", item["ends"])
    if series.rule is not None:
        rule = series.rule
        event.add(
            "rrule",
            {
                "freq": "weekly",
                "interval": rule.interval,
                "byday": [WEEKDAYS[day] for day in rule.weekdays],
                "until": rule.until,
                "wkst": "MO",
            },
        )
    if series.exdates:
        event.add("exdate", series.exdates)
    if series.rdates:
        event.add("rdate", series.rdates)
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
    organisation = item["organisation"]
    email = organiser_emails.get(organisation["id"]) if organisation else None
    if organisation and email:
        event.add("organizer", f"mailto:{email}", parameters={"CN": organisation["name"]})
    return event
