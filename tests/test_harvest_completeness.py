"""A full sweep retires only what it proved gone: it must have seen every distinct id."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import respx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge.models import Activity, HarvestRun
from lahella_bridge.sample.data import generate
from lahella_bridge.sample.upstream import SampleUpstream
from lahella_bridge.upstream.client import ClientSettings, LahellaClient
from tests.conftest import lahella_source, make_harvester


class EditedWhilePaging:
    """The sample upstream, with its third record moved to the front once the first page
    was served: an edit that re-sorts the listing while the harvester pages through it."""

    def __init__(self, upstream: SampleUpstream) -> None:
        self.upstream = upstream
        self.shifted = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.upstream(scope, receive, send)
        if scope["type"] == "http" and scope["path"] == "/v1/activities" and not self.shifted:
            self.shifted = True
            self.upstream.records.insert(0, self.upstream.records.pop(2))


async def test_overlapping_pages_that_skip_a_record_retire_nothing(
    db: AsyncEngine, anchor: date
) -> None:
    upstream = SampleUpstream(generate(anchor=anchor)[:4])
    harvester = make_harvester(db, upstream, anchor, page_size=2)
    first = await harvester.run()
    assert (first.status, first.created) == ("succeeded", 4), first.error
    keys = [r["_key"] for r in upstream.records]

    # Pages [1, 2] and then (after 3 moved to the front) [2, 4]: four items for a
    # total of four, but only three distinct ids.
    lahella_source(harvester).transport = httpx.ASGITransport(app=EditedWhilePaging(upstream))
    report = await harvester.run()

    assert report.status == "incomplete" and report.retired == 0
    async with db.connect() as connection:
        live = set(
            await connection.scalars(
                select(Activity.upstream_id).where(Activity.deleted_at.is_(None))
            )
        )
        run = (
            await connection.execute(
                select(HarvestRun.status, HarvestRun.error).where(HarvestRun.id == report.run_id)
            )
        ).one()
    assert keys[2] in live and live == set(keys)
    assert run.status == "incomplete"
    assert "announced 4 distinct ids but 3 arrived" in (run.error or "")


@respx.mock
async def test_a_listing_without_a_total_proves_nothing() -> None:
    respx.get("https://hallinta.test/v1/activities").mock(
        return_value=httpx.Response(200, json={"items": [{"_key": "1"}], "hasMore": False})
    )
    client_settings = ClientSettings(base_url="https://hallinta.test", cookies="AUTH_TOKEN_X=a")
    async with LahellaClient(client_settings) as client:
        assert [item["_key"] async for item in client.activities()] == ["1"]
    assert not client.progress.complete
    assert client.progress.shortfall() == "listing '*' announced no total (1 distinct ids arrived)"
