"""Set a table's secondary indexes aside during a bulk load and build them again after.

Inserting a million rows into a table with a dozen indexes costs PostgreSQL one
index insertion per row and index; building each index once from sorted data
afterwards is several times cheaper.  The price is an exclusive lock on the
table until the caller's transaction ends, so this is for offline bulk loads.
Everything happens in the caller's transaction: a failure rolls the indexes
back with the data.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.store.sql import quote_ident


def set_aside_indexes(*, session: Session, table: str) -> list[str]:
    """Drop the indexes of `table` that back no constraint; return their definitions."""
    rows = session.execute(
        text(
            "SELECT i.indexrelid::regclass::text AS name,"
            " pg_get_indexdef(i.indexrelid) AS definition"
            " FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid"
            " WHERE i.indrelid = CAST(:t AS regclass) AND c.oid IS NULL ORDER BY 1"
        ),
        {"t": table},
    ).all()
    for row in rows:
        session.execute(text(f"DROP INDEX {quote_ident(row.name)}"))
    # a partitioned table's definitions say `ON ONLY`, which would build the parent's alone
    return [row.definition.replace(" ON ONLY ", " ON ", 1) for row in rows]


def rebuild_indexes(*, session: Session, definitions: list[str], work_mem: str = "512MB") -> None:
    """Create the indexes again from the definitions `set_aside_indexes` returned."""
    session.execute(text("SELECT set_config('maintenance_work_mem', :m, true)"), {"m": work_mem})
    for definition in definitions:
        session.execute(text(definition))
