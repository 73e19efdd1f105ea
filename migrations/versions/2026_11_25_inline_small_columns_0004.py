"""keep the small columns that queries filter and sort on inside the heap row

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 23:20:00

`toast_tuple_target = 256` (0001) moves the wide jsonb values out of the heap, but the
toaster then keeps going with whatever is left, down to names and arrays of a few dozen
bytes: a search sorting 10,000 names detoasted each one many times (80,000 buffer reads).
MAIN storage keeps a column inline unless the row would not fit a page. The UPDATE
rewrites the existing rows so their values come back inline.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INLINE = (
    "upstream_id",
    "name_sort",
    "municipalities",
    "stages",
    "themes",
    "activity_types",
    "target_groups",
    "languages",
    "match_keys",
    "search",
)
ARRAYS = ("municipalities", "stages", "themes", "activity_types", "target_groups", "languages")


def upgrade() -> None:
    for column in INLINE:
        op.execute(f"ALTER TABLE activities ALTER COLUMN {column} SET STORAGE MAIN")
    # A changed value is toasted afresh (an unchanged one keeps its out-of-line pointer);
    # `search` is generated, recomputed only when `search_text` is assigned.
    assignments = ", ".join(
        [
            "upstream_id = upstream_id || ''",
            "name_sort = name_sort || ''",
            "search_text = search_text || ''",
        ]
        + [f"{column} = {column} || '{{}}'::text[]" for column in (*ARRAYS, "match_keys")]
    )
    op.execute(f"UPDATE activities SET {assignments}")


def downgrade() -> None:
    for column in INLINE:
        op.execute(f"ALTER TABLE activities ALTER COLUMN {column} SET STORAGE EXTENDED")
