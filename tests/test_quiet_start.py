"""Starting on the embedded database prints no warnings a first-time user would have to
puzzle over (containers and CI runners have no XDG_RUNTIME_DIR)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_migrate_on_a_fresh_data_directory_without_xdg_runtime_dir_warns_nothing(
    tmp_path: Path,
) -> None:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key != "XDG_RUNTIME_DIR" and not key.startswith("LAHELLA_BRIDGE_")
    }
    environment["LAHELLA_BRIDGE_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", "from lahella_bridge.cli import app; app()", "migrate"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "database is up to date" in done.stdout + done.stderr
    assert "XDG_RUNTIME_DIR" not in done.stderr + done.stdout
    assert "Warning" not in done.stderr
