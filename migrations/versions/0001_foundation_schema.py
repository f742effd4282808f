"""Foundation schema: admin areas, the grid, courtyards, cameras, cases, keys, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 23:22:56.944186
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # PostGIS first: every geometry column below needs it.
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"], unique=False)
    op.create_table(
        "categories",
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("major_code", sa.String(length=2), nullable=False),
        sa.Column("major_name", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("domain", sa.Text(), nullable=False),
        sa.Column("default_urgency", sa.Text(), server_default="normal", nullable=False),
        sa.CheckConstraint("code ~ '^[0-9]{4}$'", name=op.f("ck_categories_code_shape")),
        sa.CheckConstraint(
            "default_urgency IN ('urgent', 'normal')", name=op.f("ck_categories_urgency")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_categories")),
    )
    op.create_table(
        "channels",
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_channels")),
    )
    op.create_geospatial_table(
        "districts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_districts_geom_valid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_districts")),
        sa.UniqueConstraint("code", name=op.f("uq_districts_code")),
    )
    op.create_geospatial_index(
        "ix_districts_geom",
        "districts",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "grid_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="draft", nullable=False),
        sa.Column("scope", sa.Text(), server_default="district", nullable=False),
        sa.Column("scope_code", sa.String(length=12), nullable=True),
        sa.CheckConstraint(
            "scope IN ('district', 'street', 'community')", name=op.f("ck_grid_revisions_scope")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'discarded')", name=op.f("ck_grid_revisions_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_revisions")),
    )
    op.create_geospatial_table(
        "streets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_streets_geom_valid")),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_streets_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_streets")),
        sa.UniqueConstraint("code", name=op.f("uq_streets_code")),
    )
    op.create_index(op.f("ix_streets_district_id"), "streets", ["district_id"], unique=False)
    op.create_geospatial_index(
        "ix_streets_geom",
        "streets",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "time_limits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=4), nullable=False),
        sa.Column("urgency", sa.Text(), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("clock", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "clock IN ('continuous', 'working_hours', 'working_days', 'calendar_days')",
            name=op.f("ck_time_limits_clock"),
        ),
        sa.CheckConstraint(
            "step IN ('accept', 'dispatch', 'sign', 'handle', 'check')",
            name=op.f("ck_time_limits_step"),
        ),
        sa.CheckConstraint("urgency IN ('urgent', 'normal')", name=op.f("ck_time_limits_urgency")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_time_limits_amount")),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["categories.code"],
            name=op.f("fk_time_limits_category_code_categories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_limits")),
        sa.UniqueConstraint(
            "category_code",
            "urgency",
            "step",
            name=op.f("uq_time_limits_category_code_urgency_step"),
        ),
    )
    op.create_geospatial_table(
        "communities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("street_id", sa.Integer(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_communities_geom_valid")),
        sa.ForeignKeyConstraint(
            ["street_id"], ["streets.id"], name=op.f("fk_communities_street_id_streets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
        sa.UniqueConstraint("code", name=op.f("uq_communities_code")),
    )
    op.create_geospatial_index(
        "ix_communities_geom",
        "communities",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_communities_street_id"), "communities", ["street_id"], unique=False)
    op.create_geospatial_table(
        "courtyards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("households", sa.Integer(), server_default="0", nullable=False),
        sa.Column("residents", sa.Integer(), server_default="0", nullable=False),
        sa.Column("has_gatekeeper", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("has_property_management", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("has_owners_committee", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "is_three_nos",
            sa.Boolean(),
            sa.Computed(
                "NOT (has_gatekeeper OR has_property_management OR has_owners_committee)",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "entrances",
            Geometry(
                geometry_type="MULTIPOINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_courtyards_geom_valid")),
        sa.CheckConstraint(
            "entrances IS NULL OR ST_IsValid(entrances)", name=op.f("ck_courtyards_entrances_valid")
        ),
        sa.CheckConstraint("households >= 0 AND residents >= 0", name=op.f("ck_courtyards_counts")),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_courtyards_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courtyards")),
        sa.UniqueConstraint("code", name=op.f("uq_courtyards_code")),
    )
    op.create_index(
        op.f("ix_courtyards_community_id"), "courtyards", ["community_id"], unique=False
    )
    op.create_geospatial_index(
        "ix_courtyards_entrances",
        "courtyards",
        ["entrances"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "ix_courtyards_geom",
        "courtyards",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "grid_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=21), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("households", sa.Integer(), server_default="0", nullable=False),
        sa.Column("population", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "code ~ '^[0-9]+$' AND length(code) = 12 + 3 * level",
            name=op.f("ck_grid_cells_code_shape"),
        ),
        sa.CheckConstraint(
            "(level = 1) = (parent_id IS NULL)", name=op.f("ck_grid_cells_parent_by_level")
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_grid_cells_geom_valid")),
        sa.CheckConstraint(
            "households >= 0 AND population >= 0", name=op.f("ck_grid_cells_counts")
        ),
        sa.CheckConstraint("level BETWEEN 1 AND 3", name=op.f("ck_grid_cells_level")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_grid_cells_validity")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_grid_cells_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["grid_cells.id"], name=op.f("fk_grid_cells_parent_id_grid_cells")
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["grid_revisions.id"],
            name=op.f("fk_grid_cells_revision_id_grid_revisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_cells")),
    )
    op.create_index(
        op.f("ix_grid_cells_community_id"), "grid_cells", ["community_id"], unique=False
    )
    op.create_geospatial_index(
        "ix_grid_cells_geom",
        "grid_cells",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_grid_cells_parent_id"), "grid_cells", ["parent_id"], unique=False)
    op.create_index(op.f("ix_grid_cells_revision_id"), "grid_cells", ["revision_id"], unique=False)
    op.create_index(
        "ix_grid_cells_validity", "grid_cells", ["valid_from", "valid_to"], unique=False
    )
    op.create_index(
        "uq_grid_cells_live_code",
        "grid_cells",
        ["code"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_geospatial_table(
        "service_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("opening_hours", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('service_station', 'liaison_post', 'appointment_point', 'police', 'clinic', 'school', 'elderly_care', 'legal_aid', 'volunteer_post')",
            name=op.f("ck_service_points_kind"),
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_service_points_geom_valid")),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_service_points_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_points")),
        sa.UniqueConstraint("code", name=op.f("uq_service_points_code")),
    )
    op.create_index(
        op.f("ix_service_points_community_id"), "service_points", ["community_id"], unique=False
    )
    op.create_geospatial_index(
        "ix_service_points_geom",
        "service_points",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_service_points_kind"), "service_points", ["kind"], unique=False)
    op.create_geospatial_table(
        "workers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("cell_code", sa.String(length=21), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("on_duty", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("position_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.CheckConstraint("geom IS NULL OR ST_IsValid(geom)", name=op.f("ck_workers_geom_valid")),
        sa.CheckConstraint("level BETWEEN 1 AND 3", name=op.f("ck_workers_level")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_workers_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
        sa.UniqueConstraint("code", name=op.f("uq_workers_code")),
    )
    op.create_index(op.f("ix_workers_cell_code"), "workers", ["cell_code"], unique=False)
    op.create_index(op.f("ix_workers_community_id"), "workers", ["community_id"], unique=False)
    op.create_geospatial_index(
        "ix_workers_geom",
        "workers",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=12), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('resident', 'grid_worker', 'dispatcher', 'planner', 'admin')",
            name=op.f("ck_api_keys_role"),
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["workers.id"],
            name=op.f("fk_api_keys_worker_id_workers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_geospatial_table(
        "buildings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("courtyard_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("floors", sa.SmallInteger(), nullable=True),
        sa.Column("height_m", sa.Float(), nullable=True),
        sa.Column("households", sa.Integer(), server_default="0", nullable=False),
        sa.Column("population", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_buildings_geom_valid")),
        sa.CheckConstraint("floors IS NULL OR floors > 0", name=op.f("ck_buildings_floors")),
        sa.CheckConstraint("height_m IS NULL OR height_m > 0", name=op.f("ck_buildings_height")),
        sa.CheckConstraint("households >= 0 AND population >= 0", name=op.f("ck_buildings_counts")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_buildings_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["courtyard_id"],
            ["courtyards.id"],
            name=op.f("fk_buildings_courtyard_id_courtyards"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buildings")),
        sa.UniqueConstraint("code", name=op.f("uq_buildings_code")),
    )
    op.create_index(op.f("ix_buildings_community_id"), "buildings", ["community_id"], unique=False)
    op.create_index(op.f("ix_buildings_courtyard_id"), "buildings", ["courtyard_id"], unique=False)
    op.create_geospatial_index(
        "ix_buildings_geom",
        "buildings",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "cameras",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("mount_height_m", sa.Float(), nullable=False),
        sa.Column("azimuth_deg", sa.Float(), nullable=False),
        sa.Column("hfov_deg", sa.Float(), nullable=False),
        sa.Column("range_m", sa.Float(), nullable=False),
        sa.Column("online", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("courtyard_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("device_id ~ '^[0-9]{20}$'", name=op.f("ck_cameras_device_id_shape")),
        sa.CheckConstraint(
            "level IN ('district', 'street', 'community', 'courtyard')",
            name=op.f("ck_cameras_level"),
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_cameras_geom_valid")),
        sa.CheckConstraint(
            "azimuth_deg >= 0 AND azimuth_deg < 360", name=op.f("ck_cameras_azimuth")
        ),
        sa.CheckConstraint("hfov_deg > 0 AND hfov_deg <= 360", name=op.f("ck_cameras_hfov")),
        sa.CheckConstraint(
            "mount_height_m > 0 AND mount_height_m <= 100", name=op.f("ck_cameras_height")
        ),
        sa.CheckConstraint("range_m > 0 AND range_m <= 1000", name=op.f("ck_cameras_range")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_cameras_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["courtyard_id"],
            ["courtyards.id"],
            name=op.f("fk_cameras_courtyard_id_courtyards"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameras")),
        sa.UniqueConstraint("device_id", name=op.f("uq_cameras_device_id")),
    )
    op.create_index(op.f("ix_cameras_community_id"), "cameras", ["community_id"], unique=False)
    op.create_index(op.f("ix_cameras_courtyard_id"), "cameras", ["courtyard_id"], unique=False)
    op.create_geospatial_index(
        "ix_cameras_geom",
        "cameras",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "incidents",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("category_code", sa.String(length=4), nullable=False),
        sa.Column("channel_code", sa.String(length=24), nullable=False),
        sa.Column("status", sa.Text(), server_default="reported", nullable=False),
        sa.Column("urgency", sa.Text(), server_default="normal", nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("reporter_name", sa.Text(), nullable=True),
        sa.Column("reporter_phone", sa.String(length=32), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("reported_crs", sa.Text(), server_default="wgs84", nullable=False),
        sa.Column("reported_lon", sa.Float(), nullable=True),
        sa.Column("reported_lat", sa.Float(), nullable=True),
        sa.Column("revision_id", sa.Integer(), nullable=True),
        sa.Column("l1_cell_id", sa.Integer(), nullable=True),
        sa.Column("l2_cell_id", sa.Integer(), nullable=True),
        sa.Column("l3_cell_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("street_id", sa.Integer(), nullable=True),
        sa.Column("locate_method", sa.Text(), nullable=True),
        sa.Column("assignee_worker_id", sa.Integer(), nullable=True),
        sa.Column("handling_level", sa.Text(), server_default="grid", nullable=False),
        sa.Column("escalation_count", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "deadlines",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "handling_level IN ('grid', 'community', 'street', 'district')",
            name=op.f("ck_incidents_handling_level"),
        ),
        sa.CheckConstraint(
            "locate_method IS NULL OR locate_method IN ('covers', 'nearest', 'community_fallback', 'street_fallback')",
            name=op.f("ck_incidents_locate_method"),
        ),
        sa.CheckConstraint(
            "reported_crs IN ('wgs84', 'cgcs2000', 'gcj02', 'bd09')",
            name=op.f("ck_incidents_reported_crs"),
        ),
        sa.CheckConstraint(
            "status IN ('reported', 'accepted', 'void', 'filed', 'dispatched', 'signed', 'in_progress', 'handled', 'checking', 'rework', 'returned', 'parked', 'self_handled', 'closed', 'evaluated')",
            name=op.f("ck_incidents_status"),
        ),
        sa.CheckConstraint("urgency IN ('urgent', 'normal')", name=op.f("ck_incidents_urgency")),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_incidents_geom_valid")),
        sa.ForeignKeyConstraint(
            ["assignee_worker_id"],
            ["workers.id"],
            name=op.f("fk_incidents_assignee_worker_id_workers"),
        ),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["categories.code"],
            name=op.f("fk_incidents_category_code_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_code"], ["channels.code"], name=op.f("fk_incidents_channel_code_channels")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_incidents_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["l1_cell_id"], ["grid_cells.id"], name=op.f("fk_incidents_l1_cell_id_grid_cells")
        ),
        sa.ForeignKeyConstraint(
            ["l2_cell_id"], ["grid_cells.id"], name=op.f("fk_incidents_l2_cell_id_grid_cells")
        ),
        sa.ForeignKeyConstraint(
            ["l3_cell_id"], ["grid_cells.id"], name=op.f("fk_incidents_l3_cell_id_grid_cells")
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["grid_revisions.id"],
            name=op.f("fk_incidents_revision_id_grid_revisions"),
        ),
        sa.ForeignKeyConstraint(
            ["street_id"], ["streets.id"], name=op.f("fk_incidents_street_id_streets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index(
        op.f("ix_incidents_assignee_worker_id"), "incidents", ["assignee_worker_id"], unique=False
    )
    op.create_index(
        "ix_incidents_category_created", "incidents", ["category_code", "created_at"], unique=False
    )
    op.create_index(op.f("ix_incidents_community_id"), "incidents", ["community_id"], unique=False)
    op.create_index("ix_incidents_created", "incidents", ["created_at"], unique=False)
    op.create_geospatial_index(
        "ix_incidents_geom",
        "incidents",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_incidents_l1_cell_id"), "incidents", ["l1_cell_id"], unique=False)
    op.create_index(op.f("ix_incidents_l2_cell_id"), "incidents", ["l2_cell_id"], unique=False)
    op.create_index(op.f("ix_incidents_l3_cell_id"), "incidents", ["l3_cell_id"], unique=False)
    op.create_index("ix_incidents_status_due", "incidents", ["status", "due_at"], unique=False)
    op.create_index(op.f("ix_incidents_street_id"), "incidents", ["street_id"], unique=False)
    op.create_index(
        "uq_incidents_external_id",
        "incidents",
        ["external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "incident_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("from_status", sa.Text(), nullable=True),
        sa.Column("to_status", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_events_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_events")),
    )
    op.create_index(
        "ix_incident_events_incident_at", "incident_events", ["incident_id", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_incident_events_incident_at", table_name="incident_events")
    op.drop_table("incident_events")
    op.drop_index(
        "uq_incidents_external_id",
        table_name="incidents",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_incidents_street_id"), table_name="incidents")
    op.drop_index("ix_incidents_status_due", table_name="incidents")
    op.drop_index(op.f("ix_incidents_l3_cell_id"), table_name="incidents")
    op.drop_index(op.f("ix_incidents_l2_cell_id"), table_name="incidents")
    op.drop_index(op.f("ix_incidents_l1_cell_id"), table_name="incidents")
    op.drop_geospatial_index(
        "ix_incidents_geom", table_name="incidents", postgresql_using="gist", column_name="geom"
    )
    op.drop_index("ix_incidents_created", table_name="incidents")
    op.drop_index(op.f("ix_incidents_community_id"), table_name="incidents")
    op.drop_index("ix_incidents_category_created", table_name="incidents")
    op.drop_index(op.f("ix_incidents_assignee_worker_id"), table_name="incidents")
    op.drop_geospatial_table("incidents")
    op.drop_geospatial_index(
        "ix_cameras_geom", table_name="cameras", postgresql_using="gist", column_name="geom"
    )
    op.drop_index(op.f("ix_cameras_courtyard_id"), table_name="cameras")
    op.drop_index(op.f("ix_cameras_community_id"), table_name="cameras")
    op.drop_geospatial_table("cameras")
    op.drop_geospatial_index(
        "ix_buildings_geom", table_name="buildings", postgresql_using="gist", column_name="geom"
    )
    op.drop_index(op.f("ix_buildings_courtyard_id"), table_name="buildings")
    op.drop_index(op.f("ix_buildings_community_id"), table_name="buildings")
    op.drop_geospatial_table("buildings")
    op.drop_table("api_keys")
    op.drop_geospatial_index(
        "ix_workers_geom", table_name="workers", postgresql_using="gist", column_name="geom"
    )
    op.drop_index(op.f("ix_workers_community_id"), table_name="workers")
    op.drop_index(op.f("ix_workers_cell_code"), table_name="workers")
    op.drop_geospatial_table("workers")
    op.drop_index(op.f("ix_service_points_kind"), table_name="service_points")
    op.drop_geospatial_index(
        "ix_service_points_geom",
        table_name="service_points",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_index(op.f("ix_service_points_community_id"), table_name="service_points")
    op.drop_geospatial_table("service_points")
    op.drop_index(
        "uq_grid_cells_live_code",
        table_name="grid_cells",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.drop_index("ix_grid_cells_validity", table_name="grid_cells")
    op.drop_index(op.f("ix_grid_cells_revision_id"), table_name="grid_cells")
    op.drop_index(op.f("ix_grid_cells_parent_id"), table_name="grid_cells")
    op.drop_geospatial_index(
        "ix_grid_cells_geom", table_name="grid_cells", postgresql_using="gist", column_name="geom"
    )
    op.drop_index(op.f("ix_grid_cells_community_id"), table_name="grid_cells")
    op.drop_geospatial_table("grid_cells")
    op.drop_geospatial_index(
        "ix_courtyards_geom", table_name="courtyards", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_index(
        "ix_courtyards_entrances",
        table_name="courtyards",
        postgresql_using="gist",
        column_name="entrances",
    )
    op.drop_index(op.f("ix_courtyards_community_id"), table_name="courtyards")
    op.drop_geospatial_table("courtyards")
    op.drop_index(op.f("ix_communities_street_id"), table_name="communities")
    op.drop_geospatial_index(
        "ix_communities_geom", table_name="communities", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("communities")
    op.drop_table("time_limits")
    op.drop_geospatial_index(
        "ix_streets_geom", table_name="streets", postgresql_using="gist", column_name="geom"
    )
    op.drop_index(op.f("ix_streets_district_id"), table_name="streets")
    op.drop_geospatial_table("streets")
    op.drop_table("grid_revisions")
    op.drop_geospatial_index(
        "ix_districts_geom", table_name="districts", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("districts")
    op.drop_table("channels")
    op.drop_table("categories")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_table("audit_log")
