"""A version number per published table, bumped by every write: what the tile cache checks.

Why statement-level triggers: every way a layer changes (OGC edits, file
imports, a grid publish, base-data imports, the demo load) goes through SQL, so
the database is the one place that sees them all; one row per table, bumped
once per statement, costs an edit nothing measurable.  Cases are left out on
purpose: intake writes them hundreds of times a second, and a hot counter row
would serialise it (their tiles are per reader and not cached).

Revision ID: 0029
Revises: 0023
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "streets",
    "communities",
    "grid_cells",
    "grid_revisions",
    "courtyards",
    "buildings",
    "service_points",
    "cameras",
    "addresses",
    "units",
)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE layer_versions (
            table_name text PRIMARY KEY,
            version bigint NOT NULL DEFAULT 0,
            changed_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE FUNCTION wangge_bump_layer_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO layer_versions AS v (table_name, version, changed_at)
          VALUES (TG_TABLE_NAME, 1, now())
          ON CONFLICT (table_name)
          DO UPDATE SET version = v.version + 1, changed_at = now();
          RETURN NULL;
        END $$
        """
    )
    for table in TABLES:
        op.execute(f"INSERT INTO layer_versions (table_name) VALUES ('{table}')")  # noqa: S608 - fixed names
        op.execute(
            f"CREATE TRIGGER {table}_layer_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION wangge_bump_layer_version()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_layer_version ON {table}")
    op.execute("DROP FUNCTION IF EXISTS wangge_bump_layer_version()")
    op.execute("DROP TABLE IF EXISTS layer_versions")
