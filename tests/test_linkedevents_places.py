"""Linked Events' `bbox` matches each sub-event where its session meets (a session with no
place of its own: wherever its activity is), as /v1/events does, not any place of its
activity; a recurring super event spans its activity's places."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from lahella_bridge.harvest import Harvester
from lahella_bridge.sample.data import HELSINKI

BOX = (25.3, 64.9, 25.6, 65.1)  # west, south, east, north, around Oulu
BBOX = ",".join(map(str, BOX))

Point = tuple[float, float]


def in_box(point: Point) -> bool:
    west, south, east, north = BOX
    return south <= point[0] <= north and west <= point[1] <= east


async def v1_events(api: httpx.AsyncClient, params: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    url: str | None = "/v1/events"
    query: dict[str, str] | None = {**params, "page_size": "100", "lang": "fi"}
    while url:
        body = (await api.get(url, params=query)).json()
        items += body["items"]
        url, query = body["next"], None
    return items


async def linked_events(api: httpx.AsyncClient, params: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    url: str | None = "/linkedevents/v1/event/"
    query: dict[str, str] | None = {**params, "page_size": "100"}
    while url:
        response = await api.get(url, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["data"]
        url, query = body["meta"]["next"], None
    return items


@pytest.fixture
def window(anchor: date) -> dict[str, str]:
    start = datetime.combine(anchor, time(0), tzinfo=HELSINKI)
    return {"start": start.isoformat(), "end": (start + timedelta(days=28)).isoformat()}


def sessions_of(events: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(name, start) of the events that are sessions, not recurring wholes."""
    return {
        (e["name"]["fi"], datetime.fromisoformat(e["start_time"]).isoformat())
        for e in events
        if e["super_event_type"] is None
    }


async def two_town_activity(api: httpx.AsyncClient, window: dict[str, str]) -> list[dict[str, Any]]:
    """The sessions of an activity whose sessions meet both inside and outside the box, and those sessions."""
    by_activity: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in await v1_events(api, window):
        by_activity[event["activity_id"]].append(event)
    for _, sessions in sorted(by_activity.items()):
        places = {
            in_box((s["place"]["lat"], s["place"]["lon"]))
            for s in sessions
            if s["place"] is not None and s["place"]["lat"] is not None
        }
        towns = {s["place"]["municipality"] for s in sessions if s["place"] is not None}
        if places == {True, False} and len(towns) > 1:
            return sessions
    raise AssertionError("the sample has no activity meeting in two towns, in and out of the box")


async def test_bbox_lists_only_the_sub_events_that_meet_inside(
    api: httpx.AsyncClient, harvested: Harvester, window: dict[str, str]
) -> None:
    sessions = await two_town_activity(api, window)
    name = sessions[0]["name"]
    inside = {
        datetime.fromisoformat(s["starts"]).isoformat()
        for s in sessions
        if s["place"] is not None and in_box((s["place"]["lat"], s["place"]["lon"]))
    }
    listed = await linked_events(api, {**window, "bbox": BBOX, "text": name, "include": "location"})
    ours = [e for e in listed if e["name"]["fi"] == name]
    subs = [e for e in ours if e["super_event_type"] is None]
    assert {datetime.fromisoformat(e["start_time"]).isoformat() for e in subs} == inside
    for event in subs:
        lon, lat = event["location"]["position"]["coordinates"]
        assert in_box((lat, lon)), event["id"]
    supers = [e for e in ours if e["super_event_type"] == "recurring"]
    assert len(supers) == 1, "the recurring whole is where its activity is: partly in the box"


async def test_bbox_lists_the_same_sessions_as_v1_events(
    api: httpx.AsyncClient, harvested: Harvester, window: dict[str, str]
) -> None:
    v1 = {
        (e["name"], datetime.fromisoformat(e["starts"]).isoformat())
        for e in await v1_events(api, {**window, "bbox": BBOX})
    }
    listed = sessions_of(await linked_events(api, {**window, "bbox": BBOX}))
    everywhere = sessions_of(await linked_events(api, window))
    assert v1 and v1 < everywhere
    assert listed == v1, (sorted(listed - v1)[:3], sorted(v1 - listed)[:3])
