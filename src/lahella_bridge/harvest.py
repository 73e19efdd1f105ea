"""One harvest run per source: pages -> raw rows -> normalise -> upsert -> retire -> stats.

Only this module talks to the upstreams (Lähellä.fi, and PTV when enabled). A run that
did not see the whole listing retires nothing, and the safety brake stops a sweep from
retiring too much at once. After every batch, records that two sources both bring are
folded into one (`store.writes.hide_duplicates`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lahella_bridge import metrics
from lahella_bridge.brake import Brake
from lahella_bridge.config import Settings
from lahella_bridge.errors import Conflict
from lahella_bridge.normalise import Context, UnusableRecord
from lahella_bridge.sources.base import Listing
from lahella_bridge.sources.lahella import client_settings
from lahella_bridge.sources.ptv import PTV_OVERLAP, ptv_settings
from lahella_bridge.store import runs, writes
from lahella_bridge.sweep import (
    BATCH_SIZE,
    MAPPINGS,
    HarvestReport,
    Sweep,
    settle_sources,
)
from lahella_bridge.upstream.client import ClientSettings, LahellaClient, StoredSession
from lahella_bridge.upstream.completeness import SweepProgress
from lahella_bridge.upstream.http import UpstreamError
from lahella_bridge.upstream.ptv_client import PtvClient, PtvClientSettings
from lahella_bridge.upstream.ptv_schemas import listed_areas

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


def harvester_for(settings: Settings, engine: AsyncEngine) -> Harvester:
    return Harvester(
        engine,
        client_settings(settings),
        ptv=ptv_settings(settings),
        brake=settings.harvest_retire_brake,
        ptv_full_every=timedelta(hours=settings.ptv_full_sweep_hours),
    )


@dataclass
class Harvester:
    """Everything a run needs; the transports let tests hand the real clients a fake network."""

    engine: AsyncEngine
    client: ClientSettings | None  # Lähellä.fi; None switches the source off
    ptv: PtvClientSettings | None = None
    brake: float = 0.20
    brake_minimum: int = 5
    transport: httpx.AsyncBaseTransport | None = None
    ptv_transport: httpx.AsyncBaseTransport | None = None
    ptv_full_every: timedelta = timedelta(hours=24)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    on_progress: Callable[[HarvestReport], None] | None = None

    @property
    def sources(self) -> list[str]:
        """The enabled sources, Lähellä.fi first (its records win over PTV's twins)."""
        enabled = {"lahella": self.client is not None, "ptv": self.ptv is not None}
        return [name for name, on in enabled.items() if on]

    async def run(
        self,
        *,
        force: bool = False,
        mode: str = "full",
        source: str | None = None,
        full_sweep: bool = False,
    ) -> HarvestReport:
        """One source (default: the first enabled) under the cluster-wide lock.

        `full_sweep` makes PTV list every area even when an incremental sync would do.
        """
        name = source or (self.sources or ["lahella"])[0]
        if name not in self.sources:
            raise ValueError(f"source {name!r} is not enabled")
        return (await self._under_lock([name], force, mode, full_sweep))[0]

    async def run_all(
        self, *, force: bool = False, mode: str = "full", full_sweep: bool = False
    ) -> list[HarvestReport]:
        """Every enabled source in turn, under one hold of the lock."""
        return await self._under_lock(self.sources, force, mode, full_sweep)

    async def _under_lock(
        self, sources: list[str], force: bool, mode: str, full_sweep: bool
    ) -> list[HarvestReport]:
        async with harvest_lock(self.engine, "a harvest is already running"):
            return [
                await self._locked_run(s, force=force, mode=mode, full_sweep=full_sweep)
                for s in sources
            ]

    async def _ptv_since(self, sessions: async_sessionmaker[AsyncSession]) -> datetime | None:
        """Where an incremental PTV sync starts, or None when a full sweep is due."""
        async with sessions() as session:
            last_full = await runs.last_success_start(session, "ptv", full_only=True)
            last_any = await runs.last_success_start(session, "ptv")
        if last_full and last_any and self.clock() - last_full < self.ptv_full_every:
            return last_any - PTV_OVERLAP
        return None

    async def _locked_run(
        self, source: str, *, force: bool, mode: str, full_sweep: bool
    ) -> HarvestReport:
        sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        started = time.perf_counter()
        now = self.clock()
        since = await self._ptv_since(sessions) if source == "ptv" and not full_sweep else None
        run_mode = "incremental" if since is not None else mode
        report = HarvestReport(source=source)
        async with sessions.begin() as session:
            await runs.fail_stale_runs(session)
            report.run_id = await runs.start_run(session, source, run_mode, now)
        log.info("harvest.start", run_id=report.run_id, source=source, mode=run_mode)
        sweep = Sweep(report, Context(now=now), sessions, MAPPINGS[source])
        try:
            listing = await self._fetch(source, sweep, since)
            await self._retire(sessions, sweep, listing, incremental=since is not None, force=force)
            async with sessions.begin() as session:
                if await settle_sources(session):
                    await runs.bump_data_version(session)
                if report.created or report.updated or report.retired:
                    await runs.refresh_statistics(session)
        except (UpstreamError, httpx.HTTPError) as exc:
            report.status, report.error = "failed", str(exc) or type(exc).__name__
            report.complete = False
        except Exception as exc:
            report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"
            report.complete = False
            log.exception("harvest.crashed", run_id=report.run_id)
        report.seconds = time.perf_counter() - started
        async with sessions.begin() as session:
            await runs.finish_run(
                session,
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
        metrics.observe_harvest(source, report.status, report.counts(), report.retries)
        log.info(
            "harvest.finish",
            run_id=report.run_id,
            source=source,
            status=report.status,
            seconds=round(report.seconds, 2),
            **report.counts(),
        )
        return report

    async def _fetch(self, source: str, sweep: Sweep, since: datetime | None) -> Listing:
        """Feed every record of the source's listing to the sweep."""
        if source == "lahella":
            assert self.client is not None
            session_store = _StoredSessions(sweep.sessions, source)
            async with LahellaClient(self.client, self.transport, session_store) as lahella:
                await self._consume(lahella.activities(), lahella.progress, sweep)
            return Listing()
        assert self.ptv is not None
        async with PtvClient(self.ptv, transport=self.ptv_transport) as client:
            records = (
                client.services_by_area()
                if since is None
                else client.services_changed(since, self.clock())
            )
            await self._consume(records, client.progress, sweep)
            return Listing(client.removed, client.listed if since is None else None)

    async def _consume(
        self, records: AsyncIterator[Any], progress: SweepProgress, sweep: Sweep
    ) -> None:
        report = sweep.report
        try:
            async for raw in records:
                await sweep.take(raw)
                if self.on_progress and report.fetched % 100 == 0:
                    self.on_progress(report)
            await sweep.flush()
        finally:
            # Whatever stopped the listing, the batch already handed over is committed.
            await sweep.settle()
            report.retries = progress.retries
            report.complete = progress.complete
            report.shortfall = progress.shortfall()
            totals = [t for t in progress.totals.values() if t is not None]
            report.total_reported = sum(totals) if totals else None

    async def _brake_refusal(
        self, session: AsyncSession, live: set[str], to_retire: list[str], listing: Listing
    ) -> str | None:
        """Why the brake stops this retirement, or None: source-wide, and for a sweep that
        lists by area (PTV's), per area too, as one area's empty listing is a small share
        of the whole. (An incremental sync's removals are PTV's own word, one by one.)"""
        brake = Brake(self.brake, self.brake_minimum)
        refusal = brake.refusal(len(to_retire), len(live))
        if refusal is not None or listing.by_area is None:
            return refusal
        live_by_area: dict[str, set[str]] = {area: set() for area in listing.by_area}
        for key, areas in (await writes.live_ptv_areas(session)).items():
            for area in listed_areas(areas) & live_by_area.keys():
                live_by_area[area].add(key)
        lost = {area: keys - listing.by_area[area] for area, keys in live_by_area.items()}
        return brake.area_refusal(lost, live_by_area)

    async def _retire(
        self,
        sessions: async_sessionmaker[AsyncSession],
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
        source = sweep.mapping.name
        async with sessions.begin() as session:
            live = await writes.live_keys(session, source)
            gone = listing.removed & live if incremental else live
            to_retire = sorted(gone - sweep.keep)
            refusal = await self._brake_refusal(session, live, to_retire, listing)
            if refusal is not None and not force:
                report.status = "braked"
                report.error = (
                    f"safety brake: {refusal}; nothing was retired. Check the upstream, "
                    "then run `lahella-bridge harvest --force` if the removals are real"
                )
                log.warning("harvest.braked", run_id=report.run_id, would_retire=len(to_retire))
                return
            report.retired = await writes.retire_activities(session, source, to_retire)
            if report.retired:
                await runs.bump_data_version(session)
        if report.complete:
            report.status = "succeeded"
        else:  # an incremental sync that missed something it knows of
            report.status, report.error = "incomplete", report.error or report.shortfall


@dataclass
class _StoredSessions:
    """A source's refreshed cookies in PostgreSQL, where every replica and the CronJob
    find them (saved at once: the refresh may have made the old token useless)."""

    sessions: async_sessionmaker[AsyncSession]
    source: str

    async def load(self) -> StoredSession | None:
        async with self.sessions() as session:
            row = await runs.upstream_session(session, self.source)
        return None if row is None else StoredSession(*row)

    async def save(self, stored: StoredSession) -> None:
        async with self.sessions.begin() as session:
            await runs.keep_upstream_session(
                session, self.source, stored.configured, stored.cookies
            )


async def renormalise_stored(engine: AsyncEngine, now: datetime | None = None) -> tuple[int, int]:
    """Re-map every live stored raw record of every source (after a mapping fix):
    (seen, written). Under the harvest lock: run beside a harvest, it would write back
    the older raw records over the ones the harvest just stored."""
    refusal = "a harvest is running; renormalise again when it has finished"
    async with harvest_lock(engine, refusal):
        return await _renormalise(engine, now)


async def _renormalise(engine: AsyncEngine, now: datetime | None) -> tuple[int, int]:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    context = Context(now=now or datetime.now(UTC))
    seen = written = 0
    for mapping in MAPPINGS.values():
        after = None
        while True:
            async with sessions.begin() as session:
                rows = await writes.raw_activities(session, mapping.name, after, BATCH_SIZE)
                if not rows:
                    break
                batch = []
                for _, raw, digest in rows:
                    try:
                        batch.append((mapping.normalise(raw, context), raw, digest))
                    except UnusableRecord as exc:
                        log.warning("renormalise.unusable", key=mapping.key(raw), reason=str(exc))
                created, updated = await writes.upsert_activities(session, mapping.name, batch)
                if created or updated:
                    await runs.bump_data_version(session)
            seen += len(rows)
            written += created + updated
            after = rows[-1][0]
    async with sessions.begin() as session:
        if await settle_sources(session):
            await runs.bump_data_version(session)
    return seen, written
