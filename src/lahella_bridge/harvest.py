"""One harvest run per source: pages -> raw rows -> normalise -> upsert -> retire -> stats.

Only this module talks to the upstreams, through `sources` (Lähellä.fi, and PTV when
enabled): what differs between them is asked of each `Source`, never branched on. A run that
did not see the whole listing retires nothing, and the safety brake stops a sweep from
retiring too much at once. After every batch, records that two sources both bring are
folded into one (`store.writes.hide_duplicates`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lahella_bridge import metrics
from lahella_bridge.brake import Brake
from lahella_bridge.config import Settings
from lahella_bridge.errors import Conflict
from lahella_bridge.mapping_pool import open_mapper
from lahella_bridge.normalise.outcome import Context, UnusableRecord
from lahella_bridge.sources.base import Listing, PastRuns, Source
from lahella_bridge.sources.lahella import LahellaSource
from lahella_bridge.sources.ptv import PtvSource
from lahella_bridge.store import runs, writes
from lahella_bridge.sweep import BATCH_SIZE, HarvestReport, Sweep, settle_sources
from lahella_bridge.upstream.client import StoredLogin
from lahella_bridge.upstream.completeness import SweepProgress
from lahella_bridge.upstream.http import UpstreamError

log = structlog.get_logger(__name__)


class HarvestAlreadyRunning(Conflict):
    """Another process holds the harvest lock."""


@asynccontextmanager
async def harvest_lock(engine: AsyncEngine, refusal: str) -> AsyncIterator[None]:
    """The cluster-wide lock of everything that writes records (harvests, renormalise), so
    two writers never interleave; raises `HarvestAlreadyRunning(refusal)` when it is held."""
    async with engine.connect() as connection:
        # Autocommit: the lock lives in the session, with no transaction held open for
        # the whole run (which would hold back vacuum).
        lock_connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        if not await runs.try_harvest_lock(lock_connection):
            raise HarvestAlreadyRunning(refusal)
        try:
            yield
        finally:
            await runs.release_harvest_lock(lock_connection)


def every_source(settings: Settings) -> list[Source]:
    """Every source the service knows, switched on or not, Lähellä.fi first (its records
    win over PTV's twins). A new source is one more entry here."""
    return [LahellaSource.from_settings(settings), PtvSource.from_settings(settings)]


def harvester_for(settings: Settings, engine: AsyncEngine) -> Harvester:
    """A harvester of the sources the settings switch on."""
    return Harvester(
        engine,
        [source for source in every_source(settings) if source.enabled],
        brake=settings.harvest_retire_brake,
        mapping_workers=settings.harvest_mapping_workers,
    )


@dataclass
class Harvester:
    """Everything a run needs; each source is asked what differs between sources."""

    engine: AsyncEngine
    sources: list[Source]  # in run order: the first one's records win over their twins
    brake: float = 0.20
    brake_minimum: int = 5
    mapping_workers: int = 0  # worker processes that map records; 0 or 1: a thread
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    on_progress: Callable[[HarvestReport], None] | None = None

    async def run(
        self,
        *,
        force: bool = False,
        mode: str = "full",
        source: str | None = None,
        full_sweep: bool = False,
    ) -> HarvestReport:
        """One source (default: the first enabled) under the cluster-wide lock.

        `full_sweep` makes a source that can sync incrementally (PTV) list in full.
        """
        if not self.sources:
            raise ValueError("no source is enabled")
        name = source or self.sources[0].name
        chosen = [s for s in self.sources if s.name == name]
        if not chosen:
            raise ValueError(f"source {name!r} is not enabled")
        return (await self._under_lock(chosen, force, mode, full_sweep))[0]

    async def run_all(
        self, *, force: bool = False, mode: str = "full", full_sweep: bool = False
    ) -> list[HarvestReport]:
        """Every enabled source in turn, under one hold of the lock."""
        return await self._under_lock(self.sources, force, mode, full_sweep)

    async def _under_lock(
        self, sources: list[Source], force: bool, mode: str, full_sweep: bool
    ) -> list[HarvestReport]:
        async with harvest_lock(self.engine, "a harvest is already running"):
            return [
                await self._locked_run(s, force=force, mode=mode, full_sweep=full_sweep)
                for s in sources
            ]

    async def _since(
        self, open_db: async_sessionmaker[AsyncSession], source: Source
    ) -> datetime | None:
        """Where the source's incremental sync starts, or None for a full sweep."""
        async with open_db() as db:
            past = PastRuns(
                last_full=await runs.last_success_start(db, source.name, full_only=True),
                last_any=await runs.last_success_start(db, source.name),
            )
        return source.incremental_since(past, self.clock())

    async def _locked_run(
        self, source: Source, *, force: bool, mode: str, full_sweep: bool
    ) -> HarvestReport:
        open_db = async_sessionmaker(self.engine, expire_on_commit=False)
        started = time.perf_counter()
        now = self.clock()
        since = None if full_sweep else await self._since(open_db, source)
        run_mode = "incremental" if since is not None else mode
        report = HarvestReport(source=source.name)
        async with open_db.begin() as db:
            await runs.fail_stale_runs(db)
            report.run_id = await runs.start_run(db, source.name, run_mode, now)
        log.info("harvest.start", run_id=report.run_id, source=source.name, mode=run_mode)
        try:
            async with open_mapper(self.mapping_workers) as mapping:
                sweep = Sweep(report, Context(now=now), open_db, source, mapper=mapping)
                listing = await self._fetch(sweep, since)
            await self._retire(open_db, sweep, listing, incremental=since is not None, force=force)
            async with open_db.begin() as db:
                if await settle_sources(db):
                    await runs.bump_data_version(db)
                if report.created or report.updated or report.retired:
                    await runs.refresh_statistics(db)
        except (UpstreamError, httpx.HTTPError) as exc:
            report.status, report.error = "failed", str(exc) or type(exc).__name__
            report.complete = False
        except Exception as exc:
            report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"
            report.complete = False
            log.exception("harvest.crashed", run_id=report.run_id)
        report.seconds = time.perf_counter() - started
        async with open_db.begin() as db:
            await runs.finish_run(
                db,
                report.run_id,
                finished_at=self.clock(),
                status=report.status,
                **report.counts(),
                report={
                    "unmapped": dict(report.unmapped),
                    "problems": dict(report.problems),
                    "seconds": round(report.seconds, 3),
                },
            )
        metrics.observe_harvest(source.name, report.status, report.counts(), report.retries)
        log.info(
            "harvest.finish",
            run_id=report.run_id,
            source=source.name,
            status=report.status,
            seconds=round(report.seconds, 2),
            **report.counts(),
        )
        return report

    async def _fetch(self, sweep: Sweep, since: datetime | None) -> Listing:
        """Feed every record of the source's listing to the sweep."""
        cookie_store = _StoredLogins(sweep.open_db, sweep.source.name)
        async with sweep.source.fetch(since, self.clock(), cookie_store) as fetch:
            await self._consume(fetch.records, fetch.progress, sweep)
            return fetch.listing()

    async def _consume(
        self, records: AsyncIterator[Any], progress: SweepProgress, sweep: Sweep
    ) -> None:
        report = sweep.report
        try:
            async for raw in records:
                await sweep.take(raw)
                if self.on_progress and report.fetched % 100 == 0:
                    self.on_progress(report)
            await sweep.finish()
        finally:
            sweep.abandon()
            # Whatever stopped the listing, the batch already handed over is committed.
            await sweep.settle()
            report.retries = progress.retries
            report.complete = progress.complete
            report.shortfall = progress.shortfall()
            totals = [t for t in progress.totals.values() if t is not None]
            report.total_reported = sum(totals) if totals else None

    async def _brake_refusal(
        self,
        db: AsyncSession,
        source: Source,
        live: set[str],
        to_retire: list[str],
        listing: Listing,
    ) -> str | None:
        """Why the brake stops this retirement, or None: source-wide, and for a sweep that
        lists by area (PTV's), per area too, as one area's empty listing is a small share
        of the whole. (An incremental sync's removals are PTV's own word, one by one.)"""
        brake = Brake(self.brake, self.brake_minimum)
        refusal = brake.refusal(len(to_retire), len(live))
        if refusal is not None or listing.by_area is None:
            return refusal
        live_by_area = await source.live_by_area(db, listing.by_area.keys())
        lost = {area: keys - listing.by_area[area] for area, keys in live_by_area.items()}
        return brake.area_refusal(lost, live_by_area)

    async def _retire(
        self,
        open_db: async_sessionmaker[AsyncSession],
        sweep: Sweep,
        listing: Listing,
        *,
        incremental: bool,
        force: bool,
    ) -> None:
        """A full sweep retires what it did not see, and only when it saw the whole
        listing; an incremental sync retires exactly what the upstream said is gone."""
        report = sweep.report
        if not incremental and not report.complete:
            report.status = "incomplete"
            report.error = report.error or (
                f"nothing was retired: {report.shortfall or 'the listing was not read in full'}"
            )
            log.warning(
                "harvest.incomplete",
                run_id=report.run_id,
                fetched=report.fetched,
                total=report.total_reported,
            )
            return
        source = sweep.source.name
        async with open_db.begin() as db:
            live = await writes.live_keys(db, source)
            gone = listing.removed & live if incremental else live
            to_retire = sorted(gone - sweep.keep)
            refusal = await self._brake_refusal(db, sweep.source, live, to_retire, listing)
            if refusal is not None and not force:
                report.status = "braked"
                report.error = (
                    f"safety brake: {refusal}; nothing was retired. Check the upstream, "
                    "then run `lahella-bridge harvest --force` if the removals are real"
                )
                log.warning("harvest.braked", run_id=report.run_id, would_retire=len(to_retire))
                return
            report.retired = await writes.retire_activities(db, source, to_retire)
            if report.retired:
                await runs.bump_data_version(db)
        if report.complete:
            report.status = "succeeded"
        else:  # an incremental sync that missed something it knows of
            report.status, report.error = "incomplete", report.error or report.shortfall


@dataclass
class _StoredLogins:
    """A source's refreshed cookies in PostgreSQL, where every replica and the CronJob
    find them (saved at once: the refresh may have made the old token useless)."""

    open_db: async_sessionmaker[AsyncSession]
    source: str

    async def load(self) -> StoredLogin | None:
        async with self.open_db() as db:
            row = await runs.upstream_login(db, self.source)
        return None if row is None else StoredLogin(*row)

    async def save(self, stored: StoredLogin) -> None:
        async with self.open_db.begin() as db:
            await runs.keep_upstream_login(db, self.source, stored.configured, stored.cookies)


async def renormalise_stored(
    engine: AsyncEngine, sources: Sequence[Source], now: datetime | None = None
) -> tuple[int, int]:
    """Re-map every live stored raw record of these sources (after a mapping fix):
    (seen, written). Under the harvest lock: run beside a harvest, it would write back
    the older raw records over the ones the harvest just stored."""
    refusal = "a harvest is running; renormalise again when it has finished"
    async with harvest_lock(engine, refusal):
        return await _renormalise(engine, sources, now)


async def _renormalise(
    engine: AsyncEngine, sources: Sequence[Source], now: datetime | None
) -> tuple[int, int]:
    open_db = async_sessionmaker(engine, expire_on_commit=False)
    context = Context(now=now or datetime.now(UTC))
    seen = written = 0
    for source in sources:
        after = None
        while True:
            async with open_db.begin() as db:
                rows = await writes.raw_activities(db, source.name, after, BATCH_SIZE)
                if not rows:
                    break
                batch = []
                for _, raw, digest in rows:
                    try:
                        batch.append((source.normaliser(raw, context), raw, digest))
                    except UnusableRecord as exc:
                        log.warning("renormalise.unusable", key=source.key(raw), reason=str(exc))
                created, updated = await writes.upsert_activities(db, source.name, batch)
                if created or updated:
                    await runs.bump_data_version(db)
            seen += len(rows)
            written += created + updated
            after = rows[-1][0]
    async with open_db.begin() as db:
        if await settle_sources(db):
            await runs.bump_data_version(db)
    return seen, written
