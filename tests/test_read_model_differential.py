"""/v1/events and /v1/activities answer what a plain query over the base tables answers.

Two hundred seeded random filter combinations over the harvested sample (towns, themes,
stages, activity types, windows across the DST changes of the sample's year, `q`, `near`, paged to the
end): the service's ids, their order and its counts must equal a reference written here
straight over activities, occurrences and service_channels, from the rules the README and
the OpenAPI document state, not from the service's query code. Whatever read path serves
the lists (the calendar's read model, `event_slots`, or the general join) has to keep to it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lahella_bridge.harvest import Harvester
from lahella_bridge.store.event_slots import refresh_event_rows
from lahella_bridge.taxonomy import taxonomy

HELSINKI = ZoneInfo("Europe/Helsinki")
SEED = 20270328
COMBINATIONS = 200
FULL_PAGING_UP_TO = 5  # pages; longer lists are checked at their ends and middle
WORDS = ["vertais", "kuoro", "liikunta", "kerho", "ruoka", "luonto", "nuorten", "muisti"]

# Published: not retired, and not past the date it is shown until.
LIVE = "a.deleted_at IS NULL AND (a.visible_until IS NULL OR a.visible_until > now())"
# Finnish full text (web-search syntax, every word also as a prefix) or part of the name,
# as the `q` parameter's description promises: "partial words match too".
TEXT_MATCH = """(
  lower(a.name_sort) LIKE '%' || lower(:q) || '%'
  OR to_tsvector('finnish', a.search_text) @@ websearch_to_tsquery('finnish', :q)
  OR to_tsvector('finnish', a.search_text) @@ to_tsquery('finnish', :prefixes)
)"""


def areas(combo: Combination) -> list[Combination]:
    """The area filters one at a time: each narrows the set on its own, so an activity
    with one channel in the box and another near the point matches both."""
    return [
        *([replace(combo, near=None)] if combo.bbox is not None else []),
        *([replace(combo, bbox=None)] if combo.near is not None else []),
    ]


def in_area(channel: str, combo: Combination) -> str:
    """`channel` inside the bounding box and near the point, as far as the combination asks."""
    conditions = ["true"]
    if combo.bbox is not None:
        conditions.append(
            f"{channel}.lon BETWEEN :west AND :east AND {channel}.lat BETWEEN :south AND :north"
        )
    if combo.near is not None:
        conditions.append(within_km(channel))
    return f"({' AND '.join(conditions)})"


def within_km(channel: str) -> str:
    """Great-circle distance from `channel`'s coordinates to (:lat, :lon) <= :radius."""
    return f"""(2 * 6371.0 * asin(sqrt(
      power(sin(radians({channel}.lat - :lat) / 2), 2)
      + cos(radians(:lat)) * cos(radians({channel}.lat))
        * power(sin(radians({channel}.lon - :lon) / 2), 2))) <= :radius)"""


@dataclass(frozen=True)
class Combination:
    """One request's filters, its event window and the page size it is paged through."""

    start: datetime
    end: datetime
    page_size: int
    municipality: str | None = None
    theme: str | None = None
    stage: str | None = None
    activity_type: str | None = None
    q: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north
    near: tuple[float, float] | None = None
    radius_km: float | None = None
    offsets: tuple[str, str] = ("Z", "Z")  # how start and end are written

    def filters(self) -> dict[str, str]:
        """The query parameters of the filters, as both lists take them."""
        chosen: dict[str, str] = {
            name: value
            for name in ("municipality", "theme", "stage", "activity_type", "q")
            if (value := getattr(self, name)) is not None
        }
        if self.bbox is not None:
            chosen["bbox"] = ",".join(map(str, self.bbox))
        if self.near is not None:
            chosen["near"] = f"{self.near[0]},{self.near[1]}"
        if self.radius_km is not None:
            chosen["radius_km"] = str(self.radius_km)
        return chosen

    def window(self) -> dict[str, str]:
        return {
            "start": written(self.start, self.offsets[0]),
            "end": written(self.end, self.offsets[1]),
        }


def written(moment: datetime, style: str) -> str:
    """An instant as a client writes it: in UTC with Z, or in Helsinki's offset of the day."""
    if style == "Z":
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.astimezone(HELSINKI).isoformat()


# --- the reference: plain SQL over the base tables -------------------------------------


TERM_COLUMNS = {"theme": "themes", "stage": "stages", "activity_type": "activity_types"}


def activity_clauses(combo: Combination) -> tuple[list[str], dict[str, Any]]:
    """The filters every list shares: a term filter keeps the activities that carry it."""
    clauses, params = [LIVE], {}
    for name, column in TERM_COLUMNS.items():
        if (value := getattr(combo, name)) is not None:
            clauses.append(f":{name} = ANY(a.{column})")
            params[name] = value
    if combo.q is not None:
        clauses.append(TEXT_MATCH)
        words = "".join(c if c.isalnum() else " " for c in combo.q).split()
        params["q"] = combo.q
        params["prefixes"] = " & ".join(f"{word}:*" for word in words) or combo.q
    if combo.bbox is not None:
        params["west"], params["south"], params["east"], params["north"] = combo.bbox
    if combo.near is not None:
        params["lat"], params["lon"] = combo.near
        params["radius"] = combo.radius_km if combo.radius_km is not None else 10.0
    return clauses, params


async def reference_activities(engine: AsyncEngine, combo: Combination) -> list[str]:
    """Activity ids by name: in a town if the town is among the activity's towns; in an
    area (a box, a radius) if one of its channels is inside."""
    clauses, params = activity_clauses(combo)
    if combo.municipality is not None:
        clauses.append(":town = ANY(a.municipalities)")
        params["town"] = combo.municipality
    clauses += [
        "EXISTS (SELECT 1 FROM service_channels c WHERE c.activity_id = a.id "
        f"AND {in_area('c', area)})"
        for area in areas(combo)
    ]
    query = (
        f"SELECT a.id FROM activities a WHERE {' AND '.join(clauses)} ORDER BY a.name_sort, a.id"
    )
    async with engine.connect() as connection:
        rows = await connection.execute(text(query), params)
        return [str(row.id) for row in rows]


async def reference_events(engine: AsyncEngine, combo: Combination) -> list[str]:
    """Event ids (activity:local start) of sessions starting in [start, end), by start.

    "A session counts where it meets; a placeless one where its activity is": a session
    with a channel is in that channel's town and at its coordinates; one without a channel
    is in each of its activity's towns and at each of its activity's channels. Each area
    filter (`bbox`, `near`) holds for one place."""
    clauses, params = activity_clauses(combo)
    clauses += ["o.starts >= :start", "o.starts < :end"]
    params |= {"start": combo.start, "end": combo.end}
    if combo.municipality is not None:
        clauses.append(
            "CASE WHEN o.channel_id IS NULL THEN :town = ANY(a.municipalities) "
            "ELSE coalesce(c.municipality = :town, false) END"
        )
        params["town"] = combo.municipality
    clauses += [
        "CASE WHEN o.channel_id IS NULL THEN EXISTS (SELECT 1 FROM service_channels ac "
        f"WHERE ac.activity_id = a.id AND {in_area('ac', area)}) "
        f"ELSE coalesce({in_area('c', area)}, false) END"
        for area in areas(combo)
    ]
    query = (
        "SELECT a.id, o.starts FROM occurrences o JOIN activities a ON a.id = o.activity_id "
        "LEFT JOIN service_channels c ON c.id = o.channel_id "
        f"WHERE {' AND '.join(clauses)} ORDER BY o.starts, o.id"
    )
    async with engine.connect() as connection:
        rows = await connection.execute(text(query), params)
        return [f"{row.id}:{row.starts.astimezone(HELSINKI):%Y%m%dT%H%M}" for row in rows]


# --- the combinations ------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """What the combinations draw from: the taxonomy's terms and the sample's own places
    and names, so that most filters find something and some find nothing."""

    towns: list[str]
    themes: list[str]
    stages: list[str]
    activity_types: list[str]
    points: list[tuple[float, float]]
    words: list[str]


async def vocabulary(engine: AsyncEngine) -> Vocabulary:
    county = taxonomy()
    async with engine.connect() as connection:
        towns = await connection.scalars(
            text("SELECT DISTINCT unnest(municipalities) AS town FROM activities ORDER BY town")
        )
        points = await connection.execute(
            text("SELECT lat, lon FROM service_channels WHERE lat IS NOT NULL ORDER BY id")
        )
        names = await connection.scalars(text("SELECT name_sort FROM activities ORDER BY id"))
        name_words = sorted({w for n in names for w in n.split() if len(w) > 3 and w.isalpha()})
    present = list(towns)
    absent = sorted(set(county.municipalities) - set(present))[:2]  # valid, and empty
    return Vocabulary(
        towns=[*present, *absent],
        themes=[t.slug for t in county.themes],
        stages=[s.slug for s in county.stages],
        activity_types=[t.slug for t in county.activity_types],
        points=[(float(lat), float(lon)) for lat, lon in points],
        words=[*WORDS, *name_words],
    )


def dst_changes(anchor: date) -> list[date]:
    """The days Helsinki's clocks change (the last Sundays of March and October) in the
    sample's year from `anchor`: in 2027, 28 March (03:00 -> 04:00) and 31 October."""
    last_days = (
        date(year, month + 1, 1) - timedelta(days=1)
        for year in (anchor.year, anchor.year + 1)
        for month in (3, 10)
    )
    sundays = (day - timedelta(days=(day.weekday() - 6) % 7) for day in last_days)
    return [day for day in sundays if anchor < day <= anchor + timedelta(days=366)]


def crosses(combo: Combination, changes: list[date]) -> bool:
    return any(
        combo.start < datetime.combine(day, time(4), HELSINKI) < combo.end for day in changes
    )


def draw_window(rng: random.Random, anchor: date) -> tuple[datetime, datetime]:
    """A few weeks anywhere in the sample's year, a window across one of its DST changes
    starting and ending at odd local hours (some that do not exist or occur twice), or a
    long one up to a year."""
    kind = rng.random()
    if kind < 0.4:
        start = datetime.combine(anchor + timedelta(rng.randint(-10, 380)), time(), HELSINKI)
        return start, start + timedelta(days=rng.randint(1, 45))
    if kind < 0.8:
        change = rng.choice(dst_changes(anchor))
        start_day = change - timedelta(rng.randint(0, 3))
        end_day = change + timedelta(rng.randint(0, 3))
        start = datetime.combine(start_day, time(rng.randint(0, 23), rng.choice((0, 30))))
        end = datetime.combine(end_day, time(rng.randint(0, 23)))
        start, end = start.replace(tzinfo=HELSINKI), end.replace(tzinfo=HELSINKI)
        return (start, end) if end > start else (start, start + timedelta(hours=5))
    start = datetime.combine(anchor + timedelta(rng.randint(-10, 200)), time(), HELSINKI)
    return start, start + timedelta(days=rng.randint(60, 366))


def draw(rng: random.Random, words: Vocabulary, anchor: date) -> Combination:
    """One combination; a third of them use only a town and a theme (the calendar's
    common query, which has its own read path)."""
    start, end = draw_window(rng, anchor)
    chosen: dict[str, Any] = {}
    if rng.random() < 0.35:
        chosen["municipality"] = rng.choice(words.towns) if rng.random() < 0.8 else None
        chosen["theme"] = rng.choice(words.themes) if rng.random() < 0.6 else None
    else:
        for name, terms, chance in (
            ("municipality", words.towns, 0.4),
            ("theme", words.themes, 0.3),
            ("stage", words.stages, 0.3),
            ("activity_type", words.activity_types, 0.3),
            ("q", words.words, 0.25),
        ):
            if rng.random() < chance:
                chosen[name] = rng.choice(terms)
        if rng.random() < 0.15:
            lat, lon = rng.choice(words.points)
            size = rng.choice((0.02, 0.2, 1.0))
            chosen["bbox"] = (
                round(lon - size, 3),
                round(lat - size / 2, 3),
                round(lon + size, 3),
                round(lat + size / 2, 3),
            )
        if rng.random() < 0.25:
            lat, lon = rng.choice(words.points)
            chosen["near"] = (round(lat + rng.uniform(-0.05, 0.05), 4), round(lon, 4))
            chosen["radius_km"] = rng.choice((None, 1.0, 5.0, 25.0, 120.0))
    return Combination(
        start=start,
        end=end,
        page_size=rng.choice((3, 7, 20, 50, 100)),
        offsets=(rng.choice(("Z", "local")), rng.choice(("Z", "local"))),
        **chosen,
    )


async def unplace_some_sessions(engine: AsyncEngine) -> None:
    """The sample gives every session a channel; a fifth of them lose it here, so that the
    rule for a session without a place of its own is exercised too (the schema allows
    them: a session's channel and town are optional). Changed behind the writer's back,
    their activities' read model rows are rebuilt as the writer rebuilds them."""
    async with AsyncSession(engine) as db, db.begin():
        changed = await db.scalars(
            text(
                "UPDATE occurrences SET channel_id = NULL, municipality = NULL WHERE id % 5 = 0 "
                "RETURNING activity_id"
            )
        )
        await refresh_event_rows(db, list(set(changed)))


# --- the comparison ---------------------------------------------------------------------


async def pages_of(
    api: httpx.AsyncClient, path: str, params: dict[str, str], expected: list[str], size: int
) -> list[str]:
    """The ways `path` disagrees with `expected` (ids in order): the count on every page
    fetched, and each page's ids against the matching slice."""
    last = max(1, -(-len(expected) // size))
    wanted = set(range(1, last + 1)) if last <= FULL_PAGING_UP_TO else {1, last // 2, last}
    problems = []
    for number in sorted(wanted):
        response = await api.get(path, params={**params, "page": number, "page_size": size})
        if response.status_code != 200:
            problems.append(f"page {number}: {response.status_code} {response.text[:200]}")
            continue
        body = response.json()
        got = [str(item["id"]) for item in body["items"]]
        want = expected[(number - 1) * size : number * size]
        if body["count"] != len(expected):
            problems.append(f"page {number}: count {body['count']}, reference {len(expected)}")
        if got != want:
            missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
            problems.append(
                f"page {number}: ids differ (missing {missing[:3]}, extra {extra[:3]}, "
                f"same set, other order: {not missing and not extra})"
            )
    return problems


async def test_events_and_activities_equal_the_reference_query_for_random_filters(
    harvested: Harvester, db: AsyncEngine, api: httpx.AsyncClient, anchor: date
) -> None:
    await unplace_some_sessions(db)
    words = await vocabulary(db)
    rng = random.Random(SEED)
    disagreements: list[str] = []
    nonempty_events = nonempty_activities = nonempty_across_dst = 0
    for _ in range(COMBINATIONS):
        combo = draw(rng, words, anchor)
        events = await reference_events(db, combo)
        activities = await reference_activities(db, combo)
        nonempty_events += bool(events)
        nonempty_activities += bool(activities)
        nonempty_across_dst += bool(events) and crosses(combo, dst_changes(anchor))
        for path, params, expected in (
            ("/v1/events", {**combo.filters(), **combo.window()}, events),
            ("/v1/activities", combo.filters(), activities),
        ):
            for problem in await pages_of(api, path, params, expected, combo.page_size):
                disagreements.append(f"{path} {params} page_size={combo.page_size}: {problem}")
    # Many combinations must find something, or equality would prove little.
    assert nonempty_events > COMBINATIONS // 3, nonempty_events
    assert nonempty_activities > COMBINATIONS // 3, nonempty_activities
    assert nonempty_across_dst > COMBINATIONS // 10, nonempty_across_dst
    assert not disagreements, f"{len(disagreements)} disagreements:\n" + "\n".join(
        disagreements[:20]
    )
