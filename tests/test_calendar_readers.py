"""/v1/events.ics read by the calendar engines people use: ical.js (Thunderbird and many web
calendars) and Python's icalendar with recurring-ical-events. Both expand the feed to exactly
the sessions of /v1/events, at the same instants, on both sides of the 2027 DST changes."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import recurring_ical_events
from icalendar import Calendar

from lahella_bridge.harvest import Harvester
from lahella_bridge.sample.data import HELSINKI
from lahella_bridge.sample.upstream import SampleUpstream

# (activity id, start, end or None), all in UTC
Session = tuple[str, str, str | None]


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
        sessions.append((item["activity_id"], utc(starts), utc(ends) if ends else None))
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
            s["end"] and utc(datetime.fromisoformat(s["end"])),
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
            utc(o["DTEND"].dt) if "DTEND" in o else None,
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
