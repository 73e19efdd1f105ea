"""What the harvest asks of a source, and nothing more: `Harvester` holds a list of
`Source`s and has no branch on which one it runs.

A new source implements `Source` (a module of its own here), is listed in
`harvest.every_source`, and has its row in the `sources` table (a migration).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from lahella_bridge.normalise.outcome import Normaliser
from lahella_bridge.upstream.client import LoginStore
from lahella_bridge.upstream.completeness import SweepProgress


@dataclass
class Listing:
    """What a source's listing said besides its records: ids it says are gone
    (incremental), and for PTV's full sweep the ids each area's listing named."""

    removed: set[str] = field(default_factory=set)
    by_area: dict[str, set[str]] | None = None


@dataclass
class Fetch:
    """One run's listing as it is read: the raw records, the progress the completeness
    rule reads, and what the listing said besides its records (asked once all are read)."""

    records: AsyncIterator[Any]
    progress: SweepProgress
    listing: Callable[[], Listing] = Listing


@dataclass(frozen=True)
class PastRuns:
    """When a source's last successful runs started: where an incremental sync may begin."""

    last_full: datetime | None
    last_any: datetime | None


class Source(Protocol):
    """One upstream: how its records are listed, keyed, normalised and judged complete."""

    @property
    def name(self) -> str:
        """Its id in the `sources` table and on every row it brings."""
        ...

    @property
    def enabled(self) -> bool:
        """Switched on by the settings: a source switched off is not harvested, but the
        records it stored earlier are still renormalised."""
        ...

    def key(self, raw: Any) -> str:
        """A raw record's upstream id (a digest when it has none)."""
        ...

    @property
    def normaliser(self) -> Normaliser:
        """Its mapping to the stored record, raising `UnusableRecord` for one to
        quarantine: a module-level function, as worker processes are handed it."""
        ...

    def still_published(self, raw: Any, now: datetime) -> bool:
        """Whether an unchanged raw record is still public at `now` (its stored version
        may need rewriting when a publication window closed in between)."""
        ...

    def incremental_since(self, past: PastRuns, now: datetime) -> datetime | None:
        """Where an incremental sync starts, or None for a full sweep (one that retires
        what it did not see, when it saw the whole listing)."""
        ...

    def fetch(
        self, since: datetime | None, now: datetime, cookie_store: LoginStore
    ) -> AbstractAsyncContextManager[Fetch]:
        """The listing: in full when `since` is None, else what changed since then. The
        cookie store keeps a refreshed login (in PostgreSQL) for a source that has one."""
        ...

    async def live_by_area(self, db: AsyncSession, areas: Collection[str]) -> dict[str, set[str]]:
        """The live keys each area's listing should name: the per-area brake's input,
        asked only when a full sweep's listing came by area (`Listing.by_area`)."""
        ...
