"""The admin key: missing, wrong (in any bytes) or unset keys are refused with the right
status, never a 500; a guessable key stops the service from starting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from lahella_bridge.app import create_app
from lahella_bridge.cli import app as cli
from lahella_bridge.config import Settings, SettingsError, load_settings
from tests.conftest import ADMIN_KEY, serving

SECRET_EXAMPLE = Path(__file__).resolve().parents[1] / "deploy" / "k8s" / "secret.example.yaml"
WRONG_KEYS: list[str | bytes] = [
    "not-the-key",
    ADMIN_KEY[:-1] + "x",
    (ADMIN_KEY + "ä").encode(),  # UTF-8 beyond ASCII
    "avain-ä-€".encode(),
    b"\xff\xfe latin-1 bytes",
]


@pytest.fixture
async def without_key(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(harvest_interval_minutes=0), database_url)
    async with serving(app) as client:
        yield client


async def test_a_missing_key_is_401_and_a_wrong_one_403(api: httpx.AsyncClient) -> None:
    missing = await api.get("/admin/harvests")
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    for key in WRONG_KEYS:
        wrong = await api.get("/admin/harvests", headers={"X-API-Key": key})
        assert wrong.status_code == 403, key
        assert wrong.json()["title"] == "Forbidden", key
        assert wrong.headers["content-type"] == "application/problem+json"
    assert (await api.get("/admin/harvests", headers={"X-API-Key": ADMIN_KEY})).status_code == 200


async def test_unset_key_switches_the_admin_endpoints_off(
    without_key: httpx.AsyncClient,
) -> None:
    for headers in ({}, {"X-API-Key": ADMIN_KEY}, {"X-API-Key": "ä".encode()}):
        refused = await without_key.get("/admin/harvests", headers=headers)
        assert refused.status_code == 403
        assert "disabled" in refused.json()["detail"]


def test_short_or_example_keys_are_refused_without_showing_them() -> None:
    example = yaml.safe_load(SECRET_EXAMPLE.read_text())["stringData"]
    for key in ("CHANGE-ME", "x" * 31, example["LAHELLA_BRIDGE_ADMIN_API_KEY"]):
        with pytest.raises(SettingsError, match="LAHELLA_BRIDGE_ADMIN_API_KEY") as refused:
            load_settings(admin_api_key=key)
        assert key not in str(refused.value)
    strong = load_settings(admin_api_key="k" * 32).admin_api_key
    assert strong is not None and strong.get_secret_value() == "k" * 32
    assert load_settings(admin_api_key="").admin_api_key is None


def test_the_service_refuses_to_start_with_a_short_key(tmp_path: Path) -> None:
    # A data directory that cannot be one: were the key let through, starting the
    # database would fail at once (exit 1) instead of serving until killed.
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    env = {
        "LAHELLA_BRIDGE_ADMIN_API_KEY": "secret",
        "LAHELLA_BRIDGE_DATA_DIR": str(not_a_directory),
    }
    result = CliRunner().invoke(cli, ["serve"], env=env)
    assert result.exit_code == 2, result.output
    assert "LAHELLA_BRIDGE_ADMIN_API_KEY" in result.output and "32" in result.output
