"""Appointments get a channel: booked online by the resident, or a walk-in registered at the window.

The online-share KPI counted every appointment as online; a station taking a
walk-in into a slot is an offline matter and must count as one.  Existing rows
were all booked online, hence the default.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "appointments",
        sa.Column("channel", sa.Text(), nullable=False, server_default="online"),
    )
    op.create_check_constraint(
        op.f("ck_appointments_channel"), "appointments", "channel IN ('online', 'walk_in')"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_appointments_channel"), "appointments", type_="check")
    op.drop_column("appointments", "channel")
