"""The planners' editor: a draft carries a version (its ETag) and the time of its last edit.

Small edits from the browser editor and the whole-draft PUT both bump
`grid_revisions.version`; an edit names the version it saw (`If-Match`), so a
second planner saving over the first gets 412 instead of silently undoing them.
`updated_at` gives the age of a draft in the list of drafts.

Revision ID: 0025_planning_editor
Revises: 0023
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_planning_editor"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "grid_revisions",
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
    )
    op.add_column(
        "grid_revisions",
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("grid_revisions", "updated_at")
    op.drop_column("grid_revisions", "version")
