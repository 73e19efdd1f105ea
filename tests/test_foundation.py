"""The service skeleton: probes, settings, migrations, the embedded database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from lahella_bridge.app import create_app
from lahella_bridge.config import Settings, SettingsError, load_settings
from lahella_bridge.db import Base
from lahella_bridge.embedded_db import DataDirectoryLocked, _exclusive_lock
from tests.conftest import ADMIN_KEY


async def test_healthz_answers_without_the_database(api: httpx.AsyncClient) -> None:
    response = await api.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_is_ok_when_the_database_answers(api: httpx.AsyncClient) -> None:
    response = await api.get("/readyz")
    assert response.status_code == 200 and response.json()["database"] == "ok"


async def test_readyz_and_reads_are_503_when_the_database_is_down(tmp_path: Path) -> None:
    # A socket directory with no server in it: every connection attempt fails at once.
    url = f"postgresql+asyncpg://postgres@/postgres?host={tmp_path}"
    app = create_app(Settings(harvest_interval_minutes=0), url)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        ready = await client.get("/readyz")
        read = await client.get("/v1/activities")
    assert ready.status_code == 503
    assert read.status_code == 503
    assert read.headers["content-type"] == "application/problem+json"
    assert read.json()["title"] == "Database unavailable"


def test_settings_errors_name_the_variable_and_the_problem() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(port="eighty", database_url="mysql://x")
    message = str(caught.value)
    assert "LAHELLA_BRIDGE_PORT" in message and "LAHELLA_BRIDGE_DATABASE_URL" in message
    assert "PostgreSQL" in message


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAHELLA_BRIDGE_UPSTREAM_GROUPS", "7103010551, 7103010552")
    monkeypatch.setenv("LAHELLA_BRIDGE_CORS_ORIGINS", "https://tapahtumat.pohde.fi")
    settings = load_settings()
    assert settings.upstream_groups == ["7103010551", "7103010552"]
    assert settings.cors_origins == ["https://tapahtumat.pohde.fi"]


async def test_migrations_from_empty_create_the_schema_at_head(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        sources = (await connection.execute(text("SELECT id FROM sources"))).scalars().all()
    assert {"activities", "organisations", "occurrences", "harvest_runs", "quarantine"} <= tables
    assert version == ScriptDirectory.from_config(Config("alembic.ini")).get_current_head()
    assert set(sources) == {"lahella", "ptv"}


async def test_the_migrations_build_exactly_the_models(engine: AsyncEngine) -> None:
    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection)
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


def test_a_second_process_on_the_same_data_directory_gets_a_clear_error(tmp_path: Path) -> None:
    lock = tmp_path / "lahella-bridge.lock"
    with (
        _exclusive_lock(lock),
        pytest.raises(DataDirectoryLocked, match="in use by another"),
        _exclusive_lock(lock),
    ):
        pass


async def test_cors_beyond_the_open_data_is_only_for_configured_origins(
    database_url: str,
) -> None:
    """The feeds are open to every origin (tests/test_cross_origin.py); health and the
    document only to the configured ones, and the admin endpoints to none, not even those."""
    configured = "https://tapahtumat.pohde.fi"
    app = create_app(
        Settings(harvest_interval_minutes=0, cors_origins=[configured], admin_api_key=ADMIN_KEY),
        database_url,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        allowed = await client.get("/healthz", headers={"Origin": configured})
        other = await client.get("/healthz", headers={"Origin": "https://evil.example"})
        admin = await client.get(
            "/admin/harvests", headers={"Origin": configured, "X-API-Key": ADMIN_KEY}
        )
        admin_preflight = await client.options(
            "/admin/harvest",
            headers={"Origin": configured, "Access-Control-Request-Method": "POST"},
        )
    assert allowed.headers["access-control-allow-origin"] == configured
    assert "access-control-allow-origin" not in other.headers
    assert admin.status_code == 200
    assert "access-control-allow-origin" not in admin.headers
    assert "access-control-allow-origin" not in admin_preflight.headers
