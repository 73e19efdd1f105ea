"""The list items' fragments (`fragments`) written beside the activities whose document or
columns a write changed: set-wise, deleted and copied again."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from lahella_bridge.fragments import Listed, fragments_of
from lahella_bridge.models import ItemFragment
from lahella_bridge.normalise.outcome import NormalisedActivity


def listed_of(source: str, item: NormalisedActivity) -> Listed:
    return Listed(
        id=item.id,
        source=source,
        kind=item.document.kind,
        online=item.online,
        languages=item.languages,
        themes=item.themes,
        stages=item.stages,
        document=item.document,
    )


async def replace_fragments(db: AsyncSession, activities: Sequence[Listed]) -> None:
    """The list items' fragments of activities whose document or columns were written."""
    if not activities:
        return
    await db.execute(
        delete(ItemFragment).where(ItemFragment.activity_id.in_([a.id for a in activities]))
    )
    connection = await db.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(
        "item_fragments",
        columns=["activity_id", "surface", "lang", "part", "body"],
        records=[
            (f.activity_id, f.surface, f.lang, f.part, f.body)
            for listed in activities
            for f in fragments_of(listed)
        ],
    )
