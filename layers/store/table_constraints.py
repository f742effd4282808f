"""Set a table's foreign keys aside during a bulk load and add them again after.

A foreign key is checked row by row on insert (one lookup in the referenced table
per row and key: for the city's 1.5 M cases with ten keys that was three quarters
of their COPY); added again after the load, PostgreSQL validates each key with one
join over the whole table.  Like `table_indexes`, for offline bulk loads only: it
locks the table until the caller's transaction ends, and a failure rolls the
constraints back with the data.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.store.sql import quote_ident


def set_aside_foreign_keys(*, session: Session, table: str) -> list[tuple[str, str]]:
    """Drop the foreign keys of `table`; return (name, definition) of each."""
    rows = session.execute(
        text(
            "SELECT conname AS name, pg_get_constraintdef(oid) AS definition"
            " FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND contype = 'f'"
            " ORDER BY 1"
        ),
        {"t": table},
    ).all()
    for row in rows:
        session.execute(
            text(f"ALTER TABLE {quote_ident(table)} DROP CONSTRAINT {quote_ident(row.name)}")
        )
    return [(row.name, row.definition) for row in rows]


def restore_foreign_keys(*, session: Session, table: str, keys: list[tuple[str, str]]) -> None:
    """Add the keys `set_aside_foreign_keys` returned again (each validated by one join)."""
    for name, definition in keys:
        session.execute(
            text(
                f"ALTER TABLE {quote_ident(table)} ADD CONSTRAINT {quote_ident(name)} {definition}"
            )
        )
