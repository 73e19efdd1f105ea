"""/v1/events and /v1/activities pages composed from stored fragments are what the
response models declare, and item by item what the record path makes of the same data.

The sample is harvested from both sources, so winners' documents are rewritten after
their upsert (the PTV twin fills their gaps) and the fragments have to follow. The
reference reads the sessions and activities as records (`event_reads.list_events`,
`activity_reads.list_activities`: the calendars' and HSDS' path), fills the response
models with `api/schemas.py` and dumps them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from lahella_bridge.api.schemas import ActivitySummary, Event, ListEnvelope, activity_summary
from lahella_bridge.api.schemas import event_of as record_event
from lahella_bridge.schedule import HELSINKI
from lahella_bridge.store import activity_reads, event_reads
from lahella_bridge.store.conditions import ActivityFilters

LANGS = ("fi", "sv", "en")


Window = tuple[datetime, datetime]


def window_of(anchor: date) -> Window:
    start = datetime.combine(anchor, time(), HELSINKI)
    return start, start + timedelta(days=30)


# (query string, the same filters as the store takes them): calendar-only filters, record
# filters, text search, a later page.
QUERIES = [
    ("", ActivityFilters(), 0),
    ("&municipality=564", ActivityFilters(municipality="564"), 0),
    ("&theme=fyysinen-terveys", ActivityFilters(theme="fyysinen-terveys"), 0),
    ("&stage=kotona-kaikki-hyvin", ActivityFilters(stage="kotona-kaikki-hyvin"), 0),
    ("&q=kuoro", ActivityFilters(q="kuoro"), 0),
    ("&page=2", ActivityFilters(), 1),
]
PAGE = 40


async def test_event_pages_are_the_declared_model_and_the_record_path_item_by_item(
    both: AsyncEngine, api: httpx.AsyncClient, anchor: date
) -> None:
    open_db = async_sessionmaker(both, expire_on_commit=False)
    start, end = window_of(anchor)
    compared = 0
    for query, filters, page in QUERIES:
        for lang in LANGS:
            window = f"&start={quote(start.isoformat())}&end={quote(end.isoformat())}"
            response = await api.get(f"/v1/events?page_size={PAGE}&lang={lang}{query}{window}")
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/json"
            ListEnvelope[Event].model_validate_json(response.content)
            body = response.json()
            async with open_db() as db:
                count, rows = await event_reads.list_events(
                    db, filters, start, end, PAGE, page * PAGE
                )
            expected = [Event(**record_event(o, a, lang)).model_dump(mode="json") for o, a in rows]
            assert body["count"] == count, query
            assert len(body["items"]) == len(expected), query
            for item, reference in zip(body["items"], expected, strict=True):
                assert item == reference, (query, lang)
            compared += len(expected)
    assert compared > 400


async def test_activity_pages_are_the_declared_model_and_the_record_path_item_by_item(
    both: AsyncEngine, api: httpx.AsyncClient
) -> None:
    open_db = async_sessionmaker(both, expire_on_commit=False)
    supplemented = 0
    compared = 0
    for query, filters, page in QUERIES:
        for lang in LANGS:
            response = await api.get(f"/v1/activities?page_size={PAGE}&lang={lang}{query}")
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/json"
            ListEnvelope[ActivitySummary].model_validate_json(response.content)
            body = response.json()
            async with open_db() as db:
                count, rows = await activity_reads.list_activities(db, filters, PAGE, page * PAGE)
                upcoming = await activity_reads.next_occurrences(db, [r.id for r in rows])
            expected = [
                ActivitySummary(**activity_summary(r, lang, upcoming.get(r.id, []))).model_dump(
                    mode="json"
                )
                for r in rows
            ]
            assert body["count"] == count, query
            assert len(body["items"]) == len(expected), query
            for item, reference in zip(body["items"], expected, strict=True):
                assert item == reference, (query, lang)
            supplemented += sum(1 for item in body["items"] if item["also_from"])
            compared += len(expected)
    assert compared > 400
    assert supplemented > 0  # winners whose documents were rewritten after their upsert


FRAGMENTS_OF_LISTABLE = text(
    "SELECT f.activity_id, f.surface, f.lang, f.part, f.body FROM item_fragments f"
    " JOIN activities a ON a.id = f.activity_id"
    " WHERE a.deleted_at IS NULL OR a.merged_into IS NOT NULL"
)
SLOTS = text("SELECT * FROM event_slots")
SPANS = text("SELECT * FROM event_spans")


async def test_the_migrations_give_stored_activities_the_rows_a_write_gives(
    both: AsyncEngine,
) -> None:
    """A database upgraded with activities in it lists them as one written afterwards: the
    same fragments (0007) and the same calendar slots and spans (0008, whose fill is a
    frozen copy of the writer's rule)."""

    async def stored() -> list[set[Any]]:
        async with both.connect() as connection:
            return [
                set((await connection.execute(query)).all())
                for query in (FRAGMENTS_OF_LISTABLE, SLOTS, SPANS)
            ]

    written = await stored()
    assert all(len(rows) > 100 for rows in written), [len(rows) for rows in written]

    def migrate(connection: Connection, revision: str) -> None:
        config = Config("alembic.ini")
        config.attributes["connection"] = connection
        if revision == "head":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)

    async with both.begin() as connection:
        await connection.run_sync(migrate, "0006")  # before item_fragments and event_slots
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert not tables & {"item_fragments", "event_slots", "event_spans"}
        await connection.run_sync(migrate, "head")
    assert await stored() == written
