"""`incident_keys.open`: which cases are open, so the dispatch queue can prune months.

The dispatch queue asks for open cases and has no time bound of its own, so it
read every monthly partition of `incidents`.  A case's openness now lives beside
its keys, maintained in the same transaction as every status change (the keys'
insert trigger and a row trigger on `status`), with a partial index on the open
cases' `created_at`.  `min(created_at) WHERE open` is then a bound true of every
open case in the reader's own snapshot — no race with a writer that opens or
closes a case — and the queue adds it, so PostgreSQL prunes the months before
the oldest open case when it runs the query.

Open = not void, closed or evaluated (`layers.core.case_states.OPEN_STATUSES`;
a test checks the function below says the same).

Revision ID: 0033_open_case_horizon
Revises: 0032
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0033_open_case_horizon"
down_revision: str | Sequence[str] | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = """
CREATE FUNCTION wangge_case_is_open(status text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN status NOT IN ('void', 'closed', 'evaluated');
CREATE OR REPLACE FUNCTION wangge_incident_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO incident_keys (id, created_at, external_id, access_token_hash, open)
  SELECT id, created_at, external_id, access_token_hash, wangge_case_is_open(status)
  FROM new_rows;
  RETURN NULL;
END $$;
CREATE FUNCTION wangge_incident_keys_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE incident_keys SET open = wangge_case_is_open(NEW.status) WHERE id = NEW.id;
  RETURN NULL;
END $$;
"""

OLD_INSERT = """
CREATE OR REPLACE FUNCTION wangge_incident_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO incident_keys (id, created_at, external_id, access_token_hash)
  SELECT id, created_at, external_id, access_token_hash FROM new_rows;
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute("ALTER TABLE incident_keys ADD COLUMN open boolean NOT NULL DEFAULT false")
    op.execute(FUNCTIONS)
    op.execute(
        "UPDATE incident_keys k SET open = true FROM incidents i"
        " WHERE i.id = k.id AND wangge_case_is_open(i.status)"
    )
    op.execute(
        "CREATE INDEX ix_incident_keys_open_created ON incident_keys (created_at) WHERE open"
    )
    op.execute(
        "CREATE TRIGGER incidents_keys_open AFTER UPDATE OF status ON incidents FOR EACH ROW"
        " WHEN (wangge_case_is_open(OLD.status) IS DISTINCT FROM wangge_case_is_open(NEW.status))"
        " EXECUTE FUNCTION wangge_incident_keys_open()"
    )
    # a bulk job under session_replication_role = replica still keeps the flag
    op.execute("ALTER TABLE incidents ENABLE ALWAYS TRIGGER incidents_keys_open")
    op.execute("ANALYZE incident_keys")


def downgrade() -> None:
    op.execute("DROP TRIGGER incidents_keys_open ON incidents")
    op.execute("DROP FUNCTION wangge_incident_keys_open()")
    op.execute(OLD_INSERT)
    op.execute("DROP FUNCTION wangge_case_is_open(text)")
    op.execute("ALTER TABLE incident_keys DROP COLUMN open")
