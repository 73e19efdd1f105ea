"""a second source: match keys and merged duplicates

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows get empty keys; the next harvest re-normalises them to fill the keys.
    op.add_column(
        "activities",
        sa.Column(
            "match_keys",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
    )
    op.add_column("activities", sa.Column("merged_into", sa.UUID(), nullable=True))
    op.create_index(
        "ix_activities_match_keys", "activities", ["match_keys"], postgresql_using="gin"
    )
    op.create_index(
        "ix_activities_source_live",
        "activities",
        ["source"],
        postgresql_where=sa.text("deleted_at IS NULL OR merged_into IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_activities_source_live", table_name="activities")
    op.drop_index("ix_activities_match_keys", table_name="activities")
    op.drop_column("activities", "merged_into")
    op.drop_column("activities", "match_keys")
