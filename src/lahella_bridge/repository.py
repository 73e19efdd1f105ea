"""All SQL: idempotent upserts by (source, upstream id), retirement with a safety brake,
run records, quarantine, and the read queries behind the API and feeds."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Select,
    and_,
    case,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncScalarResult, AsyncSession
from sqlalchemy.orm import aliased

from lahella_bridge import dedupe
from lahella_bridge.models import (
    Activity,
    DataVersion,
    HarvestRun,
    Occurrence,
    Organisation,
    QuarantinedRecord,
    ServiceChannel,
    UpstreamSession,
    change_seq,
)
from lahella_bridge.normalise import NormalisedActivity, NormalisedOrganisation
from lahella_bridge.richtext import strip_nul
from lahella_bridge.schedule import HELSINKI

HARVEST_LOCK_ID = 0x1A4E11A1
ACTIVITY_SLICE = 200  # activities decoded per await when many are read at once


def content_hash(value: Any) -> str:
    """Hash of a canonical JSON form: equal content, equal hash, whatever the key order."""
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- harvest locking and runs -------------------------------------------------------


async def try_harvest_lock(connection: AsyncConnection) -> bool:
    """Session-level advisory lock: released by unlock or when the connection dies."""
    return bool(await connection.scalar(select(func.pg_try_advisory_lock(HARVEST_LOCK_ID))))


async def release_harvest_lock(connection: AsyncConnection) -> None:
    await connection.execute(select(func.pg_advisory_unlock(HARVEST_LOCK_ID)))


async def harvest_running(session: AsyncSession) -> bool:
    """Whether any process holds the harvest lock right now."""
    held = await session.scalar(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :id AND granted"
        ),
        {"id": HARVEST_LOCK_ID},
    )
    return bool(held)


async def upstream_session(session: AsyncSession, source: str) -> tuple[str, dict[str, str]] | None:
    """The source's refreshed cookies and the configured cookies' fingerprint, if any."""
    row = (
        await session.execute(
            select(UpstreamSession.configured, UpstreamSession.cookies).where(
                UpstreamSession.source == source
            )
        )
    ).one_or_none()
    return None if row is None else (row.configured, dict(row.cookies))


async def keep_upstream_session(
    session: AsyncSession, source: str, configured: str, cookies: dict[str, str]
) -> None:
    values = {"configured": configured, "cookies": cookies, "refreshed_at": func.now()}
    await session.execute(
        insert(UpstreamSession)
        .values(source=source, **values)
        .on_conflict_do_update(index_elements=[UpstreamSession.source], set_=values)
    )


async def start_run(session: AsyncSession, source: str, mode: str, started_at: datetime) -> int:
    run_id = await session.scalar(
        insert(HarvestRun)
        .values(source=source, mode=mode, status="running", started_at=started_at)
        .returning(HarvestRun.id)
    )
    assert run_id is not None
    return int(run_id)


async def finish_run(session: AsyncSession, run_id: int, **values: Any) -> None:
    await session.execute(update(HarvestRun).where(HarvestRun.id == run_id).values(**values))


async def fail_stale_runs(session: AsyncSession) -> None:
    """Runs left 'running' by a process that died: nobody holds the lock any more."""
    await session.execute(
        update(HarvestRun)
        .where(HarvestRun.status == "running")
        .values(
            status="failed",
            error="the harvesting process stopped before finishing",
            finished_at=func.now(),
        )
    )


async def last_runs(session: AsyncSession, limit: int = 50) -> Sequence[HarvestRun]:
    result = await session.scalars(select(HarvestRun).order_by(HarvestRun.id.desc()).limit(limit))
    return result.all()


async def ever_harvested(session: AsyncSession) -> bool:
    return bool(
        await session.scalar(
            select(func.count())
            .select_from(HarvestRun)
            .where(HarvestRun.status.in_(("succeeded", "braked", "incomplete")))
        )
    )


async def refresh_statistics(session: AsyncSession) -> None:
    """Planner statistics after a harvest that wrote rows: until autovacuum gets to it,
    plans made on the previous data (e.g. an empty table) can turn a feed query from
    milliseconds into seconds."""
    await session.execute(text("ANALYZE activities, occurrences, organisations"))


async def bump_data_version(session: AsyncSession) -> None:
    await session.execute(
        update(DataVersion)
        .where(DataVersion.id == 1)
        .values(version=DataVersion.version + 1, changed_at=func.now())
    )


async def data_version(session: AsyncSession) -> int:
    return int(await session.scalar(select(DataVersion.version).where(DataVersion.id == 1)) or 0)


async def published_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(Activity.kind, func.count())
        .where(*activity_conditions(ActivityFilters()))
        .group_by(Activity.kind)
    )
    organisations = await session.scalar(
        select(func.count()).select_from(Organisation).where(Organisation.deleted_at.is_(None))
    )
    return {**{str(kind): int(n) for kind, n in rows}, "organization": int(organisations or 0)}


async def last_success(session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(func.max(HarvestRun.finished_at)).where(HarvestRun.status == "succeeded")
    )


async def last_success_start(
    session: AsyncSession, source: str, *, full_only: bool = False
) -> datetime | None:
    """When the last succeeded run of a source started (optionally: a full sweep)."""
    query = select(func.max(HarvestRun.started_at)).where(
        HarvestRun.source == source, HarvestRun.status == "succeeded"
    )
    if full_only:
        query = query.where(HarvestRun.mode != "incremental")
    return await session.scalar(query)


# --- fingerprints, upserts and retirement ---------------------------------------------

# Live in its source: published, or hidden only because another source's twin wins.
SOURCE_LIVE = or_(Activity.deleted_at.is_(None), Activity.merged_into.is_not(None))


@dataclass(frozen=True)
class Fingerprint:
    content_hash: str
    live: bool


async def fingerprints(session: AsyncSession, source: str) -> dict[str, Fingerprint]:
    """What is stored per upstream key; a row without match keys (stored before they
    existed) counts as not live, so the next harvest re-normalises it."""
    current = and_(SOURCE_LIVE, func.cardinality(Activity.match_keys) > 0)
    rows = await session.execute(
        select(Activity.upstream_id, Activity.content_hash, current).where(
            Activity.source == source
        )
    )
    return {key: Fingerprint(digest, bool(live)) for key, digest, live in rows}


async def upsert_organisations(
    session: AsyncSession, source: str, organisations: Sequence[NormalisedOrganisation]
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
            "content_hash": content_hash([o.document, o.ptv]),
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
    await session.execute(
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
        "kind": item.document.get("kind", "activity"),
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
    session: AsyncSession, source: str, batch: Sequence[tuple[NormalisedActivity, Any, str]]
) -> tuple[int, int]:
    """Write changed activities with their channels and occurrences: (created, updated)."""
    if not batch:
        return 0, 0
    await upsert_organisations(
        session, source, [i.organisation for i, _, _ in batch if i.organisation is not None]
    )
    existing = set(
        (
            await session.scalars(
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
    written = await session.scalars(
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
    await _replace_children(session, items)
    created = len(written_ids - existing)
    return created, len(written_ids) - created


async def _replace_children(session: AsyncSession, items: Sequence[NormalisedActivity]) -> None:
    if not items:
        return
    ids = [item.id for item in items]
    await session.execute(delete(Occurrence).where(Occurrence.activity_id.in_(ids)))
    await session.execute(delete(ServiceChannel).where(ServiceChannel.activity_id.in_(ids)))
    connection = await session.connection()
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


async def live_keys(session: AsyncSession, source: str) -> set[str]:
    rows = await session.scalars(
        select(Activity.upstream_id).where(Activity.source == source, SOURCE_LIVE)
    )
    return set(rows.all())


async def live_ptv_areas(session: AsyncSession) -> dict[str, Any]:
    """The raw `areas` of every live PTV service, by service id: which area listings
    should name it (the per-area brake's denominator)."""
    rows = await session.execute(
        select(Activity.upstream_id, Activity.raw["service"]["areas"]).where(
            Activity.source == "ptv", SOURCE_LIVE
        )
    )
    return dict(rows.all())


async def retire_activities(session: AsyncSession, source: str, keys: Sequence[str]) -> int:
    """Tombstone (never delete) the given live activities; their occurrences go."""
    if not keys:
        return 0
    retired = await session.scalars(
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
        await session.execute(delete(Occurrence).where(Occurrence.activity_id.in_(ids)))
    return len(ids)


async def sync_organisations(session: AsyncSession) -> int:
    """An organisation is published while it has a published activity from any source:
    orphans are tombstoned, and one whose activity came back is revived. (rows changed)"""
    has_live = (
        select(Activity.id)
        .where(Activity.organisation_id == Organisation.id, Activity.deleted_at.is_(None))
        .exists()
    )
    stamp = {"modified": change_seq.next_value(), "updated_at": func.now()}
    retired = await session.scalars(
        update(Organisation)
        .where(Organisation.deleted_at.is_(None), ~has_live)
        .values(deleted_at=func.now(), **stamp)
        .returning(Organisation.id)
    )
    changed = len(retired.all())
    revived = await session.scalars(
        update(Organisation)
        .where(Organisation.deleted_at.is_not(None), has_live)
        .values(deleted_at=None, **stamp)
        .returning(Organisation.id)
    )
    return changed + len(revived.all())


# --- one record per activity across sources --------------------------------------------

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


async def hide_duplicates(session: AsyncSession) -> int:
    """Hide every record that is the same activity as a live Lähellä.fi record behind
    it (`merged_into`), and bring back those whose twin went away: (rows changed)."""
    result = await session.execute(_HIDE_DUPLICATES, {"primary": PRIMARY_SOURCE})
    changed = len(result.all())
    if changed:
        await session.execute(
            delete(Occurrence).where(
                Occurrence.activity_id.in_(
                    select(Activity.id).where(Activity.merged_into.is_not(None))
                )
            )
        )
    return changed


async def supplement_winners(session: AsyncSession) -> int:
    """Fill the gaps of each winning record from its hidden twin (`dedupe.supplement`);
    a winner whose twin is gone gets its own document back. Returns rows changed."""
    twin = aliased(Activity)
    rows = await session.execute(
        select(Activity.id, Activity.document, twin.document)
        .outerjoin(twin, twin.merged_into == Activity.id)
        .where(
            Activity.source == PRIMARY_SOURCE,
            Activity.deleted_at.is_(None),
            or_(twin.id.is_not(None), Activity.document.has_key("also_from")),
        )
        .order_by(Activity.id, twin.id)
    )
    wanted: dict[uuid.UUID, dict[str, Any]] = {}
    stored: dict[uuid.UUID, dict[str, Any]] = {}
    for activity_id, document, twin_document in rows:
        stored[activity_id] = document
        if activity_id in wanted:
            continue  # one twin fills the gaps; more would only be the same service again
        wanted[activity_id] = (
            dedupe.supplement(document, twin_document)
            if twin_document is not None
            else dedupe.without_supplement(document)
        )
    changed = [(i, doc) for i, doc in wanted.items() if doc != stored[i]]
    for activity_id, document in changed:
        await session.execute(
            update(Activity)
            .where(Activity.id == activity_id)
            .values(document=document, modified=change_seq.next_value(), updated_at=func.now())
        )
    return len(changed)


# --- quarantine -----------------------------------------------------------------------


def _record_key(key: Any, raw: Any) -> str:
    return str(key) if isinstance(key, str | int) and str(key) else f"sha256:{content_hash(raw)}"


def quarantine_key(raw: Any) -> str:
    """A Lähellä.fi record's `_key`, else a digest of the whole record."""
    return _record_key(raw.get("_key") if isinstance(raw, dict) else None, raw)


def ptv_record_key(raw: Any) -> str:
    """A PTV bundle's service id, else a digest of the whole record."""
    service = raw.get("service") if isinstance(raw, dict) else None
    return _record_key(service.get("id") if isinstance(service, dict) else None, raw)


async def quarantine(
    session: AsyncSession, source: str, run_id: int, key: str, raw: Any, reason: str
) -> None:
    statement = insert(QuarantinedRecord).values(
        source=source,
        record_key=key,
        run_id=run_id,
        raw=raw if isinstance(raw, dict) else {"value": raw},
        reason=strip_nul(reason),
    )
    await session.execute(
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


async def release_from_quarantine(session: AsyncSession, source: str, keys: Sequence[str]) -> None:
    if keys:
        await session.execute(
            delete(QuarantinedRecord).where(
                and_(
                    QuarantinedRecord.source == source, QuarantinedRecord.record_key.in_(list(keys))
                )
            )
        )


async def quarantined(
    session: AsyncSession, limit: int, offset: int
) -> Sequence[QuarantinedRecord]:
    result = await session.scalars(
        select(QuarantinedRecord)
        .order_by(QuarantinedRecord.last_seen.desc(), QuarantinedRecord.id)
        .limit(limit)
        .offset(offset)
    )
    return result.all()


async def unmapped_values(session: AsyncSession) -> list[dict[str, Any]]:
    """Upstream values without a mapping, counted over the live activities."""
    rows = await session.execute(
        text(
            "SELECT u->>'field' AS field, u->>'value' AS value, count(*) AS records, "
            "min(a.upstream_id) AS example FROM activities a, "
            "jsonb_array_elements(a.document->'unmapped') u WHERE a.deleted_at IS NULL "
            "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2"
        )
    )
    return [dict(row._mapping) for row in rows]


async def raw_activities(
    session: AsyncSession, source: str, after: uuid.UUID | None, limit: int
) -> Sequence[tuple[uuid.UUID, Any, str]]:
    """Stored raw records in id order, for re-normalising without a fetch."""
    query = select(Activity.id, Activity.raw, Activity.content_hash).where(
        Activity.source == source, SOURCE_LIVE
    )
    if after is not None:
        query = query.where(Activity.id > after)
    rows = await session.execute(query.order_by(Activity.id).limit(limit))
    return [(row[0], row[1], row[2]) for row in rows]


# --- reads for the API and feeds ------------------------------------------------------


@dataclass(frozen=True)
class ActivityFilters:
    """Combinable filters; every field narrows the set."""

    municipality: str | None = None
    stage: str | None = None
    theme: str | None = None
    activity_type: str | None = None
    target_group: str | None = None
    language: str | None = None
    q: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north
    near: tuple[float, float] | None = None  # lat, lon
    radius_km: float = 10.0
    is_free: bool | None = None
    online: bool | None = None
    updated_since: datetime | None = None
    organisation_id: uuid.UUID | None = None
    kind: str | None = None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _channel_within(condition: Any) -> Any:
    return (
        select(ServiceChannel.id)
        .where(ServiceChannel.activity_id == Activity.id, condition)
        .exists()
    )


def _distance_km(lat: float, lon: float) -> Any:
    """Haversine distance from a channel to (lat, lon), in SQL."""
    return 12742 * func.asin(
        func.sqrt(
            func.power(func.sin(func.radians(ServiceChannel.lat - lat) / 2), 2)
            + func.cos(func.radians(lat))
            * func.cos(func.radians(ServiceChannel.lat))
            * func.power(func.sin(func.radians(ServiceChannel.lon - lon) / 2), 2)
        )
    )


def _text_match(q: str) -> Any:
    """Finnish full text (stemmed words, web-search syntax), every word as a prefix too,
    and trigrams of the name, so that partial words match."""
    finnish = text("'finnish'::regconfig")
    # The name first: a row it matches needs no look at the (out-of-line) tsvector.
    alternatives = [
        Activity.name_sort.ilike(f"%{_escape_like(q.casefold())}%", escape="\\"),
        Activity.search.op("@@")(func.websearch_to_tsquery(finnish, q)),
    ]
    words = re.findall(r"\w+", q)
    if words:
        prefixes = " & ".join(f"{word}:*" for word in words[:8])
        alternatives.append(Activity.search.op("@@")(func.to_tsquery(finnish, prefixes)))
    return or_(*alternatives)


def _area_conditions(filters: ActivityFilters) -> list[Any]:
    """The `bbox` and `near` filters as conditions on one channel (a place)."""
    areas = []
    if filters.bbox is not None:
        west, south, east, north = filters.bbox
        areas.append(
            and_(ServiceChannel.lon.between(west, east), ServiceChannel.lat.between(south, north))
        )
    if filters.near is not None:
        lat, lon = filters.near
        degrees = filters.radius_km / 111.0 + 0.01
        areas.append(
            and_(
                ServiceChannel.lat.between(lat - degrees, lat + degrees),
                _distance_km(lat, lon) <= filters.radius_km,
            )
        )
    return areas


def activity_conditions(filters: ActivityFilters, *, include_deleted: bool = False) -> list[Any]:
    """WHERE clauses for live, visible activities matching the filters."""
    conditions: list[Any] = (
        []
        if include_deleted
        else [
            Activity.deleted_at.is_(None),
            or_(Activity.visible_until.is_(None), Activity.visible_until > func.now()),
        ]
    )
    arrays = (
        (Activity.municipalities, filters.municipality),
        (Activity.stages, filters.stage),
        (Activity.themes, filters.theme),
        (Activity.activity_types, filters.activity_type),
        (Activity.target_groups, filters.target_group),
        (Activity.languages, filters.language),
    )
    conditions += [column.contains([value]) for column, value in arrays if value is not None]
    if filters.q:
        conditions.append(_text_match(filters.q))
    conditions += [_channel_within(area) for area in _area_conditions(filters)]
    if filters.is_free is not None:
        conditions.append(Activity.is_free.is_(filters.is_free))
    if filters.online is not None:
        conditions.append(Activity.online.is_(filters.online))
    if filters.updated_since is not None:
        conditions.append(Activity.updated_at >= filters.updated_since)
    if filters.organisation_id is not None:
        conditions.append(Activity.organisation_id == filters.organisation_id)
    if filters.kind is not None:
        conditions.append(Activity.kind == filters.kind)
    return conditions


async def list_activities(
    session: AsyncSession, filters: ActivityFilters, limit: int, offset: int
) -> tuple[int, Sequence[Activity]]:
    conditions = activity_conditions(filters)
    if filters.q:
        return await _search_page(session, conditions, limit, offset)
    count = await session.scalar(select(func.count()).select_from(Activity).where(*conditions))
    rows = await session.scalars(
        select(Activity)
        .where(*conditions)
        .order_by(Activity.name_sort, Activity.id)
        .limit(limit)
        .offset(offset)
    )
    return int(count or 0), rows.all()


async def stream_activities(
    session: AsyncSession, filters: ActivityFilters, batch: int
) -> AsyncScalarResult[Activity]:
    """Every match in the lists' order from one server-side cursor, fetched `batch` rows at
    a time: one statement and one batch in memory however many rows match (OFFSET pages
    re-read every row before them and counted them again, each page)."""
    return await session.stream_scalars(
        select(Activity)
        .where(*activity_conditions(filters))
        .order_by(Activity.name_sort, Activity.id)
        .execution_options(yield_per=batch)
    )


async def _search_page(
    session: AsyncSession, conditions: list[Any], limit: int, offset: int
) -> tuple[int, Sequence[Activity]]:
    """A text search is selective: find the matches once, then count and page them,
    rather than let the planner walk the name index filtering every row."""
    matches = (
        select(Activity.id, Activity.name_sort)
        .where(*conditions)
        .cte("matches")
        .prefix_with("MATERIALIZED")
    )
    page = await session.execute(
        select(matches.c.id, func.count().over())
        .order_by(matches.c.name_sort, matches.c.id)
        .limit(limit)
        .offset(offset)
    )
    found = page.all()
    if not found:
        total = await session.scalar(select(func.count()).select_from(Activity).where(*conditions))
        return int(total or 0), []
    return int(found[0][1]), await activities_by_ids(session, [r[0] for r in found])


async def get_activity(session: AsyncSession, activity_id: uuid.UUID) -> Activity | None:
    return await session.scalar(
        select(Activity).where(Activity.id == activity_id, *activity_conditions(ActivityFilters()))
    )


async def next_occurrences(
    session: AsyncSession, activity_ids: Sequence[uuid.UUID], per_activity: int = 3
) -> dict[uuid.UUID, list[Occurrence]]:
    """The next few sessions of each activity, in one query."""
    if not activity_ids:
        return {}
    ranked = (
        select(
            Occurrence,
            func.row_number()
            .over(partition_by=Occurrence.activity_id, order_by=Occurrence.starts)
            .label("n"),
        )
        .where(Occurrence.activity_id.in_(list(activity_ids)), Occurrence.starts >= func.now())
        .subquery()
    )
    rows = await session.execute(
        select(ranked).where(ranked.c.n <= per_activity).order_by(ranked.c.starts)
    )
    result: dict[uuid.UUID, list[Occurrence]] = {}
    for row in rows:
        result.setdefault(row.activity_id, []).append(
            Occurrence(
                activity_id=row.activity_id,
                channel_id=row.channel_id,
                starts=row.starts,
                ends=row.ends,
                municipality=row.municipality,
            )
        )
    return result


def _calendar_only(filters: ActivityFilters) -> bool:
    """Whether the filters are all ones sessions carry themselves (see `models.Occurrence`)."""
    return replace(filters, municipality=None, theme=None) == ActivityFilters()


def _where_session_counts(own_place: Any, placeless: Any, activity_place: Any) -> list[Any]:
    """A session is where it meets; one with no place of its own, wherever its activity is.
    Alternatives: OR them, or run each as its own index-friendly branch."""
    return [own_place, and_(placeless, activity_place)]


def _session_in_towns(codes: Sequence[str], activity_in_towns: Any) -> list[Any]:
    return _where_session_counts(
        Occurrence.municipality.in_(list(codes)),
        Occurrence.municipality.is_(None),
        activity_in_towns,
    )


def _session_in_area(area: Any) -> list[Any]:
    """`area`, a condition on one channel, as the alternatives of a session meeting there."""
    own = select(ServiceChannel.id).where(ServiceChannel.id == Occurrence.channel_id, area)
    return _where_session_counts(
        own.exists(), Occurrence.channel_id.is_(None), _channel_within(area)
    )


def _session_branches(
    window: Sequence[Any], codes: Sequence[str], themes: Sequence[Any]
) -> list[Any]:
    """WHERE clauses over occurrences alone, one per index-friendly branch."""
    conditions = [
        *window,
        or_(Occurrence.visible_until.is_(None), Occurrence.visible_until > func.now()),
        *themes,
    ]
    if not codes:
        return [and_(*conditions)]
    activity_in_towns = Occurrence.activity_id.in_(
        select(Activity.id).where(Activity.municipalities.overlap(list(codes)))
    )
    return [and_(*conditions, where) for where in _session_in_towns(codes, activity_in_towns)]


async def _count_all(session: AsyncSession, counted: Sequence[Select[*tuple[Any, ...]]]) -> int:
    """The summed row counts of several queries, in one round trip (their order dropped:
    sorting thousands of rows only to count them cost a millisecond a query)."""
    totals = [
        select(func.count()).select_from(query.order_by(None).subquery()).scalar_subquery()
        for query in counted
    ]
    return int(await session.scalar(select(sum(totals[1:], totals[0]))) or 0)


async def _calendar_page(
    session: AsyncSession,
    filters: ActivityFilters,
    start: datetime,
    end: datetime,
    limit: int,
    offset: int,
) -> tuple[int, list[int]]:
    """(count, session ids of the page) from the covering indexes, no activity rows read."""
    themes = [Occurrence.themes.contains([filters.theme])] if filters.theme else []
    codes = [filters.municipality] if filters.municipality else []
    branches = _session_branches(
        [Occurrence.starts >= start, Occurrence.starts < end], codes, themes
    )
    count = await _count_all(session, [select(Occurrence.id).where(b) for b in branches])
    pages = [
        select(Occurrence.id, Occurrence.starts)
        .where(branch)
        .order_by(Occurrence.starts, Occurrence.id)
        .limit(limit + offset)
        for branch in branches
    ]
    merged = union_all(*pages).subquery() if len(pages) > 1 else pages[0].subquery()
    ids = await session.scalars(
        select(merged.c.id).order_by(merged.c.starts, merged.c.id).limit(limit).offset(offset)
    )
    return count, list(ids.all())


async def list_events(
    session: AsyncSession,
    filters: ActivityFilters,
    start: datetime,
    end: datetime,
    limit: int,
    offset: int,
) -> tuple[int, Sequence[tuple[Occurrence, Activity]]]:
    """Occurrences starting in [start, end) of matching activities, by start time."""
    if _calendar_only(filters):
        count, ids = await _calendar_page(session, filters, start, end, limit, offset)
        found = await occurrences_by_id(session, ids)
        return count, await _with_activities(session, [found[i] for i in ids if i in found])
    conditions = [
        *activity_conditions(replace(filters, municipality=None, bbox=None, near=None)),
        Occurrence.starts >= start,
        Occurrence.starts < end,
    ]
    # The session's own place decides, so a multi-town activity lists where it meets.
    if filters.municipality is not None:
        codes = [filters.municipality]
        conditions.append(or_(*_session_in_towns(codes, Activity.municipalities.overlap(codes))))
    conditions += [or_(*_session_in_area(area)) for area in _area_conditions(filters)]
    total = await session.scalar(
        select(func.count())
        .select_from(Occurrence)
        .join(Activity, Activity.id == Occurrence.activity_id)
        .where(*conditions)
    )
    page = await session.scalars(
        select(Occurrence)
        .join(Activity, Activity.id == Occurrence.activity_id)
        .where(*conditions)
        .order_by(Occurrence.starts, Occurrence.id)
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), await _with_activities(session, list(page))


async def occurrences_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Occurrence]:
    """The sessions of a page, by id (none asked, no query)."""
    if not ids:
        return {}
    found = await session.scalars(select(Occurrence).where(Occurrence.id.in_(list(ids))))
    return {o.id: o for o in found}


async def _with_activities(
    session: AsyncSession, occurrences: Sequence[Occurrence]
) -> list[tuple[Occurrence, Activity]]:
    """Sessions paired with their activities, each activity read once however many of its
    sessions there are (a month's calendar of a town: 5,000 sessions, 1,000 activities)."""
    activities = {
        a.id: a
        for a in await activities_by_ids(session, list({o.activity_id: None for o in occurrences}))
    }
    return [(o, activities[o.activity_id]) for o in occurrences if o.activity_id in activities]


async def term_counts(
    session: AsyncSession, column: str, filters: ActivityFilters | None = None
) -> dict[str, int]:
    """Live activities (under `filters`, if given) per stage, theme, activity type or
    municipality, in SQL."""
    array = getattr(Activity, column)
    term = func.unnest(array).label("term")
    inner = select(term).where(*activity_conditions(filters or ActivityFilters())).subquery()
    rows = await session.execute(select(inner.c.term, func.count()).group_by(inner.c.term))
    return {str(key): int(n) for key, n in rows}


async def list_organisations(
    session: AsyncSession, limit: int, offset: int, q: str | None = None
) -> tuple[int, Sequence[Organisation]]:
    conditions: list[Any] = [Organisation.deleted_at.is_(None)]
    if q:
        conditions.append(Organisation.name.ilike(f"%{_escape_like(q)}%", escape="\\"))
    count = await session.scalar(select(func.count()).select_from(Organisation).where(*conditions))
    rows = await session.scalars(
        select(Organisation)
        .where(*conditions)
        .order_by(Organisation.name, Organisation.id)
        .limit(limit)
        .offset(offset)
    )
    return int(count or 0), rows.all()


async def organisation_emails(
    session: AsyncSession, org_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The organisations' own e-mail addresses, for those that gave one."""
    if not org_ids:
        return {}
    email = Organisation.document["email"].astext
    rows = await session.execute(
        select(Organisation.id, email).where(
            Organisation.id.in_(list(org_ids)), email.is_not(None), email != ""
        )
    )
    return {org_id: str(value) for org_id, value in rows}


async def activity_counts(
    session: AsyncSession, organisation_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Live activities per organisation, for a page of organisations in one query."""
    rows = await session.execute(
        select(Activity.organisation_id, func.count())
        .where(
            Activity.organisation_id.in_(list(organisation_ids)),
            *activity_conditions(ActivityFilters()),
        )
        .group_by(Activity.organisation_id)
    )
    counts = {org_id: int(count) for org_id, count in rows if org_id is not None}
    return {org_id: counts.get(org_id, 0) for org_id in organisation_ids}


async def services_of_organisations(
    session: AsyncSession, organisation_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID, Any, Any]]:
    """(organisation id, service id, PTV serviceNames, PTV areas) of the live services of
    a page of organisations, in one query, by organisation and service name."""
    rows = await session.execute(
        select(
            Activity.organisation_id,
            Activity.id,
            Activity.ptv["serviceNames"],
            Activity.ptv["areas"],
        )
        .where(
            Activity.organisation_id.in_(list(organisation_ids)),
            *activity_conditions(ActivityFilters()),
        )
        .order_by(Activity.organisation_id, Activity.name_sort, Activity.id)
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


async def get_organisation(session: AsyncSession, org_id: uuid.UUID) -> Organisation | None:
    return await session.scalar(
        select(Organisation).where(Organisation.id == org_id, Organisation.deleted_at.is_(None))
    )


async def changes(
    session: AsyncSession,
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
    rows = await session.scalars(query.order_by(model.modified, model.id).limit(limit))
    return list(rows.all())


async def ptv_rows(
    session: AsyncSession,
    kind: str,
    *,
    ids: Sequence[uuid.UUID] | None = None,
    municipality: str | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> tuple[int, list[tuple[uuid.UUID, dict[str, Any], datetime]]]:
    """(count, [(id, stored PTV body, updated_at)]) for Service, ServiceChannel, Organization."""
    live_activity = and_(*activity_conditions(ActivityFilters()))
    if kind == "Service":
        query = select(Activity.id, Activity.ptv, Activity.updated_at).where(live_activity)
        area = Activity.municipalities.contains([municipality]) if municipality else None
        stamp, key = Activity.updated_at, Activity.id
    elif kind == "ServiceChannel":
        query = (
            select(ServiceChannel.id, ServiceChannel.ptv, Activity.updated_at)
            .join(Activity, Activity.id == ServiceChannel.activity_id)
            .where(live_activity)
        )
        area = ServiceChannel.municipality == municipality if municipality else None
        stamp, key = Activity.updated_at, ServiceChannel.id
    else:
        query = select(Organisation.id, Organisation.ptv, Organisation.updated_at).where(
            Organisation.deleted_at.is_(None)
        )
        area = (
            select(Activity.id)
            .where(
                Activity.organisation_id == Organisation.id,
                live_activity,
                Activity.municipalities.contains([municipality]),
            )
            .exists()
            if municipality
            else None
        )
        stamp, key = Organisation.updated_at, Organisation.id
    if ids is not None:
        query = query.where(key.in_(list(ids)))
    if area is not None:
        query = query.where(area)
    if since is not None:
        query = query.where(stamp >= since)
    if before is not None:
        query = query.where(stamp < before)
    count = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(stamp, key).limit(limit).offset(offset))
    return int(count or 0), [(row[0], row[1], row[2]) for row in rows]


async def activities_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Activity]:
    """Live activities among `ids`, in the order asked.

    Thousands of them (a town's calendar for a month) are read in slices through a cursor,
    so that decoding their documents does not hold the event loop for a second."""
    statement = select(Activity).where(
        Activity.id.in_(list(ids)), *activity_conditions(ActivityFilters())
    )
    if len(ids) <= ACTIVITY_SLICE:
        rows = list(await session.scalars(statement))
    else:
        stream = await session.stream_scalars(statement.execution_options(yield_per=ACTIVITY_SLICE))
        rows = [row async for row in stream]
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


@dataclass(frozen=True)
class EventQuery:
    """The Linked Events event list, already parsed: activity filters plus event rules."""

    filters: ActivityFilters
    keywords_any: tuple[tuple[str, str], ...] = ()
    keywords_all: tuple[tuple[str, str], ...] = ()
    keywords_not: tuple[tuple[str, str], ...] = ()
    municipalities: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    show_deleted: bool = False
    super_event: str | None = None  # an upstream id, or "none" for top-level only
    kinds: frozenset[str] | None = None  # single, sub, super, deleted; None: every kind
    hide_recurring_children: bool = False
    sort: str = "start_time"


def _keyword_condition(column: str, slug: str) -> Any:
    return getattr(Activity, column).contains([slug])


def _event_activity_conditions(query: EventQuery) -> list[Any]:
    conditions = activity_conditions(query.filters, include_deleted=query.show_deleted)
    if query.show_deleted:
        conditions.append(
            or_(
                Activity.deleted_at.is_not(None),
                Activity.visible_until.is_(None),
                Activity.visible_until > func.now(),
            )
        )
    if query.keywords_any:
        conditions.append(or_(*(_keyword_condition(c, s) for c, s in query.keywords_any)))
    conditions += [_keyword_condition(c, s) for c, s in query.keywords_all]
    conditions += [~_keyword_condition(c, s) for c, s in query.keywords_not]
    return conditions


def _linked_calendar_only(query: EventQuery) -> bool:
    """Whether an event list needs only sessions' own columns and recurring activities' spans."""
    keywords = (*query.keywords_any, *query.keywords_all, *query.keywords_not)
    return (
        query.filters == ActivityFilters()
        and all(column == "themes" for column, _ in keywords)
        and not query.show_deleted
        and query.super_event is None
        and query.kinds is None
        and not query.hide_recurring_children
        and query.sort == "start_time"
    )


def _theme_keywords(column: Any, query: EventQuery) -> list[Any]:
    conditions = (
        [column.overlap([slug for _, slug in query.keywords_any])] if query.keywords_any else []
    )
    conditions += [column.contains([slug]) for _, slug in query.keywords_all]
    return conditions + [~column.contains([slug]) for _, slug in query.keywords_not]


async def _linked_calendar(
    session: AsyncSession, query: EventQuery, limit: int, offset: int
) -> tuple[int, list[tuple[str, Activity, Occurrence | None]]]:
    """`linked_events` for the calendar's common query, sessions read from covering indexes.

    A session still going on at the window's start began at most the longest session's
    length before it, which bounds the index range of that second branch."""
    codes = list(query.municipalities)
    before_end = [Occurrence.starts < query.end] if query.end is not None else []
    windows = [before_end + ([Occurrence.starts >= query.start] if query.start else [])]
    if query.start is not None:
        ends = func.coalesce(Occurrence.ends, Occurrence.starts)
        longest = select(func.max(ends - Occurrence.starts)).scalar_subquery()
        windows.append(
            [
                *before_end,
                Occurrence.starts < query.start,
                Occurrence.starts >= literal(query.start, DateTime(timezone=True)) - longest,
                ends >= query.start,
            ]
        )
    themes = _theme_keywords(Occurrence.themes, query)
    sessions = [
        select(
            Occurrence.id.label("occurrence_id"),
            Occurrence.activity_id.label("activity_id"),
            Occurrence.starts.label("starts"),
        )
        .where(branch)
        .order_by(Occurrence.starts, Occurrence.activity_id)
        for window in windows
        for branch in _session_branches(window, codes, themes)
    ]
    recurring = [
        *activity_conditions(ActivityFilters()),
        *_theme_keywords(Activity.themes, query),
        Activity.occurrence_count > 1,
    ]
    if codes:
        recurring.append(Activity.municipalities.overlap(codes))
    if query.start is not None:
        recurring.append(Activity.last_ends >= query.start)
    if query.end is not None:
        recurring.append(Activity.first_starts < query.end)
    supers = (
        select(
            null().cast(BigInteger).label("occurrence_id"),
            Activity.id.label("activity_id"),
            Activity.first_starts.label("starts"),
        )
        .where(*recurring)
        .order_by(Activity.first_starts, Activity.id)
    )
    count = await _count_all(session, [*sessions, supers])
    merged = union_all(*(part.limit(limit + offset) for part in [*sessions, supers])).subquery()
    page = (
        await session.execute(
            select(merged)
            .order_by(merged.c.starts, merged.c.activity_id, merged.c.occurrence_id.nulls_first())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    activities = {a.id: a for a in await activities_by_ids(session, [r.activity_id for r in page])}
    occurrences = await occurrences_by_id(
        session, [r.occurrence_id for r in page if r.occurrence_id is not None]
    )
    events: list[tuple[str, Activity, Occurrence | None]] = []
    for row in page:
        activity = activities.get(row.activity_id)  # None if retired since the page was read
        if activity is None:
            continue
        if row.occurrence_id is None:
            events.append(("super", activity, None))
        else:
            kind = "single" if activity.occurrence_count == 1 else "sub"
            events.append((kind, activity, occurrences.get(row.occurrence_id)))
    return count, events


async def linked_events(
    session: AsyncSession, query: EventQuery, limit: int, offset: int
) -> tuple[int, list[tuple[str, Activity, Occurrence | None]]]:
    """Single, recurring (super) and sub events of matching activities, in one SQL union."""
    if _linked_calendar_only(query):
        return await _linked_calendar(session, query, limit, offset)
    where = _event_activity_conditions(query)
    codes = list(query.municipalities)
    # A session is where it meets; a recurring whole is wherever its activity is.
    session_place = (
        [or_(*_session_in_towns(codes, Activity.municipalities.overlap(codes)))] if codes else []
    )
    activity_place = [Activity.municipalities.overlap(codes)] if codes else []
    sessions = (
        select(
            case((Activity.occurrence_count == 1, literal("single")), else_=literal("sub")).label(
                "kind"
            ),
            Occurrence.id.label("occurrence_id"),
            Activity.id.label("activity_id"),
            Occurrence.starts.label("starts"),
            func.coalesce(Occurrence.ends, Occurrence.starts).label("ends"),
        )
        .join(Activity, Activity.id == Occurrence.activity_id)
        .where(*where, *session_place, Activity.deleted_at.is_(None))
    )
    supers = select(
        case((Activity.deleted_at.is_not(None), literal("deleted")), else_=literal("super")).label(
            "kind"
        ),
        null().cast(BigInteger).label("occurrence_id"),
        Activity.id.label("activity_id"),
        Activity.first_starts.label("starts"),
        Activity.last_ends.label("ends"),
    ).where(
        *where,
        *activity_place,
        or_(Activity.occurrence_count > 1, Activity.deleted_at.is_not(None)),
    )
    events = union_all(sessions, supers).subquery()
    conditions: list[Any] = []
    if query.start is not None:
        conditions.append(events.c.ends >= query.start)
    if query.end is not None:
        conditions.append(events.c.starts < query.end)
    if query.hide_recurring_children:
        conditions.append(events.c.kind != "sub")
    if query.kinds is not None:
        conditions.append(events.c.kind.in_(sorted(query.kinds)))
    if query.super_event == "none":
        conditions.append(events.c.kind != "sub")
    elif query.super_event is not None:
        conditions += [events.c.kind == "sub", Activity.upstream_id == query.super_event]
    base = (
        select(events.c.kind, events.c.occurrence_id, events.c.starts, Activity)
        .join(Activity, Activity.id == events.c.activity_id)
        .where(*conditions)
    )
    order = {
        "start_time": [events.c.starts.asc().nulls_last()],
        "-start_time": [events.c.starts.desc().nulls_last()],
        "last_modified_time": [Activity.updated_at.asc()],
        "-last_modified_time": [Activity.updated_at.desc()],
        "name": [Activity.name_sort.asc()],
        "-name": [Activity.name_sort.desc()],
        "end_time": [events.c.ends.asc().nulls_last()],
        "-end_time": [events.c.ends.desc().nulls_last()],
    }[query.sort]
    count = await session.scalar(select(func.count()).select_from(base.subquery()))
    rows = (
        await session.execute(
            base.order_by(
                *order, Activity.id, events.c.starts, events.c.occurrence_id.nulls_first()
            )
            .limit(limit)
            .offset(offset)
        )
    ).all()
    occurrences = await occurrences_by_id(
        session, [row.occurrence_id for row in rows if row.occurrence_id is not None]
    )
    return int(count or 0), [
        (row.kind, row.Activity, occurrences.get(row.occurrence_id)) for row in rows
    ]


async def session_stamps(
    session: AsyncSession, activity_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Each activity's session starts as local `YYYYMMDDHHMM` stamps, formatted in SQL:
    a recurring event lists every session's id, thousands on a page."""
    stamp = func.to_char(func.timezone(HELSINKI.key, Occurrence.starts), literal("YYYYMMDDHH24MI"))
    rows = await session.execute(
        select(Occurrence.activity_id, func.array_agg(aggregate_order_by(stamp, Occurrence.starts)))
        .where(Occurrence.activity_id.in_(list(activity_ids)))
        .group_by(Occurrence.activity_id)
    )
    return {activity_id: list(stamps) for activity_id, stamps in rows}


async def activity_by_upstream_id(
    session: AsyncSession, upstream_id: str, *, include_deleted: bool = True
) -> Activity | None:
    return await session.scalar(
        select(Activity).where(
            Activity.upstream_id == upstream_id,
            *activity_conditions(ActivityFilters(), include_deleted=include_deleted),
        )
    )


async def occurrence_at(
    session: AsyncSession, activity_id: uuid.UUID, starts: datetime
) -> Occurrence | None:
    return await session.scalar(
        select(Occurrence).where(Occurrence.activity_id == activity_id, Occurrence.starts == starts)
    )


async def places(
    session: AsyncSession,
    limit: int,
    offset: int,
    channel_ids: Sequence[uuid.UUID] | None = None,
    *,
    channel_type: str | None = "ServiceLocation",
) -> tuple[int, list[tuple[uuid.UUID, Activity, int]]]:
    """Channels (by default the places) of live activities, with upcoming session counts."""
    upcoming = (
        select(func.count())
        .select_from(Occurrence)
        .where(Occurrence.channel_id == ServiceChannel.id, Occurrence.starts >= func.now())
        .scalar_subquery()
    )
    query = (
        select(ServiceChannel.id, Activity, upcoming.label("n"))
        .join(Activity, Activity.id == ServiceChannel.activity_id)
        .where(*activity_conditions(ActivityFilters()))
    )
    if channel_type is not None:
        query = query.where(ServiceChannel.channel_type == channel_type)
    if channel_ids is not None:
        query = query.where(ServiceChannel.id.in_(list(channel_ids)))
    count = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(ServiceChannel.id).limit(limit).offset(offset))
    return int(count or 0), [(row[0], row[1], int(row[2])) for row in rows]
