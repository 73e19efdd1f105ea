"""A PTV run is complete only when it can prove it saw every service and what they link
to: counted in distinct items, with the archived listing read, and no channel left out.
The real PTV client against the bundled sample PTV upstream, into real PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lahella_bridge.sample.data import now_for
from lahella_bridge.sample.ptv_data import ARCHIVABLE, sample_id
from lahella_bridge.sample.ptv_upstream import AREA_PAGE_SIZE, SamplePtvUpstream
from lahella_bridge.sweep import HarvestReport
from tests.conftest import make_harvester


class ShakyPtv(SamplePtvUpstream):
    """The sample PTV with the failures of a busy real one: an area listing whose order
    shifts while it is paged, an archived listing that fails, channels that `list?guids=`
    leaves out (and that may fail on their own as well)."""

    shifted_area: str | None = None
    archived_fails = False
    left_out: frozenset[str] = frozenset()
    unreadable: frozenset[str] = frozenset()

    async def services_by_area(self, request: Request) -> Response:
        if request.path_params["code"] != self.shifted_area or self._page_number(request) < 2:
            return await super().services_by_area(request)
        # A service was inserted before page 2 was asked for: the last of page 1 comes
        # again, and the last of the listing falls off the end.
        first = await super().services_by_area(request)
        page = _json(first)
        previous = _json(await self._area_page(request, 1))
        page["itemList"] = previous["itemList"][-1:] + page["itemList"][:-1]
        return JSONResponse(page)

    async def _area_page(self, request: Request, number: int) -> Response:
        scope = dict(request.scope, query_string=f"page={number}".encode())
        return await super().services_by_area(Request(scope))

    async def service_guids(self, request: Request) -> Response:
        if self.archived_fails and request.query_params.get("status") == "Archived":
            return JSONResponse({"error": "injected"}, status_code=500)
        return await super().service_guids(request)

    async def channel_list(self, request: Request) -> Response:
        channels = {k: v for k, v in self.sample.channels.items() if k not in self.left_out}
        return await self._by_guids(request, channels)

    async def channel(self, request: Request) -> Response:
        if request.path_params["id"] in self.unreadable:
            return JSONResponse({"error": "injected"}, status_code=500)
        return await super().channel(request)


def _json(response: Response) -> dict[str, Any]:
    return dict(json.loads(bytes(response.body)))


@pytest.fixture
def shaky(anchor: date) -> ShakyPtv:
    return ShakyPtv(anchor=anchor)


async def ptv_run(
    db: AsyncEngine, upstream: ShakyPtv, anchor: date, full_sweep: bool = True
) -> HarvestReport:
    harvester = make_harvester(db, None, anchor, ptv_upstream=upstream)
    return await harvester.run(source="ptv", full_sweep=full_sweep)


async def stored(db: AsyncEngine) -> dict[str, tuple[Any, Any]]:
    """Every PTV record: whether it is live, and its raw bundle."""
    async with db.connect() as connection:
        rows = await connection.execute(
            text("SELECT upstream_id, deleted_at IS NULL, raw FROM activities WHERE source='ptv'")
        )
        return {row[0]: (row[1], row[2]) for row in rows}


def only_in(upstream: SamplePtvUpstream, code: str) -> list[str]:
    return [
        key
        for key, service in upstream.sample.services.items()
        if [a["code"] for a in service["areas"]] == [code]
    ]


async def test_an_area_listing_that_shifts_while_paged_is_incomplete_and_retires_nothing(
    db: AsyncEngine, shaky: ShakyPtv, anchor: date
) -> None:
    assert (await ptv_run(db, shaky, anchor)).status == "succeeded"
    before = await stored(db)
    # An area of two pages whose last service is listed in no other area.
    code = "564"
    listed = [s for s in shaky.sample.services.values() if s["areas"][0]["code"] == code]
    assert len(listed) > AREA_PAGE_SIZE
    tail = only_in(shaky, code)[-1]
    shaky.sample.services[tail] = shaky.sample.services.pop(tail)
    shaky.shifted_area = code
    report = await ptv_run(db, shaky, anchor)
    # Both pages arrived (as many pages as announced), but one service never did.
    assert report.status == "incomplete", (report.status, report.error)
    assert report.retired == 0
    assert await stored(db) == before


async def test_a_failed_archived_listing_leaves_the_incremental_run_incomplete(
    db: AsyncEngine, shaky: ShakyPtv, anchor: date
) -> None:
    assert (await ptv_run(db, shaky, anchor)).status == "succeeded"
    now = now_for(anchor)
    archived = sample_id("service", f"ngo:{ARCHIVABLE}")
    shaky.archive(archived, now - timedelta(minutes=1))
    shaky.archived_fails = True
    report = await ptv_run(db, shaky, anchor, full_sweep=False)
    assert report.status == "incomplete", (report.status, report.error)
    assert "archived" in (report.error or "")
    assert (await stored(db))[archived][0]  # not retired: the removals were not read
    # An incomplete run does not move the window on: the next one reads the removals.
    shaky.archived_fails = False
    again = await ptv_run(db, shaky, anchor, full_sweep=False)
    assert (again.status, again.retired) == ("succeeded", 1), again.error
    assert not (await stored(db))[archived][0]


def channel_ids(raw: dict[str, Any]) -> list[str]:
    return sorted(c["id"] for c in raw["channels"])


def linked_channels(service: dict[str, Any]) -> list[str]:
    return sorted(c["serviceChannel"]["id"] for c in service.get("serviceChannels") or [])


async def test_channels_a_batch_left_out_are_fetched_again(
    db: AsyncEngine, shaky: ShakyPtv, anchor: date
) -> None:
    shaky.left_out = frozenset(list(shaky.sample.channels)[::3])
    report = await ptv_run(db, shaky, anchor)
    assert report.status == "succeeded", report.error
    records = await stored(db)
    assert len(records) == len(shaky.sample.services)
    for key, service in shaky.sample.services.items():
        assert channel_ids(records[key][1]) == linked_channels(service), key


async def test_a_channel_that_cannot_be_read_holds_its_services_back_and_the_run_is_partial(
    db: AsyncEngine, shaky: ShakyPtv, anchor: date
) -> None:
    assert (await ptv_run(db, shaky, anchor)).status == "succeeded"
    before = await stored(db)
    channel = next(c for s in shaky.sample.services.values() for c in linked_channels(s) if c)
    users = [k for k, s in shaky.sample.services.items() if channel in linked_channels(s)]
    for key in users:  # changed upstream, so the run would rewrite them
        names = [{**shaky.sample.services[key]["serviceNames"][0], "value": "Uusi nimi"}]
        shaky.touch(key, now_for(anchor), serviceNames=names)
    shaky.left_out = shaky.unreadable = frozenset({channel})
    report = await ptv_run(db, shaky, anchor)
    assert report.status == "incomplete", (report.status, report.error)
    assert report.retired == 0 and report.error and users[0] in report.error
    after = await stored(db)
    for key in users:  # the last good version, with the channel, is kept
        assert after[key] == before[key]
        assert channel in channel_ids(after[key][1])
