"""Planning: draft cells of grid revisions and the base a draft was taken from.

Revision ID: 0005
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "grid_revisions", sa.Column("base_cell_ids", sa.ARRAY(sa.Integer()), nullable=True)
    )
    op.create_geospatial_table(
        "grid_draft_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("parent_code", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["grid_revisions.id"],
            name=op.f("fk_grid_draft_cells_revision_id_grid_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_draft_cells")),
    )
    op.create_index(
        "ix_grid_draft_cells_revision_code", "grid_draft_cells", ["revision_id", "code"]
    )
    op.create_geospatial_index(
        "ix_grid_draft_cells_geom",
        "grid_draft_cells",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )


def downgrade() -> None:
    op.drop_geospatial_index(
        "ix_grid_draft_cells_geom",
        table_name="grid_draft_cells",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_index("ix_grid_draft_cells_revision_code", table_name="grid_draft_cells")
    op.drop_geospatial_table("grid_draft_cells")
    op.drop_column("grid_revisions", "base_cell_ids")
