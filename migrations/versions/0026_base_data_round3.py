"""Address changes are announced: a NOTIFY on `wangge_addresses_changed` per statement.

Each server keeps the standard addresses in memory for `GET /geocode`; while it
LISTENs on this channel it trusts that copy without asking the database per
request (one version query less on the hot path), and re-checks on a notice.

Revision ID: 0026_base_data_round3
Revises: 0023
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026_base_data_round3"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("addresses", "road_aliases")


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION wangge_addresses_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('wangge_addresses_changed', TG_TABLE_NAME);
          RETURN NULL;
        END $$
        """
    )
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER trg_{table}_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
            f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION wangge_addresses_changed()"
        )


def downgrade() -> None:
    for table in _TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_announce ON {table}")
    op.execute("DROP FUNCTION IF EXISTS wangge_addresses_changed()")
