"""Duty-aware assignment and the working-day calendar's local overrides.

- `calendar_overrides`: dates whose working-day status the district sets itself,
  over China's official calendar (the `chinesecalendar` package).
- `workers.substitute_id`: who takes an off-duty worker's new cases (顶岗).
- `incidents.assignment_reason`: why the assignee has the case (responsible,
  substitute, nearest_on_duty, none, dispatcher); NULL for cases written before the rule.

Revision ID: 0010
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = "('responsible', 'substitute', 'nearest_on_duty', 'none', 'dispatcher')"


def upgrade() -> None:
    op.create_table(
        "calendar_overrides",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_working_day", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_overrides")),
    )
    op.add_column("workers", sa.Column("substitute_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_workers_substitute_id_workers"),
        "workers",
        "workers",
        ["substitute_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_check_constraint(
        op.f("ck_workers_substitute"), "workers", "substitute_id IS NULL OR substitute_id <> id"
    )
    op.add_column("incidents", sa.Column("assignment_reason", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_incidents_assignment_reason"),
        "incidents",
        f"assignment_reason IS NULL OR assignment_reason IN {REASONS}",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_incidents_assignment_reason"), "incidents", type_="check")
    op.drop_column("incidents", "assignment_reason")
    op.drop_constraint(op.f("ck_workers_substitute"), "workers", type_="check")
    op.drop_constraint(op.f("fk_workers_substitute_id_workers"), "workers", type_="foreignkey")
    op.drop_column("workers", "substitute_id")
    op.drop_table("calendar_overrides")
