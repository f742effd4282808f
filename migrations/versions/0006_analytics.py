"""Caches of derived layers: camera views (occluded by buildings) and analytics results.

Both are recomputed when their inputs change (`inputs_key` is a digest of the input
rows); camera views cascade with their camera, so the demo's `--replace` clears them.

Revision ID: 0006
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "camera_views",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("inputs_key", sa.Text(), nullable=False),
        sa.Column(
            "sector",
            Geometry(geometry_type="POLYGON", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column(
            "visible",
            Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column("sector_area_m2", sa.Float(), nullable=False),
        sa.Column("visible_area_m2", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_views_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_views")),
    )
    op.create_table(
        "derived_cache",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("params_key", sa.Text(), nullable=False),
        sa.Column("inputs_key", sa.Text(), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("kind", "params_key", name=op.f("pk_derived_cache")),
    )


def downgrade() -> None:
    op.drop_table("derived_cache")
    op.drop_table("camera_views")
