"""A third source is one `Source` more, not an edit of the harvest: a source written here,
over its own little HTTP API, is harvested by the unchanged `Harvester` into real
PostgreSQL; its records are stored under its name and its completeness rule decides
whether a run may retire."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lahella_bridge.harvest import Harvester
from lahella_bridge.models import Activity
from lahella_bridge.normalise.lahella import normalise
from lahella_bridge.normalise.outcome import Context, NormalisedActivity, Normaliser
from lahella_bridge.sample.data import generate, now_for
from lahella_bridge.sources.base import Fetch, PastRuns, Source
from lahella_bridge.upstream.client import LoginStore
from lahella_bridge.upstream.completeness import SweepProgress
from tests.conftest import TABLES


@dataclass
class MirrorUpstream:
    """`GET /records`: `{"count": n, "records": [{"id": ..., "activity": {...}}]}`, its
    records Lähellä.fi activities in an envelope of its own. `cut_short` leaves the last
    record out of the answer while `count` still announces it."""

    records: list[dict[str, Any]]
    cut_short: bool = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/records"
        listed = self.records[:-1] if self.cut_short else self.records
        return httpx.Response(200, json={"count": len(self.records), "records": listed})


def normalise_mirrored(raw: Any, context: Context) -> NormalisedActivity:
    """The mirror wraps each Lähellä.fi record in an envelope of its own."""
    return normalise(raw["activity"], context)


@dataclass
class MirrorSource:
    """The whole of a third source: its listing, key, normaliser and completeness rule."""

    upstream: MirrorUpstream
    enabled: bool = True
    name: ClassVar[str] = "mirror"

    def key(self, raw: Any) -> str:
        return str(raw["id"])

    @property
    def normaliser(self) -> Normaliser:
        return normalise_mirrored

    def still_published(self, raw: Any, now: datetime) -> bool:
        return True

    def incremental_since(self, past: PastRuns, now: datetime) -> datetime | None:
        return None

    @asynccontextmanager
    async def fetch(
        self, since: datetime | None, now: datetime, cookie_store: LoginStore
    ) -> AsyncIterator[Fetch]:
        transport = httpx.MockTransport(self.upstream.handle)
        async with httpx.AsyncClient(transport=transport, base_url="http://mirror.test") as http:
            progress = SweepProgress(unit="records")
            yield Fetch(self._records(http, progress), progress)

    async def _records(
        self, http: httpx.AsyncClient, progress: SweepProgress
    ) -> AsyncIterator[Any]:
        """Complete when as many distinct ids arrived as `count` announced."""
        page = (await http.get("/records")).json()
        progress.totals["*"] = page["count"]
        progress.seen["*"] = len({record["id"] for record in page["records"]})
        for record in page["records"]:
            yield record

    async def live_by_area(self, db: AsyncSession, areas: Collection[str]) -> dict[str, set[str]]:
        return {area: set() for area in areas}


async def live_mirror_keys(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.scalars(
            select(Activity.upstream_id).where(
                Activity.source == "mirror", Activity.deleted_at.is_(None)
            )
        )
        return set(rows)


@pytest.fixture
async def mirror_row(db: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The new source's row in `sources` (in production, a migration's), and gone again
    afterwards with everything it brought: the other tests know two sources."""
    async with db.begin() as connection:
        await connection.execute(
            text("INSERT INTO sources (id, label) VALUES ('mirror', 'A mirror')")
        )
    yield db
    async with db.begin() as connection:
        await connection.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        await connection.execute(text("DELETE FROM sources WHERE id = 'mirror'"))


async def test_a_source_written_outside_the_harvest_is_harvested_by_it(
    mirror_row: AsyncEngine, anchor: date
) -> None:
    db = mirror_row
    activities = generate(anchor=anchor)[:5]  # all five published
    upstream = MirrorUpstream([{"id": a["_key"], "activity": a} for a in activities])
    source: Source = MirrorSource(upstream)
    harvester = Harvester(db, [source], clock=lambda: now_for(anchor))
    keys = [str(a["_key"]) for a in activities]

    first = await harvester.run(source="mirror")
    assert (first.source, first.status, first.created) == ("mirror", "succeeded", 5), first.error
    assert await live_mirror_keys(db) == set(keys)

    upstream.records.pop()  # gone upstream, and the listing says so: retired
    (second,) = await harvester.run_all()
    assert (second.status, second.retired) == ("succeeded", 1), second.error
    assert await live_mirror_keys(db) == set(keys[:4])

    upstream.cut_short = True  # four announced, three arrived: nothing may be retired
    third = await harvester.run()
    assert (third.status, third.retired, third.complete) == ("incomplete", 0, False)
    assert "announced 4 records but 3 arrived" in (third.error or "")
    assert await live_mirror_keys(db) == set(keys[:4])
