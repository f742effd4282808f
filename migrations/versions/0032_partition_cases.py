"""Range-partition `incidents` (by `created_at`) and `incident_events` (by `at`) by month.

A partitioned table's primary key and unique indexes must contain the partition
key, so `incidents` gets PRIMARY KEY (id, created_at) and can no longer be the
target of `REFERENCES incidents(id)`.  The global identity of a case moves to a
small unpartitioned side table, `incident_keys` (id PRIMARY KEY, created_at,
external_id UNIQUE, access_token_hash UNIQUE), kept in step with `incidents` by
triggers: every table that referenced `incidents(id)` references
`incident_keys(id)` instead (same ON DELETE), and the uniqueness of the external
id and of the case token holds across all months (docs/storage.md says why this
design and not the alternatives).

The conversion copies every row into the new tables inside the migration's
transaction (ACCESS EXCLUSIVE on both tables for its duration): monthly
partitions from the oldest row's month to three months ahead, plus a DEFAULT
partition so an insert never fails for want of a partition
(`wangge db partitions create-ahead` moves rows out of it).  The downgrade
copies the rows back into plain tables with the old keys and constraints.

Revision ID: 0032
Revises: 0031_layer_changes
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0032"
down_revision: str | Sequence[str] | None = "0031_layer_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {"incidents": "created_at", "incident_events": "at"}
UNIQUE_ON_INCIDENTS = ("external_id", "access_token_hash")

KEYS_TABLE = """
CREATE TABLE incident_keys (
  id bigint NOT NULL,
  created_at timestamptz NOT NULL,
  external_id text,
  access_token_hash varchar(64),
  CONSTRAINT pk_incident_keys PRIMARY KEY (id)
);
CREATE UNIQUE INDEX uq_incident_keys_external_id ON incident_keys (external_id)
  WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX uq_incident_keys_access_token_hash ON incident_keys (access_token_hash)
  WHERE access_token_hash IS NOT NULL;
"""

KEY_FUNCTIONS = """
CREATE FUNCTION wangge_incident_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO incident_keys (id, created_at, external_id, access_token_hash)
  SELECT id, created_at, external_id, access_token_hash FROM new_rows;
  RETURN NULL;
END $$;
CREATE FUNCTION wangge_incident_keys_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM incident_keys k USING old_rows o WHERE k.id = o.id;
  RETURN NULL;
END $$;
CREATE FUNCTION wangge_incident_keys_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id <> OLD.id THEN
    RAISE EXCEPTION 'the id of a case never changes (case %)', OLD.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  -- created_at is never updated by the service (it would move the row to another
  -- partition); a test fixture that backdates a case still keeps the keys in step
  UPDATE incident_keys SET created_at = NEW.created_at, external_id = NEW.external_id,
    access_token_hash = NEW.access_token_hash WHERE id = NEW.id;
  RETURN NULL;
END $$;
"""

KEY_TRIGGERS = (
    "CREATE TRIGGER incidents_keys_insert AFTER INSERT ON incidents"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
    " EXECUTE FUNCTION wangge_incident_keys_insert()",
    "CREATE TRIGGER incidents_keys_delete AFTER DELETE ON incidents"
    " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT"
    " EXECUTE FUNCTION wangge_incident_keys_delete()",
    "CREATE TRIGGER incidents_keys_update"
    " AFTER UPDATE OF id, created_at, external_id, access_token_hash ON incidents"
    " FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id"
    " OR OLD.created_at IS DISTINCT FROM NEW.created_at"
    " OR OLD.external_id IS DISTINCT FROM NEW.external_id"
    " OR OLD.access_token_hash IS DISTINCT FROM NEW.access_token_hash)"
    " EXECUTE FUNCTION wangge_incident_keys_update()",
    # the import skips row triggers (session_replication_role = replica): keys still follow
    "ALTER TABLE incidents ENABLE ALWAYS TRIGGER incidents_keys_insert",
    "ALTER TABLE incidents ENABLE ALWAYS TRIGGER incidents_keys_delete",
)


def _rows(sql: str, **params):
    return op.get_bind().execute(text(sql), params).all()


def _shape(table: str) -> tuple[list, list, list]:
    """(index name, definition, unique), (fk name, definition), trigger definitions."""
    indexes = _rows(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisunique FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid LEFT JOIN pg_constraint k"
        " ON k.conindid = i.indexrelid AND k.contype = 'p'"
        " WHERE i.indrelid = CAST(:t AS regclass) AND k.oid IS NULL ORDER BY 1",
        t=table,
    )
    fks = _rows(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' AND conparentid = 0"
        " ORDER BY 1",
        t=table,
    )
    triggers = _rows(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass)"
        " AND NOT tgisinternal AND tgparentid = 0 AND tgname NOT LIKE 'incidents_keys_%'"
        " ORDER BY tgname",
        t=table,
    )
    return list(indexes), list(fks), [r[0] for r in triggers]


def _referencing(target: str) -> list:
    """(table, constraint, column, ON DELETE action) of every FK that references `target`."""
    return list(
        _rows(
            "SELECT c.conrelid::regclass::text, c.conname, a.attname, c.confdeltype"
            " FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid"
            " AND a.attnum = c.conkey[1] WHERE c.contype = 'f' AND c.conparentid = 0"
            " AND c.confrelid = CAST(:t AS regclass) ORDER BY 1",
            t=target,
        )
    )


_ON_DELETE = {
    "c": "CASCADE",
    "n": "SET NULL",
    "a": "NO ACTION",
    "r": "RESTRICT",
    "d": "SET DEFAULT",
}


def _repoint(refs: list, target: str) -> None:
    """Move the FKs `refs` (from `_referencing`) onto `target`(id), named by the convention."""
    for table, name, _column, _action in refs:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table, _name, column, action in refs:
        op.execute(
            f'ALTER TABLE {table} ADD CONSTRAINT "fk_{table}_{column}_{target}"'
            f" FOREIGN KEY ({column}) REFERENCES {target}(id) ON DELETE {_ON_DELETE[action]}"
            # checked at commit: a statement trigger writes incident_keys after the checks of
            # the same statement (intake writes a case and its idempotency key in one)
            " DEFERRABLE INITIALLY DEFERRED"
        )


def _month_bounds(table: str, key: str) -> list:
    """First days of the months from the oldest row's to three months after today's."""
    start = "date_trunc('month', least(min(k), now()) AT TIME ZONE 'UTC')"
    end = "date_trunc('month', greatest(max(k), now()) AT TIME ZONE 'UTC') + interval '3 months'"
    rows = f"SELECT {key} AS k FROM {table}_unpartitioned"  # noqa: S608 - fixed names
    sql = f"SELECT generate_series({start}, {end}, interval '1 month') FROM ({rows}) s"  # noqa: S608
    return [r[0] for r in _rows(sql)]


def _next(month):
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


def _to_partitioned(table: str, key: str) -> None:
    indexes, fks, triggers = _shape(table)
    op.execute(f"ALTER TABLE {table} RENAME TO {table}_unpartitioned")
    op.execute(f"ALTER TABLE {table}_unpartitioned RENAME CONSTRAINT pk_{table} TO pk_{table}_old")
    for name, _definition, _unique in indexes:
        op.execute(f'ALTER INDEX "{name}" RENAME TO "{name}_old"')
    op.execute(
        f"CREATE TABLE {table} (LIKE {table}_unpartitioned INCLUDING DEFAULTS"
        f" INCLUDING CONSTRAINTS INCLUDING STORAGE) PARTITION BY RANGE ({key})"
    )
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id, {key})")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    for month in _month_bounds(table, key):
        op.execute(
            f"CREATE TABLE {table}_p{month:%Y%m} PARTITION OF {table} FOR VALUES"
            f" FROM ('{month:%Y-%m-%d} 00:00+00') TO ('{_next(month):%Y-%m-%d} 00:00+00')"
        )
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    op.execute(f"INSERT INTO {table} SELECT * FROM {table}_unpartitioned")  # noqa: S608
    for _name, definition, _unique in indexes:  # unique ones: global in incident_keys
        op.execute(definition.replace("CREATE UNIQUE INDEX", "CREATE INDEX", 1))
    for name, definition in fks:
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    op.execute(f"DROP TABLE {table}_unpartitioned")
    for definition in triggers:
        op.execute(definition)
    op.execute(f"ANALYZE {table}")


def _to_plain(table: str, key: str) -> None:
    indexes, fks, triggers = _shape(table)
    op.execute(f"ALTER TABLE {table} RENAME TO {table}_partitioned")
    op.execute(f"ALTER TABLE {table}_partitioned RENAME CONSTRAINT pk_{table} TO pk_{table}_old")
    for name, _definition, _unique in indexes:
        op.execute(f'ALTER INDEX "{name}" RENAME TO "{name}_old"')
    op.execute(
        f"CREATE TABLE {table} (LIKE {table}_partitioned INCLUDING DEFAULTS"
        f" INCLUDING CONSTRAINTS INCLUDING STORAGE)"
    )
    op.execute(f"INSERT INTO {table} SELECT * FROM {table}_partitioned")  # noqa: S608
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id)")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    for name, definition, _unique in indexes:
        definition = definition.replace(" ON ONLY ", " ON ", 1)
        if table == "incidents" and name.startswith("uq_incidents_"):
            definition = definition.replace("CREATE INDEX", "CREATE UNIQUE INDEX", 1)
        op.execute(definition)
    for name, definition in fks:
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    op.execute(f"DROP TABLE {table}_partitioned")
    for definition in triggers:
        op.execute(definition)
    op.execute(f"ANALYZE {table}")


def upgrade() -> None:
    op.execute(KEYS_TABLE)
    op.execute(
        "INSERT INTO incident_keys (id, created_at, external_id, access_token_hash)"
        " SELECT id, created_at, external_id, access_token_hash FROM incidents"
    )
    _repoint(_referencing("incidents"), "incident_keys")
    for table, key in TABLES.items():
        _to_partitioned(table, key)
    op.execute(KEY_FUNCTIONS)
    for statement in KEY_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for statement in (
        "DROP TRIGGER incidents_keys_insert ON incidents",
        "DROP TRIGGER incidents_keys_delete ON incidents",
        "DROP TRIGGER incidents_keys_update ON incidents",
        "DROP FUNCTION wangge_incident_keys_insert()",
        "DROP FUNCTION wangge_incident_keys_delete()",
        "DROP FUNCTION wangge_incident_keys_update()",
    ):
        op.execute(statement)
    refs = _referencing("incident_keys")
    for table, name, _column, _action in refs:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table, key in TABLES.items():
        _to_plain(table, key)
    for table, _name, column, action in refs:
        op.execute(
            f'ALTER TABLE {table} ADD CONSTRAINT "fk_{table}_{column}_incidents"'
            f" FOREIGN KEY ({column}) REFERENCES incidents(id) ON DELETE {_ON_DELETE[action]}"
        )
    op.execute("DROP TABLE incident_keys")
