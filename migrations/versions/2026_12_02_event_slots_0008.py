"""the calendar's read model: where and under which theme each session counts, decided once

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:30:00

/v1/events and the Linked Events list decided per request where a session counts (its own
place's town, or, without a place, each of its activity's towns) and read a recurring
activity's span through the activities' GIN indexes and heap: a town + theme count read
about six index entries for each it kept. `event_slots` holds a row per session and town it
counts in, its activity's themes as a bitmask (`store/event_slots.THEME_BITS`), so that a
town + theme count and its page are one range of one B-tree, read index-only, the theme a
bit test on each entry; a list of any town reads the sessions' own index on start, so no
"any town" row is kept. `event_spans` holds the same for recurring activities' first start
and last end, per town and '' (any). The writer rebuilds an activity's rows with its
sessions (`store/event_slots.py`); this fills them for the stored data.
No foreign keys: the writer deletes the rows with the sessions, in the same transaction,
and a foreign key check per row was most of the cost of writing them.
The price, at 10,000 sample activities (343,106 sessions): 343,106 slot rows (one a
session), 61 MB with their indexes, and 16k span rows, 3 MB, beside the sessions' 209 MB;
a harvest's PostgreSQL CPU per record 1.05x (4.64 -> 4.85 ms).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from lahella_bridge.store.event_slots import THEME_BITS, THEME_MASK_SQL

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The writer's own bits (`THEME_BITS`, fixed once stored) and mask expression. The
# statements below are a frozen copy of the writer's rule (store/event_slots.py) over every
# stored row, not an import of it: a migration fills the tables as they were at this
# revision, whatever the writer becomes. tests/test_item_fragments.py checks that an
# upgraded database holds the rows the writer would have written.
FILL_SLOTS = f"""
INSERT INTO event_slots (town, starts, occurrence_id, themes, activity_id, ends, visible_until)
SELECT towns.town, o.starts, o.id, {THEME_MASK_SQL}, o.activity_id,
       coalesce(o.ends, o.starts), a.visible_until
  FROM occurrences o
  JOIN activities a ON a.id = o.activity_id
 CROSS JOIN LATERAL (
       SELECT DISTINCT town FROM unnest(
           CASE WHEN o.municipality IS NULL THEN a.municipalities
                ELSE ARRAY[o.municipality::text] END) AS town
       ) AS towns
 WHERE a.deleted_at IS NULL
"""

FILL_SPANS = f"""
INSERT INTO event_spans (town, last_ends, first_starts, themes, activity_id, visible_until)
SELECT towns.town, a.last_ends, a.first_starts, {THEME_MASK_SQL}, a.id, a.visible_until
  FROM activities a
 CROSS JOIN LATERAL (
       SELECT DISTINCT town FROM unnest(a.municipalities || ARRAY[''::text]) AS town
       ) AS towns
 WHERE a.deleted_at IS NULL AND a.occurrence_count > 1
   AND a.first_starts IS NOT NULL AND a.last_ends IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        "event_slots",
        sa.Column("town", sa.String(3), nullable=False),
        sa.Column("starts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurrence_id", sa.BigInteger(), nullable=False),
        sa.Column("themes", sa.Integer(), nullable=False),
        sa.Column("activity_id", postgresql.UUID(), nullable=False),
        sa.Column("ends", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visible_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "event_spans",
        sa.Column("town", sa.String(3), nullable=False),
        sa.Column("last_ends", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_starts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("themes", sa.Integer(), nullable=False),
        sa.Column("activity_id", postgresql.UUID(), nullable=False),
        sa.Column("visible_until", sa.DateTime(timezone=True), nullable=True),
    )
    slugs = sa.bindparam("slugs", list(THEME_BITS), type_=postgresql.ARRAY(sa.Text))
    op.execute(sa.text(FILL_SLOTS).bindparams(slugs))
    op.execute(sa.text(FILL_SPANS).bindparams(slugs))
    op.create_index(
        "ix_event_slots_town_starts",
        "event_slots",
        ["town", "starts", "occurrence_id"],
        postgresql_include=["themes", "activity_id", "ends", "visible_until"],
    )
    op.create_index("ix_event_slots_activity_id", "event_slots", ["activity_id"])
    op.create_index(
        "ix_event_spans_town_last_ends",
        "event_spans",
        ["town", "last_ends"],
        postgresql_include=["first_starts", "themes", "activity_id", "visible_until"],
    )
    op.create_index("ix_event_spans_activity_id", "event_spans", ["activity_id"])


def downgrade() -> None:
    op.drop_table("event_spans")
    op.drop_table("event_slots")
