"""Join the third round of parallel branches on top of 0023 into one head.

The planners' editor's draft versions (0025), the address-change notices of
the geocoder (0026), the sweep's warn-due index (0028) and the layer versions
of the tile cache (0029) touch different tables; no operations needed.

Revision ID: 0030
Revises: 0025_planning_editor, 0026_base_data_round3, 0028_safety_round3, 0029
"""

from collections.abc import Sequence

revision: str = "0030"
down_revision: str | Sequence[str] | None = (
    "0025_planning_editor",
    "0026_base_data_round3",
    "0028_safety_round3",
    "0029",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
