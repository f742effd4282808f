"""Join the branches of cases (0003), planning (0005) and analytics (0006) into one head.

They were written in parallel on top of the reference data (0002) and touch
different tables, so the merge needs no operations of its own.

Revision ID: 0007
Revises: 0003, 0005, 0006
"""

from collections.abc import Sequence

revision: str = "0007"
down_revision: str | Sequence[str] | None = ("0003", "0005", "0006")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
