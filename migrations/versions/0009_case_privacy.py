"""Case privacy: which categories and channels are public, which need a call-back.

`categories.public` decides whether anonymous Open311 callers see a category's
cases at all (FixMyStreet's practice: disputes, security, personal matters and
petitions are never published); `channels.public` lets a channel hide every
case it brings in whatever its category (letters and visits, mediation).
`categories.needs_callback` marks the categories whose assigned grid worker must
phone the reporter back, so only they (besides dispatchers and admins) see the
reporter's name and phone in clear.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLIC_MAJORS = ("01", "02", "03", "04", "05")
"""The digital city-management classes: things in the street anyone can see."""
CALLBACK_MAJORS = ("10", "12")
"""Disputes (矛盾纠纷) and livelihood services (民生服务) need the reporter on the phone."""
PRIVATE_CHANNELS = ("petition", "mediation")
"""信访 and 大调解: what comes in through them is never published."""


def upgrade() -> None:
    op.add_column(
        "categories",
        sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "categories",
        sa.Column("needs_callback", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "channels",
        sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.execute(
        sa.text("UPDATE categories SET public = major_code = ANY(:m)").bindparams(
            m=list(PUBLIC_MAJORS)
        )
    )
    op.execute(
        sa.text("UPDATE categories SET needs_callback = major_code = ANY(:m)").bindparams(
            m=list(CALLBACK_MAJORS)
        )
    )
    op.execute(
        sa.text("UPDATE channels SET public = false WHERE code = ANY(:c)").bindparams(
            c=list(PRIVATE_CHANNELS)
        )
    )


def downgrade() -> None:
    op.drop_column("channels", "public")
    op.drop_column("categories", "needs_callback")
    op.drop_column("categories", "public")
