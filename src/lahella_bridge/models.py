"""The tables. No logic: mapping lives in `normalise`, SQL in `store`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from lahella_bridge.db import Base
from lahella_bridge.records import OrganisationRecord, RecordPart, StoredRecord

# Every insert, update and retirement takes the next value: the RPDE `modified`.
change_seq = Sequence("change_seq", metadata=Base.metadata)
NEXT_CHANGE = text("nextval('change_seq')")

Json = dict[str, Any]
R = TypeVar("R", bound=RecordPart)


class RecordJson(TypeDecorator[R], Generic[R]):
    """JSONB holding a `records` type: validated when a row is loaded, so readers get
    attributes; stored as the record's JSON. SQL that looks inside the JSON says so with
    `type_coerce(column, JSONB)`, so its operands are not taken for records."""

    impl = JSONB
    cache_ok = True

    def __init__(self, record: type[R]) -> None:
        super().__init__()
        self.record = record

    def process_bind_param(self, value: R | Json | None, dialect: Dialect) -> Json | None:
        return value.to_json() if isinstance(value, RecordPart) else value

    def process_result_value(self, value: Json | None, dialect: Dialect) -> R | None:
        return None if value is None else self.record.model_validate(value)


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    base_url: Mapped[str | None] = mapped_column(Text)


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("source", "upstream_id"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    source: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    upstream_id: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    business_id: Mapped[str | None] = mapped_column(Text)
    document: Mapped[OrganisationRecord] = mapped_column(RecordJson(OrganisationRecord))
    ptv: Mapped[Json] = mapped_column(JSONB, deferred=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    modified: Mapped[int] = mapped_column(BigInteger, server_default=NEXT_CHANGE, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (
        UniqueConstraint("source", "upstream_id"),
        Index("ix_activities_modified_id", "modified", "id"),
        Index("ix_activities_search", "search", postgresql_using="gin"),
        Index(
            "ix_activities_name_sort_trgm",
            "name_sort",
            postgresql_using="gin",
            postgresql_ops={"name_sort": "gin_trgm_ops"},
        ),
        Index("ix_activities_municipalities", "municipalities", postgresql_using="gin"),
        Index("ix_activities_stages", "stages", postgresql_using="gin"),
        Index("ix_activities_themes", "themes", postgresql_using="gin"),
        Index("ix_activities_live_name", "name_sort", "id", postgresql_where="deleted_at IS NULL"),
        Index("ix_activities_match_keys", "match_keys", postgresql_using="gin"),
        Index(
            "ix_activities_source_live",
            "source",
            postgresql_where="deleted_at IS NULL OR merged_into IS NOT NULL",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    source: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    upstream_id: Mapped[str] = mapped_column(Text)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), server_default="activity")
    # Deferred: the raw record, the PTV body and the search columns are read only by the
    # queries that name them, not with every row a feed renders.
    raw: Mapped[Json] = mapped_column(JSONB, deferred=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[StoredRecord] = mapped_column(RecordJson(StoredRecord))
    ptv: Mapped[Json] = mapped_column(JSONB, deferred=True)
    name_sort: Mapped[str] = mapped_column(Text)
    visible_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    municipalities: Mapped[list[str]] = mapped_column(ARRAY(Text))
    stages: Mapped[list[str]] = mapped_column(ARRAY(Text))
    themes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    activity_types: Mapped[list[str]] = mapped_column(ARRAY(Text))
    target_groups: Mapped[list[str]] = mapped_column(ARRAY(Text))
    languages: Mapped[list[str]] = mapped_column(ARRAY(Text))
    is_free: Mapped[bool | None] = mapped_column(Boolean)
    online: Mapped[bool] = mapped_column(Boolean)
    occurrence_count: Mapped[int] = mapped_column(Integer, server_default="0")
    first_starts: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_ends: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    search_text: Mapped[str] = mapped_column(Text, deferred=True)
    # The same activity arriving from two sources shares a key; see `dedupe`.
    match_keys: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    # Set on a duplicate hidden behind the record that wins (its `deleted_at` is set too).
    merged_into: Mapped[uuid.UUID | None] = mapped_column(UUID)
    search: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed("to_tsvector('finnish'::regconfig, search_text)", persisted=True),
        deferred=True,
    )
    modified: Mapped[int] = mapped_column(BigInteger, server_default=NEXT_CHANGE)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ServiceChannel(Base):
    """A place, web page, online or phone channel of one activity (PTV ServiceChannel)."""

    __tablename__ = "service_channels"
    __table_args__ = (Index("ix_service_channels_lat_lon", "lat", "lon"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    channel_type: Mapped[str] = mapped_column(String(32))
    municipality: Mapped[str | None] = mapped_column(String(3))
    lat: Mapped[float | None] = mapped_column(Double)
    lon: Mapped[float | None] = mapped_column(Double)
    ptv: Mapped[Json] = mapped_column(JSONB)


# What the calendar filters on, copied from the activity so that its common query is an
# index-only scan (a session exists only while its activity is published).
EVENT_COVERED = ["activity_id", "themes", "visible_until"]


class Occurrence(Base):
    """One dated session of an activity, expanded from its weekly rules."""

    __tablename__ = "occurrences"
    __table_args__ = (
        Index("ix_occurrences_starts", "starts", postgresql_include=EVENT_COVERED),
        Index(
            "ix_occurrences_municipality_starts",
            "municipality",
            "starts",
            postgresql_include=EVENT_COVERED,
        ),
        # The longest session bounds how far back an event still going on can start.
        Index("ix_occurrences_span", text("(COALESCE(ends, starts) - starts)")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    starts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    municipality: Mapped[str | None] = mapped_column(String(3))
    themes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    visible_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ItemFragment(Base):
    """The JSON of what a list item takes from its activity alone, per language, written
    with the activity (see `fragments`): an event's activity part, an activity summary, or
    (`part` its channel id) a channel's place."""

    __tablename__ = "item_fragments"

    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    surface: Mapped[str] = mapped_column(String(16), primary_key=True)
    lang: Mapped[str] = mapped_column(String(2), primary_key=True)
    part: Mapped[str] = mapped_column(Text, primary_key=True, server_default="")
    body: Mapped[str] = mapped_column(Text)


# The calendar's read model, written with the sessions (`store/event_slots.py`): where each
# session counts decided once, so that a town + theme + window count and its page are one
# range of one index, read index-only, the theme a bit test on the entries (`themes`: the
# activity's themes as a mask, `event_slots.THEME_BITS`). A session has a row for each town
# it counts in; a list of any town reads the sessions' own index (`ix_occurrences_starts`).
event_slots = Table(
    "event_slots",
    Base.metadata,
    Column("town", String(3), nullable=False),
    Column("starts", DateTime(timezone=True), nullable=False),
    Column("occurrence_id", BigInteger, nullable=False),
    Column("themes", Integer, nullable=False),
    Column("activity_id", UUID, nullable=False),
    Column("ends", DateTime(timezone=True), nullable=False),
    Column("visible_until", DateTime(timezone=True)),
    Index(
        "ix_event_slots_town_starts",
        "town",
        "starts",
        "occurrence_id",
        postgresql_include=["themes", "activity_id", "ends", "visible_until"],
    ),
    Index("ix_event_slots_activity_id", "activity_id"),
)

# The same for a recurring activity's whole (a Linked Events "super" event): its span from
# the first session's start to the last one's end, per town of the activity and '' (any).
event_spans = Table(
    "event_spans",
    Base.metadata,
    Column("town", String(3), nullable=False),
    Column("last_ends", DateTime(timezone=True), nullable=False),
    Column("first_starts", DateTime(timezone=True), nullable=False),
    Column("themes", Integer, nullable=False),
    Column("activity_id", UUID, nullable=False),
    Column("visible_until", DateTime(timezone=True)),
    Index(
        "ix_event_spans_town_last_ends",
        "town",
        "last_ends",
        postgresql_include=["first_starts", "themes", "activity_id", "visible_until"],
    ),
    Index("ix_event_spans_activity_id", "activity_id"),
)


class HarvestRun(Base):
    __tablename__ = "harvest_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    complete: Mapped[bool] = mapped_column(Boolean, server_default="false")
    total_reported: Mapped[int | None] = mapped_column(Integer)
    fetched: Mapped[int] = mapped_column(Integer, server_default="0")
    created: Mapped[int] = mapped_column(Integer, server_default="0")
    updated: Mapped[int] = mapped_column(Integer, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, server_default="0")
    retired: Mapped[int] = mapped_column(Integer, server_default="0")
    quarantined: Mapped[int] = mapped_column(Integer, server_default="0")
    unpublished: Mapped[int] = mapped_column(Integer, server_default="0")
    retries: Mapped[int] = mapped_column(Integer, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    report: Mapped[Json] = mapped_column(JSONB, server_default="{}")


class UpstreamLogin(Base):
    """An upstream's login (its cookies) as last refreshed, for every replica and the CronJob;
    `configured` fingerprints the configured cookies they grew from. The table keeps its
    older name, upstream_sessions: renaming it would need a migration and buys nothing."""

    __tablename__ = "upstream_sessions"

    source: Mapped[str] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    configured: Mapped[str] = mapped_column(String(64))
    cookies: Mapped[dict[str, str]] = mapped_column(JSONB)
    refreshed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class QuarantinedRecord(Base):
    """An upstream record that could not be used, kept with its reason."""

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("source", "record_key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    record_key: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("harvest_runs.id", ondelete="SET NULL"))
    raw: Mapped[Json] = mapped_column(JSONB)
    reason: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DataVersion(Base):
    """One row: bumped by every harvest that changed published data (ETags key on it)."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
