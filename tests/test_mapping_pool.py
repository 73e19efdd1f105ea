"""Records mapped in worker processes: the same stored records, quarantine and counts as
records mapped in the harvesting process, and a listing that fails midway leaves the pool
behind without writing what was still being mapped."""

from __future__ import annotations

import os
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge.harvest import renormalise_stored
from lahella_bridge.models import Activity, QuarantinedRecord
from lahella_bridge.normalise.lahella import normalise
from lahella_bridge.normalise.outcome import Context, NormalisedActivity, Normaliser
from lahella_bridge.sample.upstream import SampleUpstream
from lahella_bridge.sources.lahella import LahellaSource
from tests.conftest import lahella_source, make_harvester

HARVESTER_PID = os.getpid()


def normalise_and_say_where(raw: Any, context: Context) -> NormalisedActivity:
    """Lähellä.fi's mapping, with the id of the process that ran it as a problem."""
    mapped = normalise(raw, context)
    mapped.problems.append(f"mapped in {os.getpid()}")
    return mapped


class SayWhereSource(LahellaSource):
    @property
    def normaliser(self) -> Normaliser:
        return normalise_and_say_where


async def test_worker_processes_store_what_the_harvester_itself_would(
    db: AsyncEngine, upstream: SampleUpstream, anchor: date
) -> None:
    harvester = make_harvester(db, upstream, anchor)
    harvester.mapping_workers = 2
    source = lahella_source(harvester)
    harvester.sources = [SayWhereSource(source.client, source.transport)]
    report = await harvester.run()
    assert report.status == "succeeded", report.error
    mappers = {problem for problem in report.problems if problem.startswith("mapped in")}
    assert len(mappers) == 2 and f"mapped in {HARVESTER_PID}" not in mappers
    assert (report.quarantined, report.unpublished) == (1, 2)
    assert report.created == len(upstream.records) - 3
    async with db.connect() as connection:
        assert "traits" in await connection.scalar(select(QuarantinedRecord.reason))
    # Mapped again in this process, not one stored record differs.
    in_process = make_harvester(db, upstream, anchor)
    seen, written = await renormalise_stored(db, in_process.sources, now=in_process.clock())
    assert seen == report.created and written == 0


async def test_a_listing_that_fails_midway_writes_nothing_still_being_mapped(
    db: AsyncEngine, upstream: SampleUpstream, anchor: date
) -> None:
    harvester = make_harvester(db, upstream, anchor)
    harvester.mapping_workers = 2
    upstream.faults.fail_from_skip = 100
    report = await harvester.run()
    assert report.status == "failed" and report.fetched == 100
    async with db.connect() as connection:
        stored = await connection.scalar(select(func.count()).select_from(Activity))
    # The first 100 records are one unwritten batch when the listing fails.
    assert stored == 0 and report.created == 0
