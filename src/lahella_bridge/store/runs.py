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


async def harvest_running(session: AsyncSession) -> bool:
    """Whether any process holds the harvest lock right now."""
    held = await session.scalar(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :id AND granted"
        ),
        {"id": HARVEST_LOCK_ID},
    )
    return bool(held)


async def upstream_login(session: AsyncSession, source: str) -> tuple[str, dict[str, str]] | None:
    """The source's refreshed cookies and the configured cookies' fingerprint, if any."""
    row = (
        await session.execute(
            select(UpstreamLogin.configured, UpstreamLogin.cookies).where(
                UpstreamLogin.source == source
            )
        )
    ).one_or_none()
    return None if row is None else (row.configured, dict(row.cookies))


async def keep_upstream_login(
    session: AsyncSession, source: str, configured: str, cookies: dict[str, str]
) -> None:
    values = {"configured": configured, "cookies": cookies, "refreshed_at": func.now()}
    await session.execute(
        insert(UpstreamLogin)
        .values(source=source, **values)
        .on_conflict_do_update(index_elements=[UpstreamLogin.source], set_=values)
    )


async def start_run(session: AsyncSession, source: str, mode: str, started_at: datetime) -> int:
    run_id = await session.scalar(
        insert(HarvestRun)
        .values(source=source, mode=mode, status="running", started_at=started_at)
        .returning(HarvestRun.id)
    )
    assert run_id is not None
    return int(run_id)


async def finish_run(session: AsyncSession, run_id: int, **values: Any) -> None:
    await session.execute(update(HarvestRun).where(HarvestRun.id == run_id).values(**values))


async def fail_stale_runs(session: AsyncSession) -> None:
    """Runs left 'running' by a process that died: nobody holds the lock any more."""
    await session.execute(
        update(HarvestRun)
        .where(HarvestRun.status == "running")
        .values(
            status="failed",
            error="the harvesting process stopped before finishing",
            finished_at=func.now(),
        )
    )


async def last_runs(session: AsyncSession, limit: int = 50) -> Sequence[HarvestRun]:
    result = await session.scalars(select(HarvestRun).order_by(HarvestRun.id.desc()).limit(limit))
    return result.all()


async def ever_harvested(session: AsyncSession) -> bool:
    return bool(
        await session.scalar(
            select(func.count())
            .select_from(HarvestRun)
            .where(HarvestRun.status.in_(("succeeded", "braked", "incomplete")))
        )
    )


async def refresh_statistics(session: AsyncSession) -> None:
    """Planner statistics after a harvest that wrote rows: until autovacuum gets to it,
    plans made on the previous data (e.g. an empty table) can turn a feed query from
    milliseconds into seconds."""
    await session.execute(text("ANALYZE activities, occurrences, organisations"))


async def bump_data_version(session: AsyncSession) -> None:
    await session.execute(
        update(DataVersion)
        .where(DataVersion.id == 1)
        .values(version=DataVersion.version + 1, changed_at=func.now())
    )


async def data_version(session: AsyncSession) -> int:
    return int(await session.scalar(select(DataVersion.version).where(DataVersion.id == 1)) or 0)


async def last_success(session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(func.max(HarvestRun.finished_at)).where(HarvestRun.status == "succeeded")
    )


async def last_success_start(
    session: AsyncSession, source: str, *, full_only: bool = False
) -> datetime | None:
    """When the last succeeded run of a source started (optionally: a full sweep)."""
    query = select(func.max(HarvestRun.started_at)).where(
        HarvestRun.source == source, HarvestRun.status == "succeeded"
    )
    if full_only:
        query = query.where(HarvestRun.mode != "incremental")
    return await session.scalar(query)
