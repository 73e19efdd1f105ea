"""The test suite never drops a database it did not create, whatever the operator exported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from lahella_bridge.db import create_engine
from tests.conftest import TEST_SERVER_VARIABLE

ROOT = Path(__file__).parent.parent
OPERATORS_DATABASE = "lahella_bridge_test"  # the name the suite once dropped and re-created


async def _databases(server_url: str) -> set[str]:
    engine = create_engine(server_url, pool_size=1)
    async with engine.connect() as connection:
        names = await connection.execute(text("SELECT datname FROM pg_database"))
        found = {row[0] for row in names}
    await engine.dispose()
    return found


async def test_an_operators_database_url_is_never_dropped_by_the_tests(server_url: str) -> None:
    """An operator who exported DATABASE_URL (as the README says to for production) and runs
    the tests keeps their data: only the test-only variable points the suite at a server, and
    the suite drops only the database it created for itself."""
    admin = create_engine(server_url, pool_size=1)
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f"DROP DATABASE IF EXISTS {OPERATORS_DATABASE} WITH (FORCE)"))
        await connection.execute(text(f"CREATE DATABASE {OPERATORS_DATABASE}"))
    await admin.dispose()
    operators_url = make_url(server_url).set(database=OPERATORS_DATABASE)
    operators = create_engine(operators_url.render_as_string(hide_password=False), pool_size=1)
    async with operators.begin() as connection:
        await connection.execute(text("CREATE TABLE precious (id int)"))
        await connection.execute(text("INSERT INTO precious VALUES (42)"))
    await operators.dispose()
    before = await _databases(server_url)

    plain_url = operators_url.set(drivername="postgresql").render_as_string(hide_password=False)
    env = {
        **os.environ,
        "DATABASE_URL": plain_url,
        "LAHELLA_BRIDGE_DATABASE_URL": plain_url,
        TEST_SERVER_VARIABLE: server_url,
    }
    inner = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n0",
         "tests/test_harvest.py::test_unchanged_rerun_writes_nothing"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert inner.returncode == 0, inner.stdout[-2000:] + inner.stderr[-2000:]

    operators = create_engine(operators_url.render_as_string(hide_password=False), pool_size=1)
    async with operators.connect() as connection:
        kept = await connection.execute(text("SELECT id FROM precious"))
        assert kept.scalar_one() == 42
    await operators.dispose()
    assert await _databases(server_url) == before, "the inner run left a database behind"
