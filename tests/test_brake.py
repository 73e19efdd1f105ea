"""The retirement safety brake: a run may retire at most 20 % of what is live (but always
5), source-wide, and for PTV's sweep by area also per area; a braked run retires
nothing until forced. Real harvests of the sample upstreams into real PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lahella_bridge.harvest import Harvester
from lahella_bridge.sample.data import generate, now_for
from lahella_bridge.sample.ptv_upstream import AREA_PAGE_SIZE, SamplePtvUpstream
from lahella_bridge.sample.upstream import SampleUpstream
from lahella_bridge.sweep import HarvestReport
from tests.conftest import make_harvester


async def live(db: AsyncEngine, source: str) -> set[str]:
    async with db.connect() as connection:
        rows = await connection.execute(
            text("SELECT upstream_id FROM activities WHERE source = :s AND deleted_at IS NULL"),
            {"s": source},
        )
        return {row[0] for row in rows}


def assert_braked(report: HarvestReport, *words: str) -> None:
    assert (report.status, report.retired) == ("braked", 0), (report.status, report.error)
    assert all(word in (report.error or "") for word in ("safety brake", *words)), report.error


# --- the 5-record minimum ---------------------------------------------------------------


@pytest.fixture
async def small_source(db: AsyncEngine, anchor: date) -> tuple[SampleUpstream, Harvester]:
    """A Lähellä.fi source with between 10 and 25 live records: 20 % of it is under 5."""
    upstream = SampleUpstream(generate(anchor=anchor)[:24])
    harvester = make_harvester(db, upstream, anchor)
    assert (await harvester.run()).status == "succeeded"
    assert 10 <= len(await live(db, "lahella")) < 25
    return upstream, harvester


async def drop(upstream: SampleUpstream, keys: set[str]) -> None:
    upstream.records = [
        r for r in upstream.records if not (isinstance(r, dict) and r.get("_key") in keys)
    ]


async def test_a_small_source_may_lose_five_records_in_one_run(
    db: AsyncEngine, small_source: tuple[SampleUpstream, Harvester]
) -> None:
    upstream, harvester = small_source
    gone = set(sorted(await live(db, "lahella"))[:5])
    await drop(upstream, gone)
    report = await harvester.run()
    assert (report.status, report.retired) == ("succeeded", 5), report.error
    assert not gone & await live(db, "lahella")


async def test_a_small_source_losing_six_records_is_braked_until_forced(
    db: AsyncEngine, small_source: tuple[SampleUpstream, Harvester]
) -> None:
    upstream, harvester = small_source
    before = await live(db, "lahella")
    gone = set(sorted(before)[:6])
    await drop(upstream, gone)
    assert_braked(await harvester.run(), "retire 6 of", "(limit 5)")
    assert await live(db, "lahella") == before
    forced = await harvester.run(force=True)
    assert (forced.status, forced.retired) == ("succeeded", 6)


# --- PTV ------------------------------------------------------------------------------


class EmptyAreaPtv(SamplePtvUpstream):
    """The sample PTV, with one area's listing coming back empty (and saying so)."""

    empty_area: str | None = None

    async def services_by_area(self, request: Request) -> Response:
        if request.path_params["code"] == self.empty_area:
            return JSONResponse(
                {"pageNumber": 1, "pageSize": AREA_PAGE_SIZE, "pageCount": 0, "itemList": []}
            )
        return await super().services_by_area(request)


@pytest.fixture
async def ptv(db: AsyncEngine, anchor: date) -> tuple[EmptyAreaPtv, Harvester]:
    upstream = EmptyAreaPtv(anchor=anchor)
    harvester = make_harvester(db, None, anchor, ptv_upstream=upstream)
    assert (await harvester.run(source="ptv")).status == "succeeded"
    assert len(await live(db, "ptv")) == len(upstream.sample.services)
    return upstream, harvester


def in_area(upstream: SamplePtvUpstream, code: str, only: bool = False) -> list[str]:
    return [
        key
        for key, service in upstream.sample.services.items()
        if (codes := [a["code"] for a in service["areas"]]) == [code]
        or (not only and code in codes)
    ]


async def test_a_ptv_sweep_that_would_retire_over_a_fifth_is_braked_until_forced(
    db: AsyncEngine, ptv: tuple[EmptyAreaPtv, Harvester]
) -> None:
    upstream, harvester = ptv
    before = await live(db, "ptv")
    gone = sorted(before)[::4][:10]  # 10 of 45, spread over the areas
    for key in gone:
        del upstream.sample.services[key]
    assert_braked(await harvester.run(source="ptv", full_sweep=True), "retire 10 of 45")
    assert await live(db, "ptv") == before
    forced = await harvester.run(source="ptv", full_sweep=True, force=True)
    assert (forced.status, forced.retired) == ("succeeded", 10), forced.error


async def test_an_incremental_ptv_run_is_braked_like_a_sweep(
    db: AsyncEngine, ptv: tuple[EmptyAreaPtv, Harvester], anchor: date
) -> None:
    upstream, harvester = ptv
    before = await live(db, "ptv")
    for key in sorted(before)[:10]:
        upstream.archive(key, now_for(anchor) - timedelta(minutes=1))
    report = await harvester.run(source="ptv")
    assert_braked(report, "retire 10 of 45")
    assert await live(db, "ptv") == before
    forced = await harvester.run(source="ptv", force=True)
    assert (forced.status, forced.retired) == ("succeeded", 10), forced.error


async def test_one_area_coming_back_empty_retires_none_of_its_services(
    db: AsyncEngine, ptv: tuple[EmptyAreaPtv, Harvester]
) -> None:
    upstream, harvester = ptv
    before = await live(db, "ptv")
    area = "564"
    only_there = in_area(upstream, area, only=True)
    # Few enough for the source-wide rule (5 of 45): only the area's own brake stops it.
    assert 0 < len(only_there) <= 5 and len(in_area(upstream, area)) > 5
    upstream.empty_area = area
    assert_braked(await harvester.run(source="ptv", full_sweep=True), f"area {area}")
    assert await live(db, "ptv") == before
    forced = await harvester.run(source="ptv", full_sweep=True, force=True)
    assert forced.retired == len(only_there), forced.error
    assert not set(only_there) & await live(db, "ptv")


async def test_an_area_losing_one_service_of_many_is_not_braked(
    db: AsyncEngine, ptv: tuple[EmptyAreaPtv, Harvester]
) -> None:
    upstream, harvester = ptv
    gone = in_area(upstream, "564", only=True)[0]
    del upstream.sample.services[gone]
    report = await harvester.run(source="ptv", full_sweep=True)
    assert (report.status, report.retired) == ("succeeded", 1), report.error
    assert gone not in await live(db, "ptv")


async def test_a_small_area_coming_back_empty_is_braked_even_under_the_minimum(
    db: AsyncEngine, ptv: tuple[EmptyAreaPtv, Harvester]
) -> None:
    upstream, harvester = ptv
    areas = sorted({a["code"] for s in upstream.sample.services.values() for a in s["areas"]})
    area = next(code for code in areas if 1 < len(in_area(upstream, code)) <= 5)
    before = await live(db, "ptv")
    upstream.empty_area = area
    assert_braked(await harvester.run(source="ptv", full_sweep=True), f"area {area}")
    assert await live(db, "ptv") == before
