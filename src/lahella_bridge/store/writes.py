"""The harvest's writes: idempotent upserts by (source, upstream id) with a content hash,
retirement (the brake decides how much, in `harvest`), one record per activity across
sources and the winners' supplements."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, delete, func, null, or_, select, text, type_coerce, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from lahella_bridge import dedupe
from lahella_bridge.fragments import Listed
from lahella_bridge.models import (
    Activity,
    Occurrence,
    Organisation,
    ServiceChannel,
    change_seq,
)
from lahella_bridge.normalise.outcome import NormalisedActivity, NormalisedOrganisation
from lahella_bridge.records import StoredRecord
from lahella_bridge.richtext import strip_nul
from lahella_bridge.store.event_slots import refresh_event_rows
from lahella_bridge.store.fragment_writes import listed_of, replace_fragments


def content_hash(value: Any) -> str:
    """Hash of a canonical JSON form: equal content, equal hash, whatever the key order."""
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# Live in its source: published, or hidden only because another source's twin wins.
SOURCE_LIVE = or_(Activity.deleted_at.is_(None), Activity.merged_into.is_not(None))


@dataclass(frozen=True)
class Fingerprint:
    content_hash: str
    live: bool


async def fingerprints(db: AsyncSession, source: str) -> dict[str, Fingerprint]:
    """What is stored per upstream key; a row without match keys (stored before they
    existed) counts as not live, so the next harvest re-normalises it."""
    current = and_(SOURCE_LIVE, func.cardinality(Activity.match_keys) > 0)
    rows = await db.execute(
        select(Activity.upstream_id, Activity.content_hash, current).where(
            Activity.source == source
        )
    )
    return {key: Fingerprint(digest, bool(live)) for key, digest, live in rows}


async def upsert_organisations(
    db: AsyncSession, source: str, organisations: Sequence[NormalisedOrganisation]
) -> None:
    unique = {o.id: o for o in organisations}
    if not unique:
        return
    rows = [
        {
            "id": o.id,
            "source": source,
            "upstream_id": o.upstream_id,
            "name": strip_nul(o.name),
            "business_id": o.business_id,
            "document": o.document,
            "ptv": o.ptv,
            "content_hash": content_hash([o.document.to_json(), o.ptv]),
        }
        for o in unique.values()
    ]
    statement = insert(Organisation)
    # Organisations with a business id share one id across sources (see normalise);
    # the Lähellä.fi record wins it, so another source never overwrites its row.
    changed = and_(
        or_(
            Organisation.content_hash != statement.excluded.content_hash,
            Organisation.deleted_at.is_not(None),
            Organisation.source != statement.excluded.source,
        ),
        or_(
            Organisation.source == statement.excluded.source, statement.excluded.source == "lahella"
        ),
    )
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[Organisation.id],
            set_={
                "source": statement.excluded.source,
                "upstream_id": statement.excluded.upstream_id,
                "name": statement.excluded.name,
                "business_id": statement.excluded.business_id,
                "document": statement.excluded.document,
                "ptv": statement.excluded.ptv,
                "content_hash": statement.excluded.content_hash,
                "modified": change_seq.next_value(),
                "updated_at": func.now(),
                "deleted_at": None,
            },
            where=changed,
        ),
        rows,
    )


def _activity_row(source: str, item: NormalisedActivity, raw: Any, digest: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "source": source,
        "upstream_id": item.upstream_id,
        "organisation_id": item.organisation.id if item.organisation else None,
        "kind": item.document.kind,
        "raw": raw,
        "content_hash": digest,
        "document": item.document,
        "ptv": item.ptv,
        "name_sort": strip_nul(item.name_sort)[:500],
        "visible_until": item.visible_until,
        "municipalities": item.municipalities,
        "stages": item.stages,
        "themes": item.themes,
        "activity_types": item.activity_types,
        "target_groups": item.target_groups,
        "languages": item.languages,
        "occurrence_count": len(item.occurrences),
        "first_starts": item.occurrences[0].starts if item.occurrences else None,
        "last_ends": max((o.ends or o.starts for o in item.occurrences), default=None),
        "is_free": item.is_free,
        "online": item.online,
        "search_text": item.search_text,
        "match_keys": item.match_keys,
    }


async def upsert_activities(
    db: AsyncSession, source: str, batch: Sequence[tuple[NormalisedActivity, Any, str]]
) -> tuple[int, int]:
    """Write changed activities with their channels and occurrences: (created, updated)."""
    if not batch:
        return 0, 0
    await upsert_organisations(
        db, source, [i.organisation for i, _, _ in batch if i.organisation is not None]
    )
    existing = set(
        (
            await db.scalars(
                select(Activity.id).where(Activity.id.in_([i.id for i, _, _ in batch]))
            )
        ).all()
    )
    statement = insert(Activity)
    columns = [
        c for c in _activity_row(source, *batch[0]) if c not in ("id", "source", "upstream_id")
    ]
    changed = or_(
        Activity.content_hash != statement.excluded.content_hash,
        and_(Activity.deleted_at.is_not(None), Activity.merged_into.is_(None)),
        Activity.document != statement.excluded.document,
        Activity.ptv != statement.excluded.ptv,
        Activity.match_keys != statement.excluded.match_keys,
    )
    written = await db.scalars(
        statement.on_conflict_do_update(
            index_elements=[Activity.source, Activity.upstream_id],
            set_={
                **{c: statement.excluded[c] for c in columns},
                "modified": change_seq.next_value(),
                "updated_at": func.now(),
                # A hidden duplicate stays hidden; `hide_duplicates` decides that.
                "deleted_at": case(
                    (Activity.merged_into.is_(None), null()), else_=Activity.deleted_at
                ),
            },
            where=changed,
        ).returning(Activity.id),
        [_activity_row(source, *entry) for entry in batch],
    )
    written_ids = set(written.all())
    items = [item for item, _, _ in batch if item.id in written_ids]
    await _replace_children(db, items)
    await replace_fragments(db, [listed_of(source, item) for item in items])
    created = len(written_ids - existing)
    return created, len(written_ids) - created


async def _replace_children(db: AsyncSession, items: Sequence[NormalisedActivity]) -> None:
    if not items:
        return
    ids = [item.id for item in items]
    await db.execute(delete(Occurrence).where(Occurrence.activity_id.in_(ids)))
    await db.execute(delete(ServiceChannel).where(ServiceChannel.activity_id.in_(ids)))
    connection = await db.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(
        "service_channels",
        columns=["id", "activity_id", "channel_type", "municipality", "lat", "lon", "ptv"],
        records=[
            (c.id, item.id, c.channel_type, c.municipality, c.lat, c.lon, json.dumps(c.ptv))
            for item in items
            for c in item.channels
        ],
    )
    await driver.copy_records_to_table(
        "occurrences",
        columns=[
            "activity_id",
            "channel_id",
            "starts",
            "ends",
            "municipality",
            "themes",
            "visible_until",
        ],
        records=[
            (
                item.id,
                o.channel_id,
                o.starts,
                o.ends,
                o.municipality,
                item.themes,
                item.visible_until,
            )
            for item in items
            for o in item.occurrences
        ],
    )
    await refresh_event_rows(db, ids)


async def raw_activities(
    db: AsyncSession, source: str, after: uuid.UUID | None, limit: int
) -> Sequence[tuple[uuid.UUID, Any, str]]:
    """Stored raw records in id order, for re-normalising without a fetch."""
    query = select(Activity.id, Activity.raw, Activity.content_hash).where(
        Activity.source == source, SOURCE_LIVE
    )
    if after is not None:
        query = query.where(Activity.id > after)
    rows = await db.execute(query.order_by(Activity.id).limit(limit))
    return [(row[0], row[1], row[2]) for row in rows]


async def live_keys(db: AsyncSession, source: str) -> set[str]:
    rows = await db.scalars(
        select(Activity.upstream_id).where(Activity.source == source, SOURCE_LIVE)
    )
    return set(rows.all())


async def live_ptv_areas(db: AsyncSession) -> dict[str, Any]:
    """The raw `areas` of every live PTV service, by service id: which area listings
    should name it (the per-area brake's denominator)."""
    rows = await db.execute(
        select(Activity.upstream_id, Activity.raw["service"]["areas"]).where(
            Activity.source == "ptv", SOURCE_LIVE
        )
    )
    return dict(rows.all())


async def retire_activities(db: AsyncSession, source: str, keys: Sequence[str]) -> int:
    """Tombstone (never delete) the given live activities; their occurrences go."""
    if not keys:
        return 0
    retired = await db.scalars(
        update(Activity)
        .where(Activity.source == source, Activity.upstream_id.in_(list(keys)), SOURCE_LIVE)
        .values(
            deleted_at=func.now(),
            merged_into=None,
            modified=change_seq.next_value(),
            updated_at=func.now(),
        )
        .returning(Activity.id)
    )
    ids = list(retired.all())
    if ids:
        await db.execute(delete(Occurrence).where(Occurrence.activity_id.in_(ids)))
        await refresh_event_rows(db, ids)
    return len(ids)


async def sync_organisations(db: AsyncSession) -> int:
    """An organisation is published while it has a published activity from any source:
    orphans are tombstoned, and one whose activity came back is revived. (rows changed)"""
    has_live = (
        select(Activity.id)
        .where(Activity.organisation_id == Organisation.id, Activity.deleted_at.is_(None))
        .exists()
    )
    stamp = {"modified": change_seq.next_value(), "updated_at": func.now()}
    retired = await db.scalars(
        update(Organisation)
        .where(Organisation.deleted_at.is_(None), ~has_live)
        .values(deleted_at=func.now(), **stamp)
        .returning(Organisation.id)
    )
    changed = len(retired.all())
    revived = await db.scalars(
        update(Organisation)
        .where(Organisation.deleted_at.is_not(None), has_live)
        .values(deleted_at=None, **stamp)
        .returning(Organisation.id)
    )
    return changed + len(revived.all())


PRIMARY_SOURCE = "lahella"


_HIDE_DUPLICATES = text(
    """
    WITH twins AS (
        SELECT p.id,
               (SELECT l.id FROM activities l
                 WHERE l.source = :primary AND l.deleted_at IS NULL
                   AND l.match_keys && p.match_keys
                 ORDER BY l.id LIMIT 1) AS winner
          FROM activities p
         WHERE p.source <> :primary AND (p.deleted_at IS NULL OR p.merged_into IS NOT NULL)
    )
    UPDATE activities a
       SET merged_into = twins.winner,
           deleted_at = CASE WHEN twins.winner IS NULL THEN NULL ELSE now() END,
           modified = nextval('change_seq'),
           updated_at = now()
      FROM twins
     WHERE a.id = twins.id AND a.merged_into IS DISTINCT FROM twins.winner
    RETURNING a.id
    """
)


async def hide_duplicates(db: AsyncSession) -> int:
    """Hide every record that is the same activity as a live Lähellä.fi record behind
    it (`merged_into`), and bring back those whose twin went away: (rows changed)."""
    result = await db.execute(_HIDE_DUPLICATES, {"primary": PRIMARY_SOURCE})
    changed = list(result.scalars())
    if changed:
        await db.execute(
            delete(Occurrence).where(
                Occurrence.activity_id.in_(
                    select(Activity.id).where(Activity.merged_into.is_not(None))
                )
            )
        )
        await refresh_event_rows(db, changed)
    return len(changed)


# The row's own columns a list item shows, beside its document (`fragments.Listed`).
_LISTED_COLUMNS = ("source", "kind", "online", "languages", "themes", "stages")


async def supplement_winners(db: AsyncSession) -> int:
    """Fill the gaps of each winning record from its hidden twin (`dedupe.supplement`);
    a winner whose twin is gone gets its own document back. Returns rows changed."""
    twin = aliased(Activity)
    rows = await db.execute(
        select(
            Activity.id,
            Activity.document,
            twin.document,
            Activity.source,
            Activity.kind,
            Activity.online,
            Activity.languages,
            Activity.themes,
            Activity.stages,
        )
        .outerjoin(twin, twin.merged_into == Activity.id)
        .where(
            Activity.source == PRIMARY_SOURCE,
            Activity.deleted_at.is_(None),
            or_(twin.id.is_not(None), type_coerce(Activity.document, JSONB).has_key("also_from")),
        )
        .order_by(Activity.id, twin.id)
    )
    wanted: dict[uuid.UUID, dict[str, Any]] = {}
    stored: dict[uuid.UUID, dict[str, Any]] = {}
    columns: dict[uuid.UUID, dict[str, Any]] = {}
    for activity_id, record, twin_record, *listed in rows:
        columns[activity_id] = dict(zip(_LISTED_COLUMNS, listed, strict=True))
        document = stored[activity_id] = record.to_json()
        if activity_id in wanted:
            continue  # one twin fills the gaps; more would only be the same service again
        wanted[activity_id] = (
            dedupe.supplement(document, twin_record.to_json())
            if twin_record is not None
            else dedupe.without_supplement(document)
        )
    changed = [(i, StoredRecord.from_json(doc)) for i, doc in wanted.items() if doc != stored[i]]
    for activity_id, record in changed:
        await db.execute(
            update(Activity)
            .where(Activity.id == activity_id)
            .values(document=record, modified=change_seq.next_value(), updated_at=func.now())
        )
    await replace_fragments(
        db,
        [
            Listed(id=activity_id, document=record, **columns[activity_id])
            for activity_id, record in changed
        ],
    )
    return len(changed)
