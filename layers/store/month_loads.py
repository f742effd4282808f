"""Whole months of history written beside a partitioned table, then attached to it.

Why: a COPY into `incidents` pays for a dozen indexes row by row inside one
transaction (~50 µs a row).  A month that has no partition yet can instead be
written into a new, bare table of its own: the rows go in without indexes, each
index is then built once from sorted input, the foreign keys are checked by one
join each, and the table joins the parent with ``ATTACH PARTITION``, which takes
only SHARE UPDATE EXCLUSIVE on the parent: reads and new cases go on meanwhile.
ATTACH also locks the DEFAULT partition (ACCESS EXCLUSIVE, to the end of the
transaction), so the caller attaches last, just before it commits.

Everything happens in the caller's transaction: if anything fails, the month
tables vanish with the rollback and the database is as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text

from layers.store.partitions import PARTITIONED, add_months
from layers.store.sql import quote_ident

_INDEX_HEAD = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON ONLY \S+ ")


@dataclass(frozen=True)
class MonthTable:
    """A month's table being filled, not yet a partition: its parent, name and month."""

    parent: str
    name: str
    month: date

    @property
    def bounds(self) -> tuple[str, str]:
        """The month's first and last-plus-one instants in UTC, as SQL literals."""
        end = add_months(self.month, 1)
        return f"'{self.month:%Y-%m-%d} 00:00+00'", f"'{end:%Y-%m-%d} 00:00+00'"


def months_without_partition(conn: Connection, table: str, months: list[date]) -> list[date]:
    """Those of `months` for which `table` has no partition of its own (oldest first)."""
    names = [f"{table}_p{m:%Y%m}" for m in months]
    taken = set(
        conn.execute(
            text("SELECT relname FROM pg_class WHERE relname = ANY(:n) AND relkind = 'r'"),
            {"n": names},
        ).scalars()
    )
    return sorted(m for m, n in zip(months, names, strict=True) if n not in taken)


def begin_month(conn: Connection, table: str, month: date) -> MonthTable:
    """A new bare table shaped like `table` for `month`, with the CHECK that ATTACH trusts.

    The CHECK lets ATTACH skip its scan of the new rows; it is dropped after.
    """
    part = MonthTable(table, f"{table}_p{month:%Y%m}", month)
    key = PARTITIONED[table]
    start, end = part.bounds
    conn.execute(
        text(
            f"CREATE TABLE {part.name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
            f" INCLUDING STORAGE)"
        )
    )
    conn.execute(
        text(
            f"ALTER TABLE {part.name} ADD CONSTRAINT {part.name}_month"
            f" CHECK ({key} IS NOT NULL AND {key} >= {start} AND {key} < {end})"
        )
    )
    return part


def index_definitions(conn: Connection, table: str) -> list[str]:
    """The parent's indexes but the primary key's, as definitions with the table left open."""
    rows = conn.execute(
        text(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid = CAST(:t AS regclass) AND NOT indisprimary ORDER BY indexrelid"
        ),
        {"t": table},
    ).scalars()
    return [_INDEX_HEAD.sub(lambda m: f"CREATE {m.group(1) or ''}INDEX ON {{}} ", d) for d in rows]


def key_constraints(conn: Connection, table: str) -> list[str]:
    """The parent's primary key and foreign keys, as `PRIMARY KEY (…)` / `FOREIGN KEY …` clauses.

    The primary key comes first: ATTACH adopts a partition's index for the
    parent's key only when it backs a primary key of its own.
    """
    return list(
        conn.execute(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'f')"
                " ORDER BY contype DESC, conname"
            ),
            {"t": table},
        ).scalars()
    )


def finish_month(conn: Connection, part: MonthTable, indexes: list[str], keys: list[str]) -> None:
    """Build the month's indexes (sorted, once) and check its foreign keys (one join each).

    Made to match the parent's, so ATTACH adopts them instead of building or
    checking anything again.
    """
    for definition in indexes:
        conn.execute(text(definition.format(quote_ident(part.name))))
    for clause in keys:
        with _probing_joins(conn) if _outweighs(conn, clause, part.name) else nullcontext():
            conn.execute(text(f"ALTER TABLE {part.name} ADD {clause}"))


_REFERENCED = re.compile(r"REFERENCES ([\w.\"]+)\(")


def _outweighs(conn: Connection, clause: str, table: str) -> bool:
    """Whether the table a foreign key references is bigger on disk than `table`.

    Then probing its index row by row beats the hash join the planner picks;
    against a small lookup table (categories, streets) hashing it is cheaper.
    """
    found = _REFERENCED.search(clause)
    if found is None:
        return False
    sizes = conn.execute(
        text(
            "SELECT pg_relation_size(CAST(:r AS regclass)), pg_relation_size(CAST(:t AS regclass))"
        ),
        {"r": found.group(1), "t": table},
    ).one()
    return bool(sizes[0] > sizes[1])


@contextmanager
def _probing_joins(conn: Connection) -> Iterator[None]:
    """Check foreign keys by probing the referenced key's index, row by row.

    Why: PostgreSQL checks a new foreign key with one anti-join, and for a month
    of events against `incident_keys` (every case ever) it chose to hash the
    month and scan all the keys: 0.3 s a month, 10.5 s of a 36-month import of
    a million cases.  Probing the key's index for each of a month's rows took
    1.1 s in all (2026-12-04).
    """
    saved = {
        name: conn.execute(text(f"SELECT current_setting('{name}')")).scalar_one()
        for name in _JOINS
    }
    for name in _JOINS:
        conn.execute(text(f"SET LOCAL {name} = off"))
    try:
        yield
    finally:
        for name, value in saved.items():
            conn.execute(text(f"SELECT set_config('{name}', :v, true)"), {"v": value})


_JOINS = ("enable_hashjoin", "enable_mergejoin")


def attach_month(conn: Connection, part: MonthTable) -> None:
    """Make the filled table the parent's partition of its month; drop the helper CHECK."""
    start, end = part.bounds
    conn.execute(
        text(
            f"ALTER TABLE {part.parent} ATTACH PARTITION {part.name}"
            f" FOR VALUES FROM ({start}) TO ({end})"
        )
    )
    conn.execute(text(f"ALTER TABLE {part.name} DROP CONSTRAINT {part.name}_month"))
