"""End-to-end sweeps of the bundled sample upstream into real PostgreSQL."""

from __future__ import annotations

import asyncio
import copy

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge.harvest import HarvestAlreadyRunning, Harvester
from lahella_bridge.models import Activity, HarvestRun, QuarantinedRecord
from lahella_bridge.sample.upstream import SampleUpstream
from tests.conftest import make_harvester


async def live_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(
            await connection.scalar(
                select(func.count()).select_from(Activity).where(Activity.deleted_at.is_(None))
            )
            or 0
        )


async def test_first_sweep_stores_every_published_record(
    harvester: Harvester, upstream: SampleUpstream, db: AsyncEngine
) -> None:
    report = await harvester.run()
    assert report.status == "succeeded"
    assert report.complete and report.fetched == len(upstream.records) == report.total_reported
    # one invalid record quarantined, one draft and one expired record not published
    assert (report.quarantined, report.unpublished) == (1, 2)
    assert report.created == len(upstream.records) - 3 == await live_count(db)
    async with db.connect() as connection:
        reason = await connection.scalar(select(QuarantinedRecord.reason))
        run = (
            await connection.execute(
                select(HarvestRun.status, HarvestRun.created, HarvestRun.quarantined)
            )
        ).one()
    assert "traits" in reason
    assert (run.status, run.created, run.quarantined) == ("succeeded", report.created, 1)


async def test_unchanged_rerun_writes_nothing(harvested: Harvester, db: AsyncEngine) -> None:
    async with db.connect() as connection:
        before = await connection.scalar(select(func.max(Activity.modified)))
    report = await harvested.run()
    assert (report.created, report.updated, report.retired) == (0, 0, 0)
    assert report.unchanged == report.fetched - report.quarantined - report.unpublished
    async with db.connect() as connection:
        assert await connection.scalar(select(func.max(Activity.modified))) == before


async def test_an_edit_updates_one_record_and_its_modified(
    harvested: Harvester, upstream: SampleUpstream, db: AsyncEngine
) -> None:
    record = upstream.records[20]
    record["traits"]["translations"]["fi"]["name"] = "Uusi nimi"
    report = await harvested.run()
    assert (report.created, report.updated) == (0, 1)
    async with db.connect() as connection:
        document = await connection.scalar(
            select(Activity.document).where(Activity.upstream_id == record["_key"])
        )
    assert document.name["fi"] == "Uusi nimi"


async def test_a_removal_seen_by_a_complete_sweep_is_retired_not_deleted(
    harvested: Harvester, upstream: SampleUpstream, db: AsyncEngine
) -> None:
    removed = upstream.records.pop(30)
    report = await harvested.run()
    assert report.retired == 1
    async with db.connect() as connection:
        deleted_at = await connection.scalar(
            select(Activity.deleted_at).where(Activity.upstream_id == removed["_key"])
        )
    assert deleted_at is not None


async def test_a_sweep_that_fails_midway_retires_nothing(
    harvested: Harvester, upstream: SampleUpstream, db: AsyncEngine
) -> None:
    live = await live_count(db)
    upstream.records.pop(0)
    upstream.faults.fail_from_skip = 100
    report = await harvested.run()
    assert report.status == "failed" and not report.complete
    assert report.retired == 0 and await live_count(db) == live


async def test_a_truncated_listing_with_lying_has_more_retires_nothing(
    harvested: Harvester, upstream: SampleUpstream, db: AsyncEngine
) -> None:
    live = await live_count(db)
    upstream.faults.has_more_stops_at = 100
    report = await harvested.run()
    assert report.status == "incomplete" and report.fetched == 200
    assert await live_count(db) == live


async def test_a_listing_that_repeats_itself_is_stopped_and_retires_nothing(
    harvested: Harvester, upstream: SampleUpstream, db: AsyncEngine
) -> None:
    live = await live_count(db)
    upstream.faults.repeat_first_page = True
    report = await harvested.run()
    assert report.status == "incomplete"
    assert await live_count(db) == live


async def test_safety_brake_refuses_mass_retirement_unless_forced(
    harvested: Harvester, upstream: SampleUpstream, db: AsyncEngine
) -> None:
    live = await live_count(db)
    del upstream.records[100:]
    report = await harvested.run()
    assert report.status == "braked" and report.retired == 0
    assert "safety brake" in (report.error or "")
    assert await live_count(db) == live
    forced = await harvested.run(force=True)
    assert forced.status == "succeeded" and forced.retired > 0.2 * live


async def test_two_concurrent_harvests_run_one(
    db: AsyncEngine, upstream: SampleUpstream, anchor: object
) -> None:
    upstream.faults.delay_s = 0.05
    first = make_harvester(db, upstream, anchor)  # type: ignore[arg-type]
    second = make_harvester(db, upstream, anchor)  # type: ignore[arg-type]
    results = await asyncio.gather(first.run(), second.run(), return_exceptions=True)
    assert sum(isinstance(r, HarvestAlreadyRunning) for r in results) == 1
    assert sum(getattr(r, "status", None) == "succeeded" for r in results) == 1


async def test_a_quarantined_record_that_was_good_keeps_its_last_version(
    harvested: Harvester, upstream: SampleUpstream, db: AsyncEngine
) -> None:
    key = upstream.records[40]["_key"]
    upstream.records[40] = {"_key": key, "traits": []}
    report = await harvested.run()
    assert report.quarantined == 2 and report.retired == 0
    async with db.connect() as connection:
        assert (
            await connection.scalar(select(Activity.deleted_at).where(Activity.upstream_id == key))
            is None
        )


async def test_renormalise_rewrites_only_what_the_mapping_changes(
    harvested: Harvester, db: AsyncEngine
) -> None:
    from lahella_bridge.harvest import renormalise_stored

    seen, written = await renormalise_stored(db, harvested.sources, now=harvested.clock())
    assert seen > 300 and written == 0
    async with db.begin() as connection:
        await connection.execute(
            text(
                "UPDATE activities SET document = document - 'themes' WHERE upstream_id = "
                "(SELECT min(upstream_id) FROM activities)"
            )
        )
    seen, written = await renormalise_stored(db, harvested.sources, now=harvested.clock())
    assert written == 1


async def test_unknown_fields_and_codes_are_kept_and_reported(
    harvested: Harvester, upstream: SampleUpstream, db: AsyncEngine
) -> None:
    async with db.connect() as connection:
        raw = await connection.scalar(
            select(Activity.raw).where(Activity.upstream_id == upstream.records[13]["_key"])
        )
        unmapped = (
            (
                await connection.execute(
                    text(
                        "SELECT u->>'value' FROM activities, jsonb_array_elements(document->'unmapped') u"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert raw["futureField"] == {"introduced": "later"}
    assert {"ht_tuntematon", "hm_uusi_muoto", "city/FI/Helsinki"} <= set(unmapped)


async def test_an_edit_to_the_raw_record_is_detected_whatever_the_key_order(
    harvested: Harvester, upstream: SampleUpstream
) -> None:
    upstream.records[50] = dict(reversed(list(copy.deepcopy(upstream.records[50]).items())))
    report = await harvested.run()
    assert report.updated == 0 and report.created == 0


@pytest.mark.parametrize("statuses", [[500], [502, 503], [503, 503, 503]])
async def test_transient_server_errors_are_retried(
    harvested: Harvester, upstream: SampleUpstream, statuses: list[int]
) -> None:
    upstream.faults.statuses = list(statuses)
    report = await harvested.run()
    assert report.status == "succeeded" and report.retries == len(statuses)


async def test_upstream_down_for_a_whole_run_changes_nothing_and_records_a_failure(
    harvested: Harvester, upstream: SampleUpstream, db: AsyncEngine
) -> None:
    live = await live_count(db)
    upstream.faults.down = True
    report = await harvested.run()
    assert report.status == "failed" and report.retries > 0
    assert await live_count(db) == live
    async with db.connect() as connection:
        status = await connection.scalar(
            select(HarvestRun.status).order_by(HarvestRun.id.desc()).limit(1)
        )
    assert status == "failed"
