"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 19:26:47.487665
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(sa.schema.CreateSequence(sa.Sequence("change_seq")))
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
    )
    op.create_table(
        "harvest_runs",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("complete", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("total_reported", sa.Integer(), nullable=True),
        sa.Column("fetched", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unchanged", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retired", sa.Integer(), server_default="0", nullable=False),
        sa.Column("quarantined", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unpublished", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "report", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["source"], ["sources.id"], name=op.f("fk_harvest_runs_source_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_runs")),
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("upstream_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("business_id", sa.Text(), nullable=True),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("ptv", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "modified",
            sa.BigInteger(),
            server_default=sa.text("nextval('change_seq')"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["source"], ["sources.id"], name=op.f("fk_organisations_source_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint(
            "source", "upstream_id", name=op.f("uq_organisations_source_upstream_id")
        ),
    )
    op.create_index(op.f("ix_organisations_modified"), "organisations", ["modified"], unique=False)
    op.create_table(
        "activities",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("upstream_id", sa.Text(), nullable=False),
        sa.Column("organisation_id", sa.UUID(), nullable=True),
        sa.Column("kind", sa.String(length=16), server_default="activity", nullable=False),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("ptv", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("name_sort", sa.Text(), nullable=False),
        sa.Column("visible_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("municipalities", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("stages", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("themes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("activity_types", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("target_groups", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("languages", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("is_free", sa.Boolean(), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("occurrence_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_starts", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_ends", sa.DateTime(timezone=True), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('finnish'::regconfig, search_text)", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.BigInteger(),
            server_default=sa.text("nextval('change_seq')"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_activities_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["source"], ["sources.id"], name=op.f("fk_activities_source_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
        sa.UniqueConstraint("source", "upstream_id", name=op.f("uq_activities_source_upstream_id")),
    )
    op.create_index(
        "ix_activities_live_name",
        "activities",
        ["name_sort", "id"],
        unique=False,
        postgresql_where="deleted_at IS NULL",
    )
    # Keep the heap narrow: wide jsonb (raw, document, ptv) and search text go to TOAST, so
    # filter scans over activities read a few pages instead of thousands.
    op.execute("ALTER TABLE activities SET (toast_tuple_target = 256)")
    op.create_index("ix_activities_modified_id", "activities", ["modified", "id"], unique=False)
    op.create_index(
        op.f("ix_activities_organisation_id"), "activities", ["organisation_id"], unique=False
    )
    op.create_index(
        "ix_activities_municipalities",
        "activities",
        ["municipalities"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_activities_search", "activities", ["search"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_activities_search_text_trgm",
        "activities",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_activities_stages", "activities", ["stages"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_activities_themes", "activities", ["themes"], unique=False, postgresql_using="gin"
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("record_key", sa.Text(), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "first_seen",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["harvest_runs.id"],
            name=op.f("fk_quarantine_run_id_harvest_runs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source"], ["sources.id"], name=op.f("fk_quarantine_source_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        sa.UniqueConstraint("source", "record_key", name=op.f("uq_quarantine_source_record_key")),
    )
    op.create_table(
        "occurrences",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("activity_id", sa.UUID(), nullable=False),
        sa.Column("channel_id", sa.UUID(), nullable=True),
        sa.Column("starts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends", sa.DateTime(timezone=True), nullable=True),
        sa.Column("municipality", sa.String(length=3), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_occurrences_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_occurrences")),
    )
    op.create_index(
        op.f("ix_occurrences_activity_id"), "occurrences", ["activity_id"], unique=False
    )
    op.create_index(
        "ix_occurrences_municipality_starts",
        "occurrences",
        ["municipality", "starts"],
        unique=False,
    )
    op.create_index("ix_occurrences_starts", "occurrences", ["starts"], unique=False)
    op.create_table(
        "service_channels",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("activity_id", sa.UUID(), nullable=False),
        sa.Column("channel_type", sa.String(length=32), nullable=False),
        sa.Column("municipality", sa.String(length=3), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("ptv", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_service_channels_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_channels")),
    )
    op.create_index(
        op.f("ix_service_channels_activity_id"), "service_channels", ["activity_id"], unique=False
    )
    op.create_index("ix_service_channels_lat_lon", "service_channels", ["lat", "lon"], unique=False)

    op.execute(
        "INSERT INTO sources (id, label, base_url) VALUES "
        "('lahella', 'Lähellä.fi', 'https://hallinta.lahella.fi'), "
        "('ptv', 'Suomi.fi Palvelutietovaranto (PTV)', 'https://api.palvelutietovaranto.suomi.fi')"
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 1)")


def downgrade() -> None:
    op.drop_index("ix_service_channels_lat_lon", table_name="service_channels")
    op.drop_index(op.f("ix_service_channels_activity_id"), table_name="service_channels")
    op.drop_table("service_channels")
    op.drop_index("ix_occurrences_starts", table_name="occurrences")
    op.drop_index("ix_occurrences_municipality_starts", table_name="occurrences")
    op.drop_index(op.f("ix_occurrences_activity_id"), table_name="occurrences")
    op.drop_table("occurrences")
    op.drop_table("quarantine")
    op.drop_index("ix_activities_themes", table_name="activities", postgresql_using="gin")
    op.drop_index("ix_activities_stages", table_name="activities", postgresql_using="gin")
    op.drop_index(
        "ix_activities_search_text_trgm",
        table_name="activities",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_activities_search", table_name="activities", postgresql_using="gin")
    op.drop_index("ix_activities_municipalities", table_name="activities", postgresql_using="gin")
    op.drop_index("ix_activities_modified_id", table_name="activities")
    op.drop_index(op.f("ix_activities_organisation_id"), table_name="activities")
    op.drop_index(
        "ix_activities_live_name", table_name="activities", postgresql_where="deleted_at IS NULL"
    )
    op.drop_table("activities")
    op.drop_index(op.f("ix_organisations_modified"), table_name="organisations")
    op.drop_table("organisations")
    op.drop_table("harvest_runs")
    op.drop_table("sources")
    op.drop_table("data_version")
    op.execute(sa.schema.DropSequence(sa.Sequence("change_seq")))
