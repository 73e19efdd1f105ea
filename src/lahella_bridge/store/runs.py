"""Harvest runs, the harvest lock, the data version and the upstream logins: what a
harvest records about itself, apart from what it harvested."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from lahella_bridge.models import DataVersion, HarvestRun, UpstreamLogin

HARVEST_LOCK_ID = 0x1A4E11A1


async def try_harvest_lock(connection: AsyncConnection) -> bool:
    """Session-level advisory lock: released by unlock or when the connection dies."""
    return bool(await connection.scalar(select(func.pg_try_advisory_lock(HARVEST_LOCK_ID))))


async def release_harvest_lock(connection: AsyncConnection) -> None:
    await connection.execute(select(func.pg_advisory_unlock(HARVEST_LOCK_ID)))


async def harvest_running(db: AsyncSession) -> bool:
    """Whether any process holds the harvest lock right now."""
    held = await db.scalar(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :id AND granted"
        ),
        {"id": HARVEST_LOCK_ID},
    )
    return bool(held)


async def upstream_login(db: AsyncSession, source: str) -> tuple[str, dict[str, str]] | None:
    """The source's refreshed cookies and the configured cookies' fingerprint, if any."""
    row = (
        await db.execute(
            select(UpstreamLogin.configured, UpstreamLogin.cookies).where(
                UpstreamLogin.source == source
            )
        )
    ).one_or_none()
    return None if row is None else (row.configured, dict(row.cookies))


async def keep_upstream_login(
    db: AsyncSession, source: str, configured: str, cookies: dict[str, str]
) -> None:
    values = {"configured": configured, "cookies": cookies, "refreshed_at": func.now()}
    await db.execute(
        insert(UpstreamLogin)
        .values(source=source, **values)
        .on_conflict_do_update(index_elements=[UpstreamLogin.source], set_=values)
    )


async def start_run(db: AsyncSession, source: str, mode: str, started_at: datetime) -> int:
    run_id = await db.scalar(
        insert(HarvestRun)
        .values(source=source, mode=mode, status="running", started_at=started_at)
        .returning(HarvestRun.id)
    )
    assert run_id is not None
    return int(run_id)


async def finish_run(db: AsyncSession, run_id: int, **values: Any) -> None:
    await db.execute(update(HarvestRun).where(HarvestRun.id == run_id).values(**values))


async def fail_stale_runs(db: AsyncSession) -> None:
    """Runs left 'running' by a process that died: nobody holds the lock any more."""
    await db.execute(
        update(HarvestRun)
        .where(HarvestRun.status == "running")
        .values(
            status="failed",
            error="the harvesting process stopped before finishing",
            finished_at=func.now(),
        )
    )


async def last_runs(db: AsyncSession, limit: int = 50) -> Sequence[HarvestRun]:
    result = await db.scalars(select(HarvestRun).order_by(HarvestRun.id.desc()).limit(limit))
    return result.all()


async def ever_harvested(db: AsyncSession) -> bool:
    return bool(
        await db.scalar(
            select(func.count())
            .select_from(HarvestRun)
            .where(HarvestRun.status.in_(("succeeded", "braked", "incomplete")))
        )
    )


async def refresh_statistics(db: AsyncSession) -> None:
    """Planner statistics after a harvest that wrote rows: until autovacuum gets to it,
    plans made on the previous data (e.g. an empty table) can turn a feed query from
    milliseconds into seconds."""
    await db.execute(text("ANALYZE activities, occurrences, organisations"))


async def bump_data_version(db: AsyncSession) -> None:
    await db.execute(
        update(DataVersion)
        .where(DataVersion.id == 1)
        .values(version=DataVersion.version + 1, changed_at=func.now())
    )


async def data_version(db: AsyncSession) -> int:
    return int(await db.scalar(select(DataVersion.version).where(DataVersion.id == 1)) or 0)


async def last_success(db: AsyncSession) -> datetime | None:
    return await db.scalar(
        select(func.max(HarvestRun.finished_at)).where(HarvestRun.status == "succeeded")
    )


async def last_success_start(
    db: AsyncSession, source: str, *, full_only: bool = False
) -> datetime | None:
    """When the last succeeded run of a source started (optionally: a full sweep)."""
    query = select(func.max(HarvestRun.started_at)).where(
        HarvestRun.source == source, HarvestRun.status == "succeeded"
    )
    if full_only:
        query = query.where(HarvestRun.mode != "incremental")
    return await db.scalar(query)
