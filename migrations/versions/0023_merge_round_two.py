"""Join the second round of parallel branches on top of 0018 into one head.

Walk-in appointments (0019), one person's shifts across courtyards and notice
reads (0020), field collection and household visits (0021) and the board's
position notifications (0022) touch different tables; no operations needed.

Revision ID: 0023
Revises: 0019, 0020, 0021, 0022
"""

from collections.abc import Sequence

revision: str = "0023"
down_revision: str | Sequence[str] | None = ("0019", "0020", "0021", "0022")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
