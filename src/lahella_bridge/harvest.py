"""One harvest run: pages -> raw rows -> normalise -> upsert -> retire unseen -> run stats.

Only this module talks to the upstream. A run that did not see the whole listing
retires nothing, and the safety brake stops a sweep from retiring too much at once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lahella_bridge import metrics, repository
from lahella_bridge.config import Settings
from lahella_bridge.errors import Conflict
from lahella_bridge.normalise import Context, NormalisedActivity, UnusableRecord, normalise
from lahella_bridge.upstream.client import ClientSettings, LahellaClient, UpstreamError
from lahella_bridge.upstream.schemas import Publication, raw_publication_state

log = structlog.get_logger(__name__)

SOURCE = "lahella"
BATCH_SIZE = 500


class HarvestAlreadyRunning(Conflict):
    """Another process holds the harvest lock."""


@dataclass
class HarvestReport:
    run_id: int = 0
    status: str = "running"
    complete: bool = False
    total_reported: int | None = None
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    quarantined: int = 0
    unpublished: int = 0
    retries: int = 0
    error: str | None = None
    seconds: float = 0.0
    unmapped: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)

    def counts(self) -> dict[str, Any]:
        return {
            "complete": self.complete,
            "total_reported": self.total_reported,
            "fetched": self.fetched,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "retired": self.retired,
            "quarantined": self.quarantined,
            "unpublished": self.unpublished,
            "retries": self.retries,
            "error": self.error,
        }


def client_settings(settings: Settings) -> ClientSettings:
    return ClientSettings(
        base_url=settings.upstream_url,
        cookies=settings.upstream_cookies.get_secret_value() if settings.upstream_cookies else None,
        groups=settings.upstream_groups,
        page_size=settings.upstream_page_size,
        extra_headers=settings.upstream_headers,
        timeout_s=settings.upstream_timeout_s,
        max_retries=settings.upstream_max_retries,
        cookie_store=settings.cookie_store,
    )


@dataclass
class Harvester:
    """Everything a run needs; `transport` lets tests hand the real client a fake network."""

    engine: AsyncEngine
    client: ClientSettings
    brake: float = 0.20
    brake_minimum: int = 5
    transport: httpx.AsyncBaseTransport | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    on_progress: Callable[[HarvestReport], None] | None = None

    async def run(self, *, force: bool = False, mode: str = "full") -> HarvestReport:
        """One full sweep under the cluster-wide lock; raises if another one runs."""
        async with self.engine.connect() as connection:
            # Autocommit: the lock lives in the session, with no transaction held open for
            # the whole run (which would hold back vacuum).
            lock_connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            if not await repository.try_harvest_lock(lock_connection):
                raise HarvestAlreadyRunning("a harvest is already running")
            try:
                return await self._locked_run(force=force, mode=mode)
            finally:
                await repository.release_harvest_lock(lock_connection)

    async def _locked_run(self, *, force: bool, mode: str) -> HarvestReport:
        sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        started = time.perf_counter()
        now = self.clock()
        report = HarvestReport()
        async with sessions.begin() as session:
            await repository.fail_stale_runs(session)
            report.run_id = await repository.start_run(session, SOURCE, mode, now)
        log.info("harvest.start", run_id=report.run_id, mode=mode, upstream=self.client.base_url)
        sweep = _Sweep(report, Context(now=now), sessions)
        try:
            async with LahellaClient(self.client, transport=self.transport) as client:
                try:
                    async for raw in client.activities():
                        await sweep.take(raw)
                        if self.on_progress and report.fetched % 100 == 0:
                            self.on_progress(report)
                    await sweep.flush()
                finally:
                    report.retries = client.progress.retries
                    report.complete = client.progress.complete
                    totals = [t for t in client.progress.totals.values() if t is not None]
                    report.total_reported = sum(totals) if totals else None
            await self._retire(sessions, sweep, report, force=force)
        except (UpstreamError, httpx.HTTPError) as exc:
            report.status, report.error = "failed", str(exc) or type(exc).__name__
            report.complete = False
        except Exception as exc:
            report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"
            report.complete = False
            log.exception("harvest.crashed", run_id=report.run_id)
        report.seconds = time.perf_counter() - started
        async with sessions.begin() as session:
            await repository.finish_run(
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
        metrics.observe_harvest(report.status, report.counts(), report.retries)
        log.info(
            "harvest.finish",
            run_id=report.run_id,
            status=report.status,
            seconds=round(report.seconds, 2),
            **report.counts(),
        )
        return report

    async def _retire(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sweep: _Sweep,
        report: HarvestReport,
        *,
        force: bool,
    ) -> None:
        if not report.complete:
            report.status = "incomplete"
            report.error = report.error or (
                "the listing ended before `total` items were seen; nothing was retired"
            )
            log.warning(
                "harvest.incomplete",
                run_id=report.run_id,
                fetched=report.fetched,
                total=report.total_reported,
            )
            return
        async with sessions.begin() as session:
            live = await repository.live_keys(session, SOURCE)
            to_retire = sorted(live - sweep.keep)
            limit = max(self.brake_minimum, int(self.brake * len(live)))
            if len(to_retire) > limit and not force:
                report.status = "braked"
                report.error = (
                    f"safety brake: the sweep would retire {len(to_retire)} of {len(live)} live "
                    f"activities (limit {limit}); nothing was retired. Check the upstream, then "
                    "run `lahella-bridge harvest --force` if the removals are real"
                )
                log.warning("harvest.braked", run_id=report.run_id, would_retire=len(to_retire))
                return
            report.retired = await repository.retire_activities(session, SOURCE, to_retire)
            await repository.retire_orphan_organisations(session, SOURCE)
            if report.retired:
                await repository.bump_data_version(session)
        report.status = "succeeded"


@dataclass
class _Sweep:
    """The state of one pass over the upstream listing."""

    report: HarvestReport
    context: Context
    sessions: async_sessionmaker[AsyncSession]
    fingerprints: dict[str, repository.Fingerprint] | None = None
    keep: set[str] = field(default_factory=set)  # keys that must not be retired
    batch: list[tuple[NormalisedActivity, Any, str]] = field(default_factory=list)
    quarantine: list[tuple[Any, str]] = field(default_factory=list)
    released: list[str] = field(default_factory=list)

    async def take(self, raw: Any) -> None:
        report = self.report
        report.fetched += 1
        if self.fingerprints is None:
            async with self.sessions() as session:
                self.fingerprints = await repository.fingerprints(session, SOURCE)
        key = repository.quarantine_key(raw)
        digest = repository.content_hash(raw)
        known = self.fingerprints.get(key)
        if known is not None and known.content_hash == digest and known.live:
            state = raw_publication_state(raw, self.context.now)
            if state is Publication.PUBLISHED:
                report.unchanged += 1
                self.keep.add(key)
                return
        try:
            # CPU work off the event loop, so a harvest inside `serve` does not stall requests.
            item = await asyncio.to_thread(normalise, raw, self.context)
        except UnusableRecord as exc:
            report.quarantined += 1
            # A record that used to be good keeps its last good version until fixed.
            self.keep.add(key)
            self.quarantine.append((raw, str(exc)))
            log.warning("harvest.quarantined", key=key, reason=str(exc))
            return
        self.released.append(key)
        for field_name, value in item.unmapped:
            report.unmapped[f"{field_name}={value}"] += 1
        for problem in item.problems:
            report.problems[problem] += 1
        if item.publication is not Publication.PUBLISHED:
            report.unpublished += 1
            return
        self.keep.add(key)
        if known is not None and known.content_hash == digest and known.live:
            report.unchanged += 1
            return
        self.batch.append((item, raw, digest))
        if len(self.batch) >= BATCH_SIZE:
            await self.flush()

    async def flush(self) -> None:
        """Commit one batch: a crash later leaves every committed record consistent."""
        if not (self.batch or self.quarantine or self.released):
            return
        async with self.sessions.begin() as session:
            created, updated = await repository.upsert_activities(session, SOURCE, self.batch)
            for raw, reason in self.quarantine:
                await repository.quarantine(session, SOURCE, self.report.run_id, raw, reason)
            await repository.release_from_quarantine(session, SOURCE, self.released)
            if created or updated:
                await repository.bump_data_version(session)
        self.report.created += created
        self.report.updated += updated
        self.report.unchanged += len(self.batch) - created - updated
        self.batch, self.quarantine, self.released = [], [], []


async def renormalise_stored(engine: AsyncEngine, now: datetime | None = None) -> tuple[int, int]:
    """Re-map every live stored raw record (after a taxonomy fix): (seen, written)."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    context = Context(now=now or datetime.now(UTC))
    seen = written = 0
    after = None
    while True:
        async with sessions.begin() as session:
            rows = await repository.raw_activities(session, SOURCE, after, BATCH_SIZE)
            if not rows:
                return seen, written
            batch = []
            for _, raw, digest in rows:
                try:
                    batch.append((normalise(raw, context), raw, digest))
                except UnusableRecord as exc:
                    log.warning(
                        "renormalise.unusable", key=repository.quarantine_key(raw), reason=str(exc)
                    )
            created, updated = await repository.upsert_activities(session, SOURCE, batch)
            if created or updated:
                await repository.bump_data_version(session)
        seen += len(rows)
        written += created + updated
        after = rows[-1][0]
