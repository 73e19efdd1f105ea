"""The RPDE change feeds' read: rows after a (modified, id) cursor."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from lahella_bridge.models import Activity, Organisation


async def changes(
    db: AsyncSession,
    kind: str,
    after_modified: int | None,
    after_id: uuid.UUID | None,
    limit: int,
) -> Sequence[Activity | Organisation]:
    """RPDE 'modified + id' page: (modified = ts AND id > id) OR modified > ts."""
    model: Any = Activity if kind == "activities" else Organisation
    query = select(model)
    if after_modified is not None and after_id is not None:
        query = query.where(
            or_(
                and_(model.modified == after_modified, model.id > after_id),
                model.modified > after_modified,
            )
        )
    rows = await db.scalars(query.order_by(model.modified, model.id).limit(limit))
    return list(rows.all())
