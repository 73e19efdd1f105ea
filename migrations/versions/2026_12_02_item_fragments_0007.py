"""the list items' fragments, written with each activity

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:30:00

A /v1/events or /v1/activities page validated every activity's document into a record,
built a model per item and dumped it again, per request. What an item takes from its
activity alone is now written once per language when the activity is (`fragments`), and
a page is composed around it. The activities stored before are given theirs here: every
row that may be listed without being written again (live, or a hidden twin that comes
back when its winner goes).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lahella_bridge.fragments import Listed, fragments_of
from lahella_bridge.records import StoredRecord

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def upgrade() -> None:
    op.create_table(
        "item_fragments",
        sa.Column(
            "activity_id",
            sa.UUID(),
            sa.ForeignKey("activities.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("surface", sa.String(16), primary_key=True),
        sa.Column("lang", sa.String(2), primary_key=True),
        sa.Column("part", sa.Text(), primary_key=True, server_default=""),
        sa.Column("body", sa.Text(), nullable=False),
    )
    _fill()


def _fill() -> None:
    """Fragments for the stored activities, a batch at a time in id order."""
    bind = op.get_bind()
    table = sa.table(
        "item_fragments",
        *(sa.column(name) for name in ("activity_id", "surface", "lang", "part", "body")),
    )
    after = None
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, source, kind, online, languages, themes, stages, document"
                " FROM activities"
                " WHERE (deleted_at IS NULL OR merged_into IS NOT NULL)"
                " AND (CAST(:after AS uuid) IS NULL OR id > CAST(:after AS uuid))"
                " ORDER BY id LIMIT :batch"
            ),
            {"after": after, "batch": BATCH},
        ).all()
        if not rows:
            return
        fragments = [
            {
                "activity_id": f.activity_id,
                "surface": f.surface,
                "lang": f.lang,
                "part": f.part,
                "body": f.body,
            }
            for row in rows
            for f in fragments_of(
                Listed(
                    id=row.id,
                    source=row.source,
                    kind=row.kind,
                    online=row.online,
                    languages=list(row.languages),
                    themes=list(row.themes),
                    stages=list(row.stages),
                    document=StoredRecord.from_json(row.document),
                )
            )
        ]
        bind.execute(sa.insert(table), fragments)
        after = str(rows[-1].id)


def downgrade() -> None:
    op.drop_table("item_fragments")
