"""sessions carry their activity's themes and visibility; name trigrams for search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 22:45:00

The event calendar's common query (a window, a municipality, a theme) becomes an
index-only scan of occurrences; `q` matches partial words through prefix queries on
the tsvector and trigrams of the (short) name instead of the whole search text.
Rewrites every occurrence row once (about a minute per million sessions).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERED = ["activity_id", "themes", "visible_until"]


def upgrade() -> None:
    op.add_column(
        "occurrences",
        sa.Column(
            "themes",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
    )
    op.add_column(
        "occurrences", sa.Column("visible_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(
        "UPDATE occurrences o SET themes = a.themes, visible_until = a.visible_until "
        "FROM activities a WHERE a.id = o.activity_id"
    )
    op.drop_index("ix_occurrences_municipality_starts", table_name="occurrences")
    op.drop_index("ix_occurrences_starts", table_name="occurrences")
    op.create_index(
        "ix_occurrences_municipality_starts",
        "occurrences",
        ["municipality", "starts"],
        postgresql_include=COVERED,
    )
    op.create_index("ix_occurrences_starts", "occurrences", ["starts"], postgresql_include=COVERED)
    op.drop_index("ix_activities_search_text_trgm", table_name="activities")
    op.create_index(
        "ix_activities_name_sort_trgm",
        "activities",
        ["name_sort"],
        postgresql_using="gin",
        postgresql_ops={"name_sort": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_activities_name_sort_trgm", table_name="activities")
    op.create_index(
        "ix_activities_search_text_trgm",
        "activities",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_occurrences_starts", table_name="occurrences")
    op.drop_index("ix_occurrences_municipality_starts", table_name="occurrences")
    op.create_index("ix_occurrences_starts", "occurrences", ["starts"])
    op.create_index("ix_occurrences_municipality_starts", "occurrences", ["municipality", "starts"])
    op.drop_column("occurrences", "visible_until")
    op.drop_column("occurrences", "themes")
