"""an index on each session's length, so the longest one is known at once

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 01:10:00

Linked Events lists events still going on at the window's start. Sessions are found by
their start, so the window is widened back by the longest session there is, and this
index answers that maximum from its last entry instead of reading every session.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_occurrences_span ON occurrences ((COALESCE(ends, starts) - starts))"
    )


def downgrade() -> None:
    op.drop_index("ix_occurrences_span", table_name="occurrences")
