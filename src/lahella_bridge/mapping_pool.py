"""Where a sweep's records are mapped: in a worker thread of this process, or in worker
processes, so mapping gets cores of its own while fetching and writing stay on the
event loop (a thread shares one core with the loop: the GIL).

Records travel in chunks (one round trip per chunk, not per record) and a bounded number
of chunks is in flight, so memory stays flat however long the listing is. The workers
are forked from a forkserver that has the mapping and the main module imported once, so
a new worker neither re-imports them nor inherits the harvester's heap.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import threading
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

from lahella_bridge.normalise.outcome import (
    Context,
    NormalisedActivity,
    Normaliser,
    UnusableRecord,
)

# Records per round trip to a worker: large enough that the round trip's cost is small
# beside mapping them, small enough that the pipeline fills at once.
CHUNK_SIZE = 25
# Chunks in flight per worker: one being mapped, one queued, so a worker never waits
# for the event loop to hand it the next one.
CHUNKS_PER_WORKER = 2
# Imported by the forkserver once; its children start with them (and `__main__`, which
# multiprocessing would otherwise re-import in every child).
_PRELOAD = ["__main__", "lahella_bridge.normalise.lahella", "lahella_bridge.normalise.ptv_source"]

Mapped = NormalisedActivity | UnusableRecord


def map_records(normaliser: Normaliser, raws: Sequence[Any], context: Context) -> list[Mapped]:
    """Each record's stored form, or why it is unusable: one bad record does not stop
    the others of its chunk."""
    mapped: list[Mapped] = []
    for raw in raws:
        try:
            mapped.append(normaliser(raw, context))
        except UnusableRecord as exc:
            mapped.append(exc)
    return mapped


def _start_worker() -> None:
    """A worker builds as many short-lived objects as the harvester: the same collector
    settings (see `cli.tune_garbage_collection`). It ends with its harvester, even one
    killed outright: the pool would otherwise keep it (and the forkserver) waiting."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    harvester = multiprocessing.parent_process()
    if harvester is not None:
        threading.Thread(target=_end_with, args=(harvester,), daemon=True).start()


def _end_with(harvester: BaseProcess) -> None:
    harvester.join()
    os._exit(1)


@dataclass
class Mapper:
    """Maps chunks of records; `chunks_in_flight` is how many a sweep may hand it before
    it waits for the oldest."""

    pool: ProcessPoolExecutor | None = None
    chunks_in_flight: int = 1

    async def map(
        self, normaliser: Normaliser, raws: Sequence[Any], context: Context
    ) -> list[Mapped]:
        if self.pool is None:
            return await asyncio.to_thread(map_records, normaliser, raws, context)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, map_records, normaliser, raws, context)


@asynccontextmanager
async def open_mapper(workers: int) -> AsyncIterator[Mapper]:
    """`workers` processes for one run; 0 or 1 maps in a thread of this process."""
    if workers <= 1:
        yield Mapper()
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker)
    try:
        yield Mapper(pool, workers * CHUNKS_PER_WORKER)
    finally:
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
