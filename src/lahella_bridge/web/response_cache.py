"""The response cache: an LRU of GET responses keyed by the data version, bounded in bytes,
that keeps the expensive responses over the cheap ones; and the probe of that version.

The data changes only when a harvest commits a batch (bumping `data_version`), so a
cached body stays right until the version moves; entries also expire after a minute so
"from now" windows do not go stale.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

# A response that took this long to compute (a town's calendar: seconds) and was asked for
# again is evicted only after the cheap ones, while such responses fill at most half of the
# cache. Asked for again: under overload every one-off page takes this long (queueing), and
# such pages pinned half the cache while the views the calendar repeats were evicted.
EXPENSIVE_S = 0.5


@dataclass(frozen=True)
class Dressed:
    """A response's final start: status and headers, with the index of its request id (the
    one header that differs from one request to the next)."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    request_id_at: int


@dataclass
class CachedResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes
    stored_at: float
    cost_s: float = 0.0  # how long it took to compute
    reused: bool = False  # served from the cache at least once
    fresh_s: float | None = None  # the response's own Cache-Control max-age
    route: str = "unmatched"  # the route template that computed it (the metrics' label)
    # The final headers the whole stack sent with this entry, per kind of request (see
    # `web.cache_front`), for the outermost layer to replay without passing the others.
    dressed: dict[tuple[object, ...], Dressed] = field(default_factory=dict)

    @property
    def expensive(self) -> bool:
        return self.cost_s >= EXPENSIVE_S and self.reused


class ResponseCache:
    """An LRU of successful GET responses, bounded in entries and in bytes, that keeps
    expensive responses over cheap ones: many one-off list pages must not push out the
    calendar feed that every subscriber asks for and that takes seconds to rebuild."""

    def __init__(
        self,
        max_entries: int = 2048,
        max_bytes: int = 64 * 2**20,
        max_entry_bytes: int = 8 * 2**20,
        ttl_s: float = 60.0,
    ) -> None:
        self.max_entries, self.max_bytes, self.ttl_s = max_entries, max_bytes, ttl_s
        self.max_entry_bytes = max_entry_bytes
        self.size = 0
        self.expensive_size = 0
        self._entries: OrderedDict[tuple[Any, ...], CachedResponse] = OrderedDict()

    def get(self, key: tuple[Any, ...], *, stale_ok: bool = False) -> CachedResponse | None:
        """A fresh entry; with `stale_ok` also one past its freshness. The key holds the data
        version, so an entry goes out of date only for windows relative to now: it is fresh
        as long as its own max-age lets any HTTP cache keep it (`ttl_s` without one). With
        one TTL for all, the 420 views of a calendar were all recomputed every minute."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        fresh_s = self.ttl_s if entry.fresh_s is None else entry.fresh_s
        if not stale_ok and time.monotonic() - entry.stored_at > fresh_s:
            return None
        self._entries.move_to_end(key)
        if not entry.reused:
            entry.reused = True
            if entry.expensive:
                self.expensive_size += len(entry.body)
        return entry

    def peek(self, key: tuple[Any, ...]) -> CachedResponse | None:
        """The entry, fresh or not, without counting it as asked for or as recently used."""
        return self._entries.get(key)

    def put(self, key: tuple[Any, ...], entry: CachedResponse) -> None:
        if len(entry.body) > self.max_entry_bytes:
            return  # a huge body (a full calendar, say) would evict everything else
        if (previous := self._entries.get(key)) is not None:
            entry.reused = previous.reused  # a recomputed calendar is still asked for
        self._remove(key)
        self._entries[key] = entry
        self.size += len(entry.body)
        if entry.expensive:
            self.expensive_size += len(entry.body)
        while len(self._entries) > self.max_entries or self.size > self.max_bytes:
            self._remove(self._victim())

    def _victim(self) -> tuple[Any, ...]:
        """The least recently used cheap entry; the least recently used expensive one
        while expensive entries fill more than half the cache."""
        over_half = self.expensive_size > self.max_bytes // 2
        return next(
            (k for k, e in self._entries.items() if e.expensive == over_half),
            next(iter(self._entries)),
        )

    def _remove(self, key: tuple[Any, ...]) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.size -= len(entry.body)
            if entry.expensive:
                self.expensive_size -= len(entry.body)


class VersionProbe:
    """The current data version, read at most once a second (None: database down).

    One read at a time: requests arriving while it runs wait for that read instead of each
    starting its own (32 busy connections queued 32 identical queries once a second, which
    was most of a cached page's p99).
    """

    def __init__(self, read: Callable[[], Awaitable[int]], every_s: float = 1.0) -> None:
        self._read, self._every_s = read, every_s
        self._value: int | None = None
        self._at = 0.0
        self._reading: asyncio.Task[None] | None = None

    def known(self) -> int | None:
        """The version if read within the last `every_s`, else None (without reading)."""
        if time.monotonic() - self._at > self._every_s:
            return None
        return self._value

    async def current(self) -> int | None:
        if time.monotonic() - self._at > self._every_s:
            if self._reading is None:
                self._reading = asyncio.create_task(self._refresh())
            # Shielded: a caller that goes away does not cancel the others' read.
            await asyncio.shield(self._reading)
        return self._value

    async def _refresh(self) -> None:
        try:
            self._value = await self._read()
        except Exception:
            self._value = None
        finally:
            self._at = time.monotonic()
            self._reading = None
