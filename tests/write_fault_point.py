"""Test-only: the `lahella-bridge` command line with a fault point in the harvest's write
phase, so a crash test can kill -9 the process at a known place.

    LAHELLA_BRIDGE_TEST_HOLD_AFTER=activities:1 LAHELLA_BRIDGE_TEST_HOLD_FILE=/tmp/held \\
        python -m tests.write_fault_point harvest

After the Nth committed transaction that inserted into the table (`harvest_runs:1`: the
run has started; `activities:1`: the first batch of records is written), the process
writes the hold file and stops right there, its transaction committed, until killed.

The hook listens to SQLAlchemy's own session events, so the service's code has no fault
point of its own and production cannot reach this one: only this module, which nothing
but the tests runs, reads the variables.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import Insert, event
from sqlalchemy.orm import ORMExecuteState, Session

HOLD_AFTER = "LAHELLA_BRIDGE_TEST_HOLD_AFTER"
HOLD_FILE = "LAHELLA_BRIDGE_TEST_HOLD_FILE"


def install(table: str, after: int, hold_file: Path) -> None:
    """Hold the process after the `after`th committed transaction inserting into `table`."""
    committed: Counter[str] = Counter()

    @event.listens_for(Session, "do_orm_execute")
    def note_insert(state: ORMExecuteState) -> None:
        statement: Any = state.statement
        if isinstance(statement, Insert):
            state.session.info.setdefault("inserted", set()).add(statement.table.name)

    @event.listens_for(Session, "after_commit")
    def hold_after_commit(session: Session) -> None:
        for name in session.info.pop("inserted", set()):
            committed[name] += 1
        if committed[table] >= after:
            hold_file.write_text(f"{table}:{committed[table]}")
            while True:  # the whole process, event loop included, stops here
                time.sleep(3600)

    @event.listens_for(Session, "after_rollback")
    def forget(session: Session) -> None:
        session.info.pop("inserted", None)


def main() -> None:
    table, _, after = os.environ[HOLD_AFTER].partition(":")
    install(table, int(after), Path(os.environ[HOLD_FILE]))
    from lahella_bridge.cli import app

    app(prog_name="lahella-bridge")


if __name__ == "__main__":
    main()
