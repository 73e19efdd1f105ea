"""kill -9 at known places of a real `lahella-bridge harvest` process, the database
checked where the kill landed, then the next run must reach exactly the state of a clean
run. The fault point (tests/write_fault_point.py) holds the process after a committed
transaction; the sample upstream is served over loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import TABLES
from tests.test_operations import ROOT, cli, free_port, service_env, wait_for
from tests.write_fault_point import HOLD_AFTER, HOLD_FILE

SAMPLE_LIVE = 317  # published records of the default sample upstream


def harvest_env(database_url: str, upstream: str, **extra: str) -> dict[str, str]:
    """The service's environment, one string-hash seed for every process: the mapping
    orders some lists (a life event's reasons, activity types) by set iteration, so two
    processes with different seeds write different documents from the same records.
    Records are mapped in worker processes, so a kill meets them too."""
    extra = {"LAHELLA_BRIDGE_HARVEST_MAPPING_WORKERS": "2", **extra}
    return service_env(database_url, upstream, PYTHONHASHSEED="0", **extra)


@pytest.fixture
def upstream_url() -> Iterator[str]:
    port = free_port()
    process = cli("sample-upstream", "--port", str(port), env={})
    try:
        wait_for(f"http://127.0.0.1:{port}/_sample/health")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def held_harvest(env: dict[str, str], hold_after: str, hold_file: Path) -> subprocess.Popen[bytes]:
    """A harvest that stops at the fault point; returns once it is held there."""
    hold_file.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.write_fault_point", "harvest"],
        cwd=ROOT,
        env={**os.environ, **env, HOLD_AFTER: hold_after, HOLD_FILE: str(hold_file)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not hold_file.exists():
        if process.poll() is not None:
            raise AssertionError(
                f"the harvest ended (exit {process.returncode}) before the fault point "
                f"{hold_after}: {process.stderr.read().decode()[-2000:] if process.stderr else ''}"
            )
        assert time.monotonic() < deadline, f"fault point {hold_after} not reached"
        time.sleep(0.1)
    return process


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`: a harvester's forkserver and mapping workers."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if stat[0] != "Z":
            parents[int(entry.name)] = int(stat[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def kill_9(process: subprocess.Popen[bytes]) -> None:
    """Kill the harvester outright; its mapping workers must not outlive it."""
    helpers = descendants(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert process.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in helpers), "worker processes outlived the harvester"


def harvest(env: dict[str, str]) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "lahella_bridge.cli", "harvest"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        timeout=180,
    )
    assert finished.returncode == 0, finished.stdout.decode()[-2000:]


async def written(db: AsyncEngine) -> tuple[int, list[str]]:
    """Live activities committed so far, and the statuses of the runs."""
    async with db.connect() as connection:
        count = await connection.scalar(
            text("SELECT count(*) FROM activities WHERE deleted_at IS NULL")
        )
        statuses = await connection.scalars(text("SELECT status FROM harvest_runs ORDER BY id"))
        return int(count or 0), list(statuses)


# Everything a reader can be served, without what differs between any two runs (change
# sequence numbers, timestamps, serial ids).
PUBLISHED_STATE = {
    "activities": "SELECT to_jsonb(a) - 'modified' - 'updated_at' - 'created_at' - 'deleted_at'"
    " || jsonb_build_object('live', a.deleted_at IS NULL) FROM activities a"
    " ORDER BY source, upstream_id",
    "occurrences": "SELECT to_jsonb(o) - 'id' FROM occurrences o"
    " ORDER BY activity_id, starts, channel_id, ends",
    "service_channels": "SELECT to_jsonb(c) FROM service_channels c ORDER BY id",
    "organisations": "SELECT to_jsonb(g) - 'modified' - 'updated_at' - 'created_at'"
    " - 'deleted_at' || jsonb_build_object('live', g.deleted_at IS NULL) FROM organisations g"
    " ORDER BY id",
    "quarantine": "SELECT jsonb_build_object('source', q.source, 'key', q.record_key,"
    " 'raw', q.raw, 'reason', q.reason) FROM quarantine q ORDER BY q.source, q.record_key",
}


async def published_state(db: AsyncEngine) -> dict[str, list[Any]]:
    async with db.connect() as connection:
        return {
            table: list(await connection.scalars(text(query)))
            for table, query in PUBLISHED_STATE.items()
        }


async def clean_run_state(db: AsyncEngine, env: dict[str, str]) -> dict[str, list[Any]]:
    """The state one uninterrupted harvest into an empty database reaches."""
    async with db.begin() as connection:
        await connection.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    harvest(env)
    return await published_state(db)


async def test_a_harvest_killed_mid_write_is_finished_by_the_next_run_as_a_clean_run_would(
    db: AsyncEngine, database_url: str, upstream_url: str, tmp_path: Path
) -> None:
    env = harvest_env(database_url, upstream_url)
    killed = held_harvest(env, "activities:1", tmp_path / "held")
    count, statuses = await written(db)
    assert 0 < count < SAMPLE_LIVE and statuses == ["running"]  # some, not all, written
    assert descendants(killed.pid), "the harvest maps in worker processes"
    kill_9(killed)
    harvest(env)
    recovered = await published_state(db)
    assert len([a for a in recovered["activities"] if a["live"]]) == SAMPLE_LIVE
    assert (await written(db))[1] == ["failed", "succeeded"]
    assert recovered == await clean_run_state(db, env)


async def test_kill_9_before_during_and_after_the_writes_then_the_next_run_completes(
    db: AsyncEngine, database_url: str, upstream_url: str, tmp_path: Path
) -> None:
    env = harvest_env(database_url, upstream_url)
    hold = tmp_path / "held"
    # 1. The run has started; not one record is written yet.
    kill_9(held_harvest(env, "harvest_runs:1", hold))
    assert await written(db) == (0, ["running"])
    # 2. The first batch is committed, the rest not.
    kill_9(held_harvest(env, "activities:1", hold))
    count, statuses = await written(db)
    assert 0 < count < SAMPLE_LIVE and statuses == ["failed", "running"]
    # 3. The rest is written too, but the run never finished (nor retired, nor settled).
    kill_9(held_harvest(env, "activities:1", hold))
    assert await written(db) == (SAMPLE_LIVE, ["failed", "failed", "running"])
    async with db.connect() as connection:
        orphans = await connection.scalar(
            text(
                "SELECT count(*) FROM occurrences o LEFT JOIN activities a "
                "ON a.id = o.activity_id WHERE a.id IS NULL"
            )
        )
    assert orphans == 0
    harvest(env)
    recovered = await published_state(db)
    assert (await written(db))[1] == ["failed", "failed", "failed", "succeeded"]
    assert recovered == await clean_run_state(db, env)
