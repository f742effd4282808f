"""Where each layer version changed: `layer_changes`, written by the triggers that bump it.

Why: the tile cache used to drop every kept tile of a layer on any write to it,
so one moved cell boundary made the whole district render again.  With the
extent of each write (old and new geometries of the rows touched, in WGS-84,
as the tiles pick their rows), a kept tile made at version v is still right at
v' when no change in (v, v'] meets its buffered envelope.

The statement-level triggers of 0029 are replaced by one per event, because a
trigger with transition tables may have only one event: INSERT (new rows),
UPDATE (old and new rows), DELETE (old rows) each record the `ST_Extent` of the
rows' `geom`; TRUNCATE, a table without geometry (`grid_revisions`) or rows
whose geometries are all NULL record a NULL extent, which means "the whole
layer".  A statement that touched no row changes nothing: no bump, no entry.
Each table keeps its last `KEEP` entries (pruned by the same trigger, by
version number, so no clock is involved); a tile older than the oldest kept
entry is rendered again (the reader sees fewer entries than versions).

Revision ID: 0031_layer_changes
Revises: 0030
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031_layer_changes"
down_revision: str | Sequence[str] | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GEOMETRY_TABLES = (
    "streets",
    "communities",
    "grid_cells",
    "courtyards",
    "buildings",
    "service_points",
    "cameras",
    "addresses",
    "units",
)
PLAIN_TABLES = ("grid_revisions",)
KEEP = 1000
"""Entries kept per table: a process whose kept tile is older renders it again."""

FUNCTION = f"""
CREATE FUNCTION wangge_layer_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  touched bigint := 1;
  box geometry := NULL;
  v bigint;
BEGIN
  IF TG_OP <> 'TRUNCATE' AND TG_NARGS > 0 THEN
    EXECUTE format(
      'SELECT count(*), ST_SetSRID(ST_Extent(g)::geometry, 4326) FROM (%s) s',
      CASE TG_OP
        WHEN 'INSERT' THEN format('SELECT %I g FROM new_rows', TG_ARGV[0])
        WHEN 'DELETE' THEN format('SELECT %I g FROM old_rows', TG_ARGV[0])
        ELSE format('SELECT %1$I g FROM old_rows UNION ALL SELECT %1$I FROM new_rows',
                    TG_ARGV[0])
      END) INTO touched, box;
  END IF;
  IF touched = 0 THEN
    RETURN NULL;
  END IF;
  INSERT INTO layer_versions AS lv (table_name, version, changed_at)
  VALUES (TG_TABLE_NAME, 1, now())
  ON CONFLICT (table_name)
  DO UPDATE SET version = lv.version + 1, changed_at = now()
  RETURNING version INTO v;
  INSERT INTO layer_changes (table_name, version, extent) VALUES (TG_TABLE_NAME, v, box);
  DELETE FROM layer_changes WHERE table_name = TG_TABLE_NAME AND version <= v - {KEEP};
  RETURN NULL;
END $$
"""  # noqa: S608 - KEEP is a constant
"""Bumps the table's version and records where the statement changed it (see the module)."""

EVENTS = {
    "ins": ("INSERT", "REFERENCING NEW TABLE AS new_rows "),
    "upd": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "),
    "del": ("DELETE", "REFERENCING OLD TABLE AS old_rows "),
    "trunc": ("TRUNCATE", ""),
}
"""Trigger name suffix: (event, transition tables); TRUNCATE has none."""


def _triggers(table: str, column: str | None) -> list[str]:
    """One trigger per event; a table without geometry needs no transition tables."""
    arg = f"'{column}'" if column else ""
    return [
        f"CREATE TRIGGER {table}_layer_{name} AFTER {event} ON {table} "
        f"{referencing if column else ''}FOR EACH STATEMENT "
        f"EXECUTE FUNCTION wangge_layer_change({arg})"
        for name, (event, referencing) in EVENTS.items()
    ]


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE layer_changes (
            table_name text NOT NULL,
            version bigint NOT NULL,
            extent geometry(Geometry, 4326),
            PRIMARY KEY (table_name, version)
        )
        """
    )
    op.execute("CREATE INDEX ix_layer_changes_extent ON layer_changes USING gist (extent)")
    op.execute(FUNCTION)
    tables = [(t, "geom") for t in GEOMETRY_TABLES] + [(t, None) for t in PLAIN_TABLES]
    for table, column in tables:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_layer_version ON {table}")
        for statement in _triggers(table, column):
            op.execute(statement)


def downgrade() -> None:
    for table in GEOMETRY_TABLES + PLAIN_TABLES:
        for name in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_layer_{name} ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_layer_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION wangge_bump_layer_version()"
        )
    op.execute("DROP FUNCTION IF EXISTS wangge_layer_change()")
    op.execute("DROP TABLE IF EXISTS layer_changes")
