"""`near`+`radius_km` and `bbox` on /v1/events match each session where it meets (a session
with no place of its own: wherever its activity is), not any place of its activity."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from lahella_bridge.harvest import Harvester
from lahella_bridge.sample.data import HELSINKI

OULU = (65.0121, 25.4651)
BOX = (25.3, 64.9, 25.6, 65.1)  # west, south, east, north

Point = tuple[float, float]


def km_between(a: Point, b: Point) -> float:
    (lat1, lon1), (lat2, lon2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 12742 * math.asin(math.sqrt(h))


def in_box(point: Point) -> bool:
    west, south, east, north = BOX
    return south <= point[0] <= north and west <= point[1] <= east


async def all_events(api: httpx.AsyncClient, params: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    url: str | None = "/v1/events"
    query: dict[str, str] | None = {**params, "page_size": "100"}
    while url:
        body = (await api.get(url, params=query)).json()
        items += body["items"]
        url, query = body["next"], None
    return items


async def session_places(
    api: httpx.AsyncClient, event: dict[str, Any], activities: dict[str, list[Point]]
) -> list[Point]:
    """Where a session meets as the JSON tells: its own place, else its activity's places."""
    place = event["place"]
    if place is not None:
        return [(place["lat"], place["lon"])] if place["lat"] is not None else []
    key = event["activity_id"]
    if key not in activities:
        channels = (await api.get(f"/v1/activities/{key}")).json()["channels"]
        activities[key] = [(c["lat"], c["lon"]) for c in channels if c["lat"] is not None]
    return activities[key]


@pytest.fixture
def window(anchor: date) -> dict[str, str]:
    start = datetime.combine(anchor, time(0), tzinfo=HELSINKI)
    return {"start": start.isoformat(), "end": (start + timedelta(days=14)).isoformat()}


@pytest.mark.parametrize(
    ("area", "inside"),
    [
        ({"near": f"{OULU[0]},{OULU[1]}", "radius_km": "2"}, lambda p: km_between(p, OULU) <= 2),
        ({"bbox": ",".join(map(str, BOX))}, in_box),
    ],
    ids=["near", "bbox"],
)
async def test_area_filters_list_exactly_the_sessions_that_meet_inside(
    api: httpx.AsyncClient,
    harvested: Harvester,
    window: dict[str, str],
    area: dict[str, str],
    inside: Callable[[Point], bool],
) -> None:
    activities: dict[str, list[Point]] = {}
    every = await all_events(api, window)
    meets_inside = set()
    meets_outside = set()
    for event in every:
        places = await session_places(api, event, activities)
        (meets_inside if any(map(inside, places)) else meets_outside).add(event["id"])
    assert meets_inside and meets_outside
    listed = {event["id"] for event in await all_events(api, {**window, **area})}
    assert not listed & meets_outside, sorted(listed & meets_outside)[:5]
    assert listed == meets_inside
