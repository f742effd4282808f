"""What the server's least-privilege role cannot do itself: refresh the drafts' statistics.

The server connects as a role without DDL rights (`layers.store.service_role`); only a
table's owner may ANALYZE it, and a planner's draft is bulk-written just before
it is validated, so its statistics must be fresh.  A SECURITY DEFINER function
owned by the migrating owner analyses that one table on the server's behalf.
The role's grants are not here: they name a deployment's role, so `wangge
migrate` makes them after every upgrade (default privileges cover later tables).

Revision ID: 0011
Revises: 0012
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION analyze_grid_draft_cells() RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
        AS $$ BEGIN ANALYZE grid_draft_cells; END $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION analyze_grid_draft_cells()")
