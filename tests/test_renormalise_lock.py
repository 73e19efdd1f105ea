"""`renormalise` writes records, so it takes the harvest lock: it never runs beside a harvest
(whose fresh records it would overwrite with the older stored ones)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from typer.testing import CliRunner

from lahella_bridge.cli import app
from lahella_bridge.harvest import HarvestAlreadyRunning, Harvester, renormalise_stored
from lahella_bridge.sample.upstream import SampleUpstream
from lahella_bridge.store import runs


async def until_the_lock_is_held(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine)
    for _ in range(200):
        async with sessions() as session:
            if await runs.harvest_running(session):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the harvest never took the lock")


async def test_renormalise_refuses_while_a_harvest_runs(
    harvested: Harvester, upstream: SampleUpstream, db: AsyncEngine
) -> None:
    upstream.faults.delay_s = 0.3  # each page: the harvest holds the lock for a while
    harvest = asyncio.create_task(harvested.run())
    try:
        await until_the_lock_is_held(db)
        with pytest.raises(HarvestAlreadyRunning, match="a harvest is running"):
            await renormalise_stored(db, harvested.sources, now=harvested.clock())
        assert not harvest.done()
    finally:
        report = await harvest
    assert report.status == "succeeded"
    # Free again afterwards.
    seen, _ = await renormalise_stored(db, harvested.sources, now=harvested.clock())
    assert seen > 0


async def test_the_renormalise_command_says_a_harvest_is_running(
    harvested: Harvester, db: AsyncEngine, database_url: str
) -> None:
    async with db.connect() as connection:  # another process's harvest, e.g. the CronJob
        holder = await connection.execution_options(isolation_level="AUTOCOMMIT")
        assert await runs.try_harvest_lock(holder)
        try:
            result = await asyncio.to_thread(
                CliRunner().invoke,
                app,
                ["renormalise"],
                env={"LAHELLA_BRIDGE_DATABASE_URL": database_url},
            )
        finally:
            await runs.release_harvest_lock(holder)
    assert result.exit_code == 3, result.output
    assert "a harvest is running; renormalise again when it has finished" in result.output
