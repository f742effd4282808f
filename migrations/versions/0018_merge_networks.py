"""Join the branches written in parallel on top of jobs (0012) into one head.

The three-level platform and departments (0013), courtyard self-governance
(0014), the public service network (0015), the base-data centre (0016) and the
case faces (0017) touch different tables, so the merge needs no operations.

Revision ID: 0018
Revises: 0013, 0014, 0015, 0016, 0017
"""

from collections.abc import Sequence

revision: str = "0018"
down_revision: str | Sequence[str] | None = ("0013", "0014", "0015", "0016", "0017")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
