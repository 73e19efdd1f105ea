"""Harvest benchmark: sample upstream on loopback (own process) -> real PostgreSQL.

Prints one JSON document. For each size it measures, in a fresh process and database:
fetch-only paging throughput (the baseline, same upstream, same run), fetch + map (each
record hashed, validated and normalised as a new one, nothing stored: the ceiling without
a database), the first full harvest, and a no-change rerun; throughput is also given as a
ratio to the baseline. The first run's peak memory is that of every harvester process
together (the harvester and its mapping workers, `LAHELLA_BRIDGE_HARVEST_MAPPING_WORKERS`).
Each phase also reports the CPU milliseconds a record cost in each process (the sample
upstream, the harvester, its mapping worker processes, PostgreSQL) and the rate those
costs allow on this machine's cores (`cpu_bound_records_per_s`): the upstream and the
database share the cores.

    uv run python bench/harvest.py --sizes 1000,10000,100000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from api import free_port, postmaster
from cpu_time import CpuMeter, process_seconds, server_seconds
from harvester_processes import HarvesterMemory, mapping_workers_seconds
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]


def start_upstream(count: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lahella_bridge.cli",
            "sample-upstream",
            "--count",
            str(count),
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/_sample/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("sample upstream did not start")


async def fresh_database(server_url: str, name: str) -> str:
    from lahella_bridge.db import create_engine, upgrade_database

    admin = create_engine(server_url, pool_size=1)
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await connection.execute(text(f"CREATE DATABASE {name}"))
    await admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url, pool_size=1)
    await upgrade_database(engine)
    await engine.dispose()
    return url


async def child(count: int, server_url: str, page_size: int) -> dict[str, Any]:
    from lahella_bridge.cli import tune_garbage_collection
    from lahella_bridge.config import load_settings
    from lahella_bridge.db import create_engine
    from lahella_bridge.harvest import Harvester
    from lahella_bridge.normalise.outcome import Context
    from lahella_bridge.sample.upstream import SAMPLE_COOKIES
    from lahella_bridge.sources.lahella import LahellaSource
    from lahella_bridge.upstream.client import ClientSettings, LahellaClient

    process, upstream = start_upstream(count)
    tune_garbage_collection()  # as the `harvest` and `serve` commands do
    context = Context(now=datetime.now(UTC))
    try:
        client = ClientSettings(base_url=upstream, cookies=SAMPLE_COOKIES, page_size=page_size)
        cpu = CpuMeter(
            {
                "upstream": partial(process_seconds, process.pid),
                "harvester": time.process_time,
                "mapping_workers": mapping_workers_seconds,
            }
        )
        started = time.perf_counter()
        async with LahellaClient(client) as lahella:
            fetched = sum([1 async for _ in lahella.activities()])
        fetch_s = time.perf_counter() - started
        fetch_cpu = cpu.per_unit(fetched, "record")
        started = time.perf_counter()
        async with LahellaClient(client) as lahella:
            mapped = sum([map_record(raw, context) async for raw in lahella.activities()])
        map_s = time.perf_counter() - started
        map_cpu = cpu.per_unit(mapped, "record")
        url = await fresh_database(server_url, f"bench_harvest_{count}")
        engine = create_engine(url, pool_size=2)
        if (server := await postmaster(url)) is not None:
            cpu.add("postgres", partial(server_seconds, server))
        cpu.restart()  # not the database's creation and migration
        workers = load_settings().harvest_mapping_workers
        harvester = Harvester(engine, [LahellaSource(client)], mapping_workers=workers)
        with HarvesterMemory() as memory:
            first = await harvester.run()
        first_cpu = cpu.per_unit(first.fetched, "record")
        rss_first = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        second = await harvester.run()
        second_cpu = cpu.per_unit(second.fetched, "record")
        async with engine.connect() as connection:
            occurrences = await connection.scalar(text("SELECT count(*) FROM occurrences"))
        await engine.dispose()
    finally:
        process.terminate()
        process.wait(10)
    writes_second = second.created + second.updated + second.retired
    return {
        "records": count,
        "fetch_only_s": round(fetch_s, 2),
        "fetch_only_records_per_s": round(fetched / fetch_s),
        "fetch_and_map_records_per_s": round(mapped / map_s),
        "first_run_s": round(first.seconds, 2),
        "first_run_records_per_s": round(first.fetched / first.seconds),
        "first_run_vs_fetch_only": round(fetch_s / first.seconds, 3),
        "first_run_status": first.status,
        "created": first.created,
        "occurrences": occurrences,
        "rerun_s": round(second.seconds, 2),
        "rerun_writes": writes_second,
        "rerun_vs_first_run": round(second.seconds / first.seconds, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_after_first_run_mb": round(rss_first, 1),
        "mapping_workers": workers,
        "first_run_peak_rss_all_harvester_processes_mb": round(memory.peak_mb, 1),
        "cpu_ms_per_record": {
            "fetch_only": fetch_cpu,
            "fetch_and_map": map_cpu,
            "first_run": first_cpu,
            "rerun": second_cpu,
        },
    }


def map_record(raw: Any, context: Any) -> int:
    """What the harvester does to a new record before writing it: hash, validate, normalise."""
    from lahella_bridge.normalise.lahella import normalise
    from lahella_bridge.normalise.outcome import UnusableRecord
    from lahella_bridge.store.writes import content_hash

    content_hash(raw)
    with contextlib.suppress(UnusableRecord):
        normalise(raw, context)
    return 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--child", type=int)
    parser.add_argument("--server-url")
    args = parser.parse_args()
    if args.child:
        result = asyncio.run(child(args.child, args.server_url, args.page_size))
        print(json.dumps(result))
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    configured = os.environ.get("DATABASE_URL")
    from lahella_bridge.db import asyncpg_url
    from lahella_bridge.embedded_db import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        if configured:
            results = [run_child(size, asyncpg_url(configured), args.page_size) for size in sizes]
        else:
            with embedded_postgres(Path(tmp)) as url:
                results = [run_child(size, asyncpg_url(url), args.page_size) for size in sizes]
    by_size = {r["records"]: r for r in results}
    summary: dict[str, Any] = {"benchmark": "harvest", "machine": machine(), "runs": results}
    if 10000 in by_size and 100000 in by_size:
        summary["rss_growth_10k_to_100k"] = round(
            by_size[100000]["peak_rss_mb"] / by_size[10000]["peak_rss_mb"], 3
        )
        all_processes = "first_run_peak_rss_all_harvester_processes_mb"
        summary["all_processes_rss_growth_10k_to_100k"] = round(
            by_size[100000][all_processes] / by_size[10000][all_processes], 3
        )
    print(json.dumps(summary, indent=2))


def run_child(size: int, server_url: str, page_size: int) -> dict[str, Any]:
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            str(size),
            "--server-url",
            server_url,
            "--page-size",
            str(page_size),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0]}


if __name__ == "__main__":
    main()
