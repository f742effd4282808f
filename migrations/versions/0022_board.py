"""The live board hears worker positions: NOTIFY on new `worker_positions` rows.

A statement-level trigger on `worker_positions` sends ``NOTIFY wangge_case_events, 'w'``
(one per statement, whatever the batch size; PostgreSQL folds equal payloads of a
transaction into one).  The case pages ignore a payload that is no case id; the
boards (`GET /board/stream`) wake on it and read the positions newer than their
last event id.  No new table.

Revision ID: 0022
Revises: 0018
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION wangge_notify_positions() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('wangge_case_events', 'w');
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER worker_positions_notify AFTER INSERT ON worker_positions"
        " FOR EACH STATEMENT EXECUTE FUNCTION wangge_notify_positions()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS worker_positions_notify ON worker_positions")
    op.execute("DROP FUNCTION IF EXISTS wangge_notify_positions()")
