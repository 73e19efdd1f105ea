"""Shared fixtures: one real PostgreSQL per test session (embedded, or the server named by
the test-only LAHELLA_BRIDGE_TEST_DATABASE_URL), a database of the run's own migrated once;
tables emptied between tests; the sample upstream over real httpx."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge.app import create_app
from lahella_bridge.config import Settings
from lahella_bridge.db import asyncpg_url, create_engine, upgrade_database
from lahella_bridge.harvest import Harvester
from lahella_bridge.sample.data import default_anchor, generate, now_for
from lahella_bridge.sample.ptv_upstream import SamplePtvUpstream
from lahella_bridge.sample.upstream import SAMPLE_COOKIES, SampleUpstream
from lahella_bridge.sources.base import Source
from lahella_bridge.sources.lahella import LahellaSource
from lahella_bridge.sources.ptv import PtvSource
from lahella_bridge.taxonomy import taxonomy
from lahella_bridge.upstream.client import ClientSettings
from lahella_bridge.upstream.ptv_client import PtvClientSettings
from tests.kept_harvests import KeptHarvests

# The one variable that points the tests at an existing server. Never the operators'
# DATABASE_URL / LAHELLA_BRIDGE_DATABASE_URL: the suite creates and drops databases.
TEST_SERVER_VARIABLE = "LAHELLA_BRIDGE_TEST_DATABASE_URL"
ADMIN_KEY = "test-admin-key-0123456789abcdef0123456789"  # the admin key of the `api` fixture

TABLES = (
    "occurrences, service_channels, quarantine, harvest_runs, activities, organisations, "
    "upstream_sessions, event_slots, event_spans"
)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server: the test-only variable's, else an embedded one in a temporary
    directory."""
    configured = os.environ.get(TEST_SERVER_VARIABLE)
    if configured:
        yield asyncpg_url(configured)
        return
    from lahella_bridge.embedded_db import embedded_postgres

    with (
        tempfile.TemporaryDirectory(prefix="lahella-bridge-test-") as tmp,
        embedded_postgres(Path(tmp)) as url,
    ):
        yield asyncpg_url(url)


@pytest.fixture(scope="session")
async def database_url(server_url: str) -> AsyncIterator[str]:
    """A database of this run's own on that server (a name no one else uses), migrated from
    empty once, and dropped at the end: the suite never drops a database it did not create."""
    from sqlalchemy.engine import make_url

    name = f"lahella_bridge_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, pool_size=1)
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url, pool_size=1)
    await upgrade_database(engine)
    await engine.dispose()
    yield url
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncEngine:
    """The engine, with every data table empty at the start of the test."""
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture
def anchor() -> date:
    return default_anchor()


@pytest.fixture
def upstream(anchor: date) -> SampleUpstream:
    return SampleUpstream(generate(anchor=anchor))


def make_harvester(
    engine: AsyncEngine,
    upstream: SampleUpstream | None,
    anchor: date,
    ptv_upstream: SamplePtvUpstream | None = None,
    ptv_batch_size: int = 20,
    **client: object,
) -> Harvester:
    """A harvester on the real sources and clients, over ASGI transports to the sample
    upstreams; a source whose upstream is None is left out."""
    sources: list[Source] = []
    if upstream is not None:
        settings = ClientSettings(
            base_url="http://sample.test",
            cookies=SAMPLE_COOKIES,
            backoff_base_s=0.001,
            backoff_cap_s=0.01,
            **client,
        )  # type: ignore[arg-type]
        sources.append(LahellaSource(settings, httpx.ASGITransport(app=upstream)))
    if ptv_upstream is not None:
        ptv = PtvClientSettings(
            base_url="http://ptv.test/api/v11",
            areas=sorted(taxonomy().municipalities),
            batch_size=ptv_batch_size,
            backoff_base_s=0.001,
            backoff_cap_s=0.01,
        )
        sources.append(PtvSource(ptv, httpx.ASGITransport(app=ptv_upstream)))
    return Harvester(engine, sources, clock=lambda: now_for(anchor))


def lahella_source(harvester: Harvester) -> LahellaSource:
    """The harvester's Lähellä.fi source, for a test that changes its client or network."""
    (source,) = [s for s in harvester.sources if isinstance(s, LahellaSource)]
    return source


@pytest.fixture
def ptv_upstream(anchor: date) -> SamplePtvUpstream:
    return SamplePtvUpstream(anchor=anchor)


@pytest.fixture
def harvester(db: AsyncEngine, upstream: SampleUpstream, anchor: date) -> Harvester:
    return make_harvester(db, upstream, anchor)


@pytest.fixture(scope="session")
def kept_harvests() -> KeptHarvests:
    """Harvests run once a session, restored after (tests/kept_harvests.py)."""
    return KeptHarvests()


@pytest.fixture
async def harvested(
    harvester: Harvester, upstream: SampleUpstream, kept_harvests: KeptHarvests
) -> Harvester:
    """The harvester, after a successful harvest of its upstream."""
    (report,) = await kept_harvests.run(harvester, upstream)
    assert report.status == "succeeded", report.error
    return harvester


@pytest.fixture
async def both(
    db: AsyncEngine,
    upstream: SampleUpstream,
    ptv_upstream: SamplePtvUpstream,
    anchor: date,
    kept_harvests: KeptHarvests,
) -> AsyncEngine:
    """The database after a successful harvest of both sample sources, Lähellä.fi first."""
    harvester = make_harvester(db, upstream, anchor, ptv_upstream=ptv_upstream)
    reports = await kept_harvests.run(harvester, upstream, ptv_upstream, every_source=True)
    assert [(r.source, r.status) for r in reports] == [
        ("lahella", "succeeded"),
        ("ptv", "succeeded"),
    ], [r.error for r in reports]
    return db


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """`app` with its lifespan, through httpx, asked for as `testserver` (an allowed host)."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        yield client


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The real ASGI app (lifespan included) through httpx."""
    settings = Settings(harvest_interval_minutes=0, admin_api_key=ADMIN_KEY)
    app = create_app(settings, database_url)
    async with serving(app) as client:
        yield client


JS_READERS = Path(__file__).parent / "js"


@pytest.fixture(scope="session")
def js_readers() -> Path:
    """tests/js with its locked npm packages (ical.js, axe-core) installed: the third-party
    readers some tests use as their oracle. Installed from the lock file on first use."""
    import fcntl
    import shutil
    import subprocess

    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed for the third-party reader tests (Node.js is required)")
    # Test workers run side by side (pytest-xdist): one installs, the others wait for it.
    with (JS_READERS / "package-lock.json").open("rb") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if not (JS_READERS / "node_modules" / ".package-lock.json").exists():
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=JS_READERS, check=True
            )
    return JS_READERS
