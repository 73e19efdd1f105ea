"""the upstream's refreshed session cookies, kept in the database

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:50:00

Refreshed cookies were kept in a file in the data directory: each API replica had its own
and the harvest CronJob's lived on the pod's ephemeral /tmp, lost after every run. In the
database every process finds the latest ones.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upstream_sessions",
        sa.Column("source", sa.String(32), sa.ForeignKey("sources.id"), primary_key=True),
        sa.Column("configured", sa.String(64), nullable=False),
        sa.Column("cookies", postgresql.JSONB(), nullable=False),
        sa.Column(
            "refreshed_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_table("upstream_sessions")
