"""The write side of one run: each raw record keyed, mapped off the event loop, kept,
quarantined or batched, and batches committed while the next one is mapped.

`harvest` drives the upstreams and retirement; this module is what a record meets once
it has arrived (keyed and normalised by its `Source`), and `renormalise` uses the same
settling step.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lahella_bridge.normalise.outcome import Context, NormalisedActivity, UnusableRecord
from lahella_bridge.sources.base import Source
from lahella_bridge.store import runs, writes
from lahella_bridge.store.quarantine import quarantine_record, release_from_quarantine
from lahella_bridge.upstream.schemas import Publication

# Its events are the harvest's (`harvest.quarantined`): one logger for the run's story.
log = structlog.get_logger("lahella_bridge.harvest")

# Records per transaction. Two batches are in memory at once (one being written while the
# next is mapped), each about 25 MB of raw and normalised records.
BATCH_SIZE = 250


@dataclass
class HarvestReport:
    source: str
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
    shortfall: str | None = None  # why the sweep cannot prove it saw every record
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


@dataclass
class Sweep:
    """The state of one pass over an upstream listing."""

    report: HarvestReport
    context: Context
    open_db: async_sessionmaker[AsyncSession]
    source: Source
    fingerprints: dict[str, writes.Fingerprint] | None = None
    keep: set[str] = field(default_factory=set)  # keys that must not be retired
    batch: list[tuple[NormalisedActivity, Any, str]] = field(default_factory=list)
    quarantine: list[tuple[str, Any, str]] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    writing: asyncio.Task[None] | None = None

    async def take(self, raw: Any) -> None:
        report, source = self.report, self.source
        report.fetched += 1
        if self.fingerprints is None:
            async with self.open_db() as db:
                self.fingerprints = await writes.fingerprints(db, source.name)
        key = source.key(raw)
        digest = writes.content_hash(raw)
        known = self.fingerprints.get(key)
        unchanged = known is not None and known.content_hash == digest and known.live
        if unchanged and source.still_published(raw, self.context.now):
            report.unchanged += 1
            self.keep.add(key)
            return
        try:
            # CPU work off the event loop, so a harvest inside `serve` does not stall requests.
            item = await asyncio.to_thread(source.normalise, raw, self.context)
        except UnusableRecord as exc:
            report.quarantined += 1
            # A record that used to be good keeps its last good version until fixed.
            self.keep.add(key)
            self.quarantine.append((key, raw, str(exc)))
            log.warning("harvest.quarantined", source=source.name, key=key, reason=str(exc))
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
        if unchanged:
            report.unchanged += 1
            return
        self.batch.append((item, raw, digest))
        if len(self.batch) >= BATCH_SIZE:
            await self.flush()

    async def flush(self) -> None:
        """Hand the batch to a writer task and go on normalising the next one meanwhile:
        PostgreSQL works on one batch while Python maps the next (one batch in flight)."""
        await self.settle()
        if not (self.batch or self.quarantine or self.released):
            return
        batch, quarantine, released = self.batch, self.quarantine, self.released
        self.batch, self.quarantine, self.released = [], [], []
        self.writing = asyncio.create_task(self._write(batch, quarantine, released))

    async def settle(self) -> None:
        """Wait until the batch in flight is committed; its failure is the run's."""
        if self.writing is not None:
            writing, self.writing = self.writing, None
            await writing

    async def _write(
        self,
        batch: list[tuple[NormalisedActivity, Any, str]],
        quarantine: list[tuple[str, Any, str]],
        released: list[str],
    ) -> None:
        """Commit one batch: a crash later leaves every committed record consistent."""
        source = self.source.name
        async with self.open_db.begin() as db:
            created, updated = await writes.upsert_activities(db, source, batch)
            for key, raw, reason in quarantine:
                await quarantine_record(db, source, self.report.run_id, key, raw, reason)
            await release_from_quarantine(db, source, released)
            if created or updated:
                await writes.hide_duplicates(db)
                await runs.bump_data_version(db)
        self.report.created += created
        self.report.updated += updated
        self.report.unchanged += len(batch) - created - updated


async def settle_sources(db: AsyncSession) -> int:
    """After a run: one record per activity across sources, winners supplemented from
    their twins, organisations published exactly while they have activities."""
    return (
        await writes.hide_duplicates(db)
        + await writes.supplement_winners(db)
        + await writes.sync_organisations(db)
    )
