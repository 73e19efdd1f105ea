"""The write side of one run: each raw record keyed, mapped off the event loop (chunks
of records in a thread or in worker processes, `mapping_pool`), kept, quarantined or
batched in the order it arrived, and batches committed while the next one is mapped.

`harvest` drives the upstreams and retirement; this module is what a record meets once
it has arrived (keyed and normalised by its `Source`), and `renormalise` uses the same
settling step.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lahella_bridge.mapping_pool import CHUNK_SIZE, Mapped, Mapper
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


@dataclass(frozen=True)
class _Arrival:
    """A new or changed record on its way to the mapper."""

    key: str
    raw: Any
    digest: str
    unchanged: bool  # same raw record, but its publication window moved


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
    mapper: Mapper = field(default_factory=Mapper)
    arrived: list[_Arrival] = field(default_factory=list)  # waiting for a chunk
    mapping: deque[tuple[list[_Arrival], asyncio.Future[list[Mapped]]]] = field(
        default_factory=deque
    )

    async def take(self, raw: Any) -> None:
        """Key and hash one arriving record; a new or changed one waits for its chunk to
        be mapped (at most `mapper.chunks_in_flight` chunks are out at once)."""
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
        self.arrived.append(_Arrival(key, raw, digest, unchanged))
        if len(self.arrived) >= CHUNK_SIZE:
            await self._hand_over()

    async def _hand_over(self) -> None:
        arrived, self.arrived = self.arrived, []
        raws = [arrival.raw for arrival in arrived]
        # CPU work off the event loop, so a harvest inside `serve` does not stall requests.
        mapping = self.mapper.map(self.source.normaliser, raws, self.context)
        self.mapping.append((arrived, asyncio.ensure_future(mapping)))
        while len(self.mapping) > self.mapper.chunks_in_flight:
            await self._receive()

    async def _receive(self) -> None:
        """The oldest chunk's records, settled in the order they arrived."""
        arrived, mapping = self.mapping.popleft()
        for arrival, mapped in zip(arrived, await mapping, strict=True):
            await self._settle_record(arrival, mapped)

    async def _settle_record(self, arrival: _Arrival, mapped: Mapped) -> None:
        report, key = self.report, arrival.key
        if isinstance(mapped, UnusableRecord):
            report.quarantined += 1
            # A record that used to be good keeps its last good version until fixed.
            self.keep.add(key)
            self.quarantine.append((key, arrival.raw, str(mapped)))
            log.warning("harvest.quarantined", source=self.source.name, key=key, reason=str(mapped))
            return
        self.released.append(key)
        for field_name, value in mapped.unmapped:
            report.unmapped[f"{field_name}={value}"] += 1
        for problem in mapped.problems:
            report.problems[problem] += 1
        if mapped.publication is not Publication.PUBLISHED:
            report.unpublished += 1
            return
        self.keep.add(key)
        if arrival.unchanged:
            report.unchanged += 1
            return
        self.batch.append((mapped, arrival.raw, arrival.digest))
        if len(self.batch) >= BATCH_SIZE:
            await self.flush()

    async def finish(self) -> None:
        """The listing has ended: map what is left and hand over the last batch."""
        if self.arrived:
            await self._hand_over()
        while self.mapping:
            await self._receive()
        await self.flush()

    def abandon(self) -> None:
        """The listing failed: what is still being mapped is not written."""
        for _, mapping in self.mapping:
            mapping.cancel()
        self.mapping.clear()
        self.arrived.clear()

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
