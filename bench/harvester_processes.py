"""The harvester's mapping worker processes, seen from /proc: their CPU and, with the
harvester's own, the peak memory of every harvester process together.

The workers are forked by multiprocessing's forkserver, a child of the harvester that
reaps them, so the forkserver's own and its reaped children's CPU is theirs.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

from cpu_time import server_seconds

SAMPLE_EVERY_S = 0.5  # each sample reads /proc, in the measured process


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(stat[1]) == parent:
            found.append(int(entry.name))
    return found


def forkserver() -> int | None:
    """This process's multiprocessing forkserver, once a pool has started it."""
    for pid in _children(os.getpid()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if b"multiprocessing.forkserver" in command:
            return pid
    return None


def mapping_workers_seconds() -> float:
    """CPU of the forkserver and every worker it forked, live or reaped."""
    pid = forkserver()
    return 0.0 if pid is None else server_seconds(pid)


def _peak_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


class HarvesterMemory:
    """While open, samples the sum of the peak RSS of this process, its forkserver and
    the workers alive at that moment; `peak_mb` is the largest sum seen."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> HarvesterMemory:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            pids = [os.getpid()]
            if (server := forkserver()) is not None:
                pids += [server, *_children(server)]
            self.peak_mb = max(self.peak_mb, sum(_peak_kb(pid) for pid in pids) / 1024)
            if self._stop.wait(SAMPLE_EVERY_S):
                return
