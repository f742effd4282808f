"""Field collection (采集) of the base data: versioned changes by grid workers, household visits.

A grid worker's change of a record of their own cell is kept as a version in
`base_changes` (source `grid_collection`, the worker, the app clock's time),
applied at once or held for the community's review; `household_visits` is the
入户走访 log per dwelling.  Units get a `status` (a shop opens and closes).

Revision ID: 0021
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "'dwelling_use', 'moved_in', 'moved_out', 'unit_opened', 'unit_closed', 'address_plate'"
STATUSES = "'applied', 'pending', 'rejected'"


def _changes() -> None:
    op.create_table(
        "base_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("cell_code", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "entity IN ('dwellings', 'persons', 'units', 'addresses')",
            name=op.f("ck_base_changes_entity"),
        ),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_base_changes_kind")),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_base_changes_status")),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_base_changes_source_id_sources")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["workers.id"],
            name=op.f("fk_base_changes_worker_id_workers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_base_changes")),
    )
    op.create_index("ix_base_changes_entity", "base_changes", ["entity", "entity_id", "version"])
    op.create_index(op.f("ix_base_changes_status"), "base_changes", ["status"])
    op.create_index(op.f("ix_base_changes_worker_id"), "base_changes", ["worker_id"])


def _visits() -> None:
    op.create_table(
        "household_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dwelling_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("checked", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("residents_seen", sa.SmallInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "residents_seen IS NULL OR residents_seen >= 0",
            name=op.f("ck_household_visits_residents_seen"),
        ),
        sa.ForeignKeyConstraint(
            ["dwelling_id"],
            ["dwellings.id"],
            name=op.f("fk_household_visits_dwelling_id_dwellings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["workers.id"],
            name=op.f("fk_household_visits_worker_id_workers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_visits")),
    )
    op.create_index(
        "ix_household_visits_dwelling", "household_visits", ["dwelling_id", "visited_on"]
    )


def upgrade() -> None:
    _changes()
    _visits()
    op.add_column("units", sa.Column("status", sa.Text(), server_default="open", nullable=False))
    op.create_check_constraint(op.f("ck_units_status"), "units", "status IN ('open', 'closed')")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_units_status"), "units", type_="check")
    op.drop_column("units", "status")
    op.drop_table("household_visits")
    op.drop_table("base_changes")
