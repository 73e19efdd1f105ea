"""CPU seconds spent by each party of a benchmark (Linux /proc).

The benchmarks run the service, PostgreSQL, the load generator and the sample upstream on
one machine's cores. Wall-clock rates alone cannot tell a slow component from a saturated
machine; CPU time per request or record, per process, can: `cores / cpu_per_unit` is the
most any design with those costs could reach on this machine.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    # Fields after the command name, which may itself contain spaces or parentheses.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _command(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def process_seconds(pid: int) -> float:
    """User + system CPU of a running process, all its threads."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS


def server_seconds(parent: int) -> float:
    """A forking server's CPU: the parent, its exited (reaped) children, its live children.

    PostgreSQL's postmaster forks a backend per connection and reaps them, so this covers
    every backend, autovacuum worker and background writer of the server.
    """
    fields = _stat(parent)
    total = sum(int(value) for value in fields[11:15]) / TICKS
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            child = _stat(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(child[1]) == parent:
            total += (int(child[11]) + int(child[12])) / TICKS
    return total


def postmaster_of(backend_pid: int) -> int | None:
    """The PostgreSQL server process of a backend (`SELECT pg_backend_pid()`), or None when
    the server is not on this machine."""
    try:
        parent = int(_stat(backend_pid)[1])
        local = _command(backend_pid).startswith("postgres") and _command(parent) == "postgres"
    except (FileNotFoundError, ProcessLookupError):
        return None
    return parent if local else None


def reaped_children_seconds() -> float:
    """CPU of this process's finished child processes (e.g. a wrk run)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """CPU seconds of named processes, per unit of work (a request, a record) since the last
    reading."""

    def __init__(self, processes: dict[str, Callable[[], float]]) -> None:
        self.processes = processes
        self.restart()

    def add(self, name: str, seconds: Callable[[], float]) -> None:
        """Measure one more process (counted from the next `restart`)."""
        self.processes[name] = seconds

    def restart(self) -> None:
        """Count from now."""
        self.last = self._read()

    def _read(self) -> dict[str, float]:
        return {name: seconds() for name, seconds in self.processes.items()}

    def per_unit(self, units: int, unit: str) -> dict[str, float]:
        """Milliseconds of CPU a unit cost in each process, their total, and the rate the
        total allows on this machine's cores (`cpu_bound_<unit>s_per_s`)."""
        now = self._read()
        spent = {name: (now[name] - self.last[name]) / max(units, 1) for name in now}
        self.last = now
        total = sum(spent.values())
        return {
            **{name: round(1000 * value, 3) for name, value in spent.items()},
            "total": round(1000 * total, 3),
            f"cpu_bound_{unit}s_per_s": round((os.cpu_count() or 1) / total) if total else 0,
        }
