"""Records the harvest could not take whole: the quarantine and the unmapped values the
admin pages list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lahella_bridge.models import QuarantinedRecord
from lahella_bridge.richtext import strip_nul
from lahella_bridge.store.writes import content_hash


def _record_key(key: Any, raw: Any) -> str:
    return str(key) if isinstance(key, str | int) and str(key) else f"sha256:{content_hash(raw)}"


def quarantine_key(raw: Any) -> str:
    """A Lähellä.fi record's `_key`, else a digest of the whole record."""
    return _record_key(raw.get("_key") if isinstance(raw, dict) else None, raw)


def ptv_record_key(raw: Any) -> str:
    """A PTV bundle's service id, else a digest of the whole record."""
    service = raw.get("service") if isinstance(raw, dict) else None
    return _record_key(service.get("id") if isinstance(service, dict) else None, raw)


async def quarantine_record(
    db: AsyncSession, source: str, run_id: int, key: str, raw: Any, reason: str
) -> None:
    statement = insert(QuarantinedRecord).values(
        source=source,
        record_key=key,
        run_id=run_id,
        raw=raw if isinstance(raw, dict) else {"value": raw},
        reason=strip_nul(reason),
    )
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[QuarantinedRecord.source, QuarantinedRecord.record_key],
            set_={
                "raw": statement.excluded.raw,
                "reason": statement.excluded.reason,
                "run_id": run_id,
                "last_seen": func.now(),
            },
        )
    )


async def release_from_quarantine(db: AsyncSession, source: str, keys: Sequence[str]) -> None:
    if keys:
        await db.execute(
            delete(QuarantinedRecord).where(
                and_(
                    QuarantinedRecord.source == source, QuarantinedRecord.record_key.in_(list(keys))
                )
            )
        )


async def quarantined(db: AsyncSession, limit: int, offset: int) -> Sequence[QuarantinedRecord]:
    result = await db.scalars(
        select(QuarantinedRecord)
        .order_by(QuarantinedRecord.last_seen.desc(), QuarantinedRecord.id)
        .limit(limit)
        .offset(offset)
    )
    return result.all()


async def unmapped_values(db: AsyncSession) -> list[dict[str, Any]]:
    """Upstream values without a mapping, counted over the live activities."""
    rows = await db.execute(
        text(
            "SELECT u->>'field' AS field, u->>'value' AS value, count(*) AS records, "
            "min(a.upstream_id) AS example FROM activities a, "
            "jsonb_array_elements(a.document->'unmapped') u WHERE a.deleted_at IS NULL "
            "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2"
        )
    )
    return [dict(row._mapping) for row in rows]
