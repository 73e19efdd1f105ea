"""/v1/events.ics read by the calendar engines people use: ical.js (Thunderbird and many web
calendars) and Python's icalendar with recurring-ical-events. Both expand the feed to exactly
the sessions of /v1/events, at the same instants, on both sides of the 2027 DST changes."""

from __future__ import annotations

import json
import random
import subprocess
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import recurring_ical_events
from icalendar import Calendar

from lahella_bridge.feeds.ical import render_calendar
from lahella_bridge.harvest import Harvester
from lahella_bridge.sample.data import HELSINKI
from lahella_bridge.sample.upstream import SampleUpstream

# (activity id, start, end), in UTC; a session without an end ends as it starts (RFC 5545)
Session = tuple[str, str, str]


@pytest.fixture(params=[date(2027, 3, 22), date(2027, 10, 25)], ids=["summer-time-starts", "ends"])
def anchor(request: pytest.FixtureRequest) -> date:
    """The Mondays before the last Sundays of March and October 2027."""
    value: date = request.param
    return value


def window_around(anchor: date) -> dict[str, str]:
    start = datetime.combine(anchor - timedelta(days=7), time(0), tzinfo=HELSINKI)
    return {"start": start.isoformat(), "end": (start + timedelta(days=28)).isoformat()}


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


async def json_events(api: httpx.AsyncClient, window: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    url: str | None = "/v1/events"
    query: dict[str, str] | None = {**window, "page_size": "100"}
    while url:
        body = (await api.get(url, params=query)).json()
        items += body["items"]
        url, query = body["next"], None
    return items


async def json_sessions(api: httpx.AsyncClient, window: dict[str, str]) -> list[Session]:
    sessions: list[Session] = []
    for item in await json_events(api, window):
        ends = datetime.fromisoformat(item["ends"]) if item["ends"] else None
        starts = datetime.fromisoformat(item["starts"])
        sessions.append((item["activity_id"], utc(starts), utc(ends or starts)))
    return sorted(sessions)


def activity_of(uid: str) -> str:
    return uid[:36]  # every UID starts with its activity's id


def read_with_icaljs(feed: bytes, js_readers: Path) -> list[Session]:
    script = js_readers / "expand_ics.mjs"
    out = subprocess.run(["node", str(script)], input=feed, capture_output=True, cwd=js_readers)
    assert out.returncode == 0, out.stderr.decode()
    return sorted(
        (
            activity_of(s["uid"]),
            utc(datetime.fromisoformat(s["start"])),
            utc(datetime.fromisoformat(s["end"])),
        )
        for s in json.loads(out.stdout)
    )


def read_with_python(feed: bytes, window: dict[str, str]) -> list[Session]:
    start, end = (datetime.fromisoformat(window[k]) for k in ("start", "end"))
    occurrences = recurring_ical_events.of(Calendar.from_ical(feed)).between(start, end)
    return sorted(
        (
            activity_of(str(o["UID"])),
            utc(o["DTSTART"].dt),
            utc(o["DTEND"].dt if "DTEND" in o else o["DTSTART"].dt),
        )
        for o in occurrences
    )


@pytest.mark.parametrize("form", [{}, {"expand": "true"}], ids=["series", "expanded"])
async def test_both_readers_expand_the_feed_to_the_json_sessions_across_dst(
    api: httpx.AsyncClient,
    harvested: Harvester,
    anchor: date,
    js_readers: Path,
    form: dict[str, str],
) -> None:
    window = window_around(anchor)
    expected = await json_sessions(api, window)
    offsets = {datetime.fromisoformat(s[1]).astimezone(HELSINKI).utcoffset() for s in expected}
    assert offsets == {timedelta(hours=2), timedelta(hours=3)}, "sessions on both sides"
    feed = (await api.get("/v1/events.ics", params={**window, **form})).content
    assert read_with_icaljs(feed, js_readers) == expected
    assert read_with_python(feed, window) == expected


async def test_a_weekly_activity_is_one_recurring_event_unless_expanded(
    api: httpx.AsyncClient, harvested: Harvester, anchor: date
) -> None:
    window = window_around(anchor)
    sessions = await json_sessions(api, window)
    feed = Calendar.from_ical((await api.get("/v1/events.ics", params=window)).content)
    events = list(feed.walk("VEVENT"))
    weekly = [e for e in events if "RRULE" in e]
    assert weekly and all(e["RRULE"]["FREQ"] == ["WEEKLY"] for e in weekly)
    assert len(events) < len(sessions) / 2
    expanded = Calendar.from_ical(
        (await api.get("/v1/events.ics", params={**window, "expand": "true"})).content
    )
    plain = list(expanded.walk("VEVENT"))
    assert len(plain) == len(sessions) and not any("RRULE" in e for e in plain)


@pytest.mark.parametrize("anchor", [date(2027, 3, 22)])
async def test_organizer_is_the_organisations_own_email_and_absent_without_one(
    api: httpx.AsyncClient, harvester: Harvester, upstream: SampleUpstream, anchor: date
) -> None:
    group = upstream.records[0]["group"]
    for record in upstream.records:
        for details in record["links"]["groups"] if record.get("group") == group else []:
            details["email"] = "kuoro@example.org"
    assert (await harvester.run()).status == "succeeded"
    window = window_around(anchor)
    feed = Calendar.from_ical((await api.get("/v1/events.ics", params=window)).content)
    organisers = {str(e["UID"]): e.get("ORGANIZER") for e in feed.walk("VEVENT")}
    assert {str(o) for o in organisers.values() if o} == {"mailto:kuoro@example.org"}
    organisation_of = {
        e["activity_id"]: (e["organisation"] or {}).get("id")
        for e in await json_events(api, window)
    }
    (organisation,) = {organisation_of[activity_of(uid)] for uid, o in organisers.items() if o}
    assert all(
        bool(organiser) == (organisation_of[activity_of(uid)] == organisation)
        for uid, organiser in organisers.items()
    )


def made_up_sessions(rng: random.Random, activity: int) -> list[dict[str, Any]]:
    """A weekly activity as people run them: one to three weekdays, every one to three
    weeks, weeks skipped, a session moved to another hour, across the 2027 DST changes."""
    weekdays = rng.sample(range(7), rng.randint(1, 3))
    interval, clock = rng.randint(1, 3), time(rng.choice([9, 10, 17, 18]), rng.choice([0, 30]))
    length = rng.choice([timedelta(minutes=60), timedelta(minutes=90), None])
    first = date(2027, 3, 1) + timedelta(days=rng.randint(0, 40))
    days = [
        first + timedelta(weeks=week, days=day - first.weekday())
        for week in range(0, rng.randint(2, 40), interval)
        for day in weekdays
    ]
    starts = [
        datetime.combine(day, clock, HELSINKI)
        for day in days
        if day >= first and rng.random() > 0.15
    ]
    starts += [
        datetime.combine(rng.choice(days), time(rng.choice([12, 19])), HELSINKI)
        for _ in range(rng.randint(0, 2))
    ]
    activity_id = str(uuid.UUID(int=activity))
    return [
        {
            "id": f"{activity_id}:{start:%Y%m%dT%H%M}",
            "activity_id": activity_id,
            "name": f"Kerho {activity}",
            "summary": None,
            "starts": start,
            "ends": start + length if length else None,
            "place": None,
            "organisation": None,
            "url": "https://lahella.fi/",
            "modified": None,
        }
        for start in sorted(set(starts))
    ]


def test_series_expand_back_to_exactly_their_sessions_in_both_readers(js_readers: Path) -> None:
    rng = random.Random(18)
    events = sorted(
        (event for activity in range(300) for event in made_up_sessions(rng, activity)),
        key=lambda event: event["starts"],
    )
    feed = render_calendar(events, name="test", now=datetime(2027, 1, 1, tzinfo=UTC))
    expected = sorted(
        (e["activity_id"], utc(e["starts"]), utc(e["ends"] or e["starts"])) for e in events
    )
    calendar = Calendar.from_ical(feed)
    assert len(list(calendar.walk("VEVENT"))) < len(events) / 4
    assert any("EXDATE" in e for e in calendar.walk("VEVENT"))
    assert any("RDATE" in e for e in calendar.walk("VEVENT"))
    assert read_with_icaljs(feed, js_readers) == expected
    window = {"start": "2027-01-01T00:00:00+02:00", "end": "2028-06-01T00:00:00+03:00"}
    assert read_with_python(feed, window) == expected
