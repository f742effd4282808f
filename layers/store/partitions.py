"""Monthly partitions of `incidents` and `incident_events` (migration 0032, docs/storage.md).

Partitions are named `<table>_pYYYYMM` and cover one calendar month in UTC;
`<table>_default` catches rows of a month without a partition, so an insert
never fails.  `create_ahead` makes the months to come (the SLA sweep calls it,
and `wangge db partitions create-ahead`), moving any rows of those months out
of the default partition first; `detach_before` detaches old months, which
then live on as ordinary tables that can be dumped and dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, text

PARTITIONED = {"incidents": "created_at", "incident_events": "at"}
"""Each partitioned table and its partition key (the time a row was received)."""
PARTITION_NAME = re.compile(r"^(incidents|incident_events)_(p\d{6}|default)$")


def is_partition(name: str | None) -> bool:
    """Whether `name` is a partition of a partitioned table (not a table the models describe)."""
    return bool(name and PARTITION_NAME.match(name))


@dataclass(frozen=True)
class Partition:
    """One partition: its table, name, first month (None: the default) and row estimate."""

    table: str
    name: str
    month: date | None
    rows: int


def month_start(moment: datetime | date) -> date:
    """The first day of the month of `moment` (UTC)."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC).date()
    return moment.replace(day=1)


def add_months(month: date, n: int) -> date:
    """`month` moved by `n` months (first days stay first days)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def parse_month(value: str) -> date:
    """`YYYY-MM` as the first day of that month."""
    return datetime.strptime(value, "%Y-%m").date()


def partitions(conn: Connection) -> list[Partition]:
    """Every attached partition, oldest month first, the default ones last."""
    rows = conn.execute(
        text(
            "SELECT p.relname AS parent, c.relname AS name, c.reltuples::bigint AS rows"
            " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ANY(:t)"
            " ORDER BY p.relname, c.relname"
        ),
        {"t": list(PARTITIONED)},
    ).all()
    out = []
    for r in rows:
        suffix = r.name[len(r.parent) + 1 :]
        month = None if suffix == "default" else datetime.strptime(suffix, "p%Y%m").date()
        out.append(Partition(r.parent, r.name, month, max(int(r.rows), 0)))
    return sorted(out, key=lambda p: (p.table, p.month is None, p.month or date.min))


def _bounds(month: date) -> str:
    return f"FROM ('{month:%Y-%m-%d} 00:00+00') TO ('{add_months(month, 1):%Y-%m-%d} 00:00+00')"


def create_month(conn: Connection, table: str, month: date) -> bool:
    """Create `table`'s partition of `month` if missing; rows already in the default move in.

    Returns whether a partition was created.  The default partition is locked
    for the move (a short ACCESS EXCLUSIVE: it normally holds nothing).
    """
    key = PARTITIONED[table]
    name = f"{table}_p{month:%Y%m}"
    if conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is not None:
        return False
    default = f"{table}_default"
    start, end = f"'{month:%Y-%m-%d} 00:00+00'", f"'{add_months(month, 1):%Y-%m-%d} 00:00+00'"
    inside = f"{key} >= {start} AND {key} < {end}"
    count = f"SELECT count(*) FROM {default} WHERE {inside}"  # noqa: S608 - fixed names
    stray = conn.execute(text(count)).scalar_one()
    if stray:
        move = f"CREATE TEMP TABLE stray_rows AS SELECT * FROM {default} WHERE {inside}"  # noqa: S608
        conn.execute(text(move))
        conn.execute(text(f"ALTER TABLE {default} DISABLE TRIGGER ALL"))
        conn.execute(text(f"DELETE FROM {default} WHERE {inside}"))  # noqa: S608
        conn.execute(text(f"ALTER TABLE {default} ENABLE TRIGGER ALL"))
    conn.execute(text(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES {_bounds(month)}"))
    if stray:
        conn.execute(text(f"ALTER TABLE {name} DISABLE TRIGGER ALL"))
        conn.execute(text(f"INSERT INTO {name} SELECT * FROM stray_rows"))  # noqa: S608
        conn.execute(text(f"ALTER TABLE {name} ENABLE TRIGGER ALL"))
        conn.execute(text("DROP TABLE stray_rows"))
    return True


def ensure_months(conn: Connection, first: date, last: date) -> list[str]:
    """Partitions of every month from `first` to `last` in both tables; the names created."""
    made = []
    month = month_start(first)
    while month <= month_start(last):
        for table in PARTITIONED:
            if create_month(conn, table, month):
                made.append(f"{table}_p{month:%Y%m}")
        month = add_months(month, 1)
    return made


def ensure_months_if_owner(conn: Connection, first: datetime, last: datetime) -> list[str]:
    """`ensure_months`, when this role may add partitions (a bulk load as the owner)."""
    return ensure_months(conn, first, last) if may_create(conn) else []


def create_ahead(conn: Connection, *, now: datetime, months: int = 3) -> list[str]:
    """This month's partitions and those of the `months` after it."""
    this = month_start(now)
    return ensure_months(conn, this, add_months(this, months))


def detach_before(conn: Connection, month: date) -> list[str]:
    """Detach every monthly partition older than `month`; the names of the detached tables.

    A detached partition is an ordinary table with its rows and indexes; the
    cases in it leave `incidents` (their `incident_keys` rows stay, so ids and
    external ids are never reused, but no longer count as open: the dispatch
    queue's horizon, `incident_keys.open`, is about cases still in `incidents`).
    Events are detached for the same months.
    """
    done = []
    for part in partitions(conn):
        if part.month is not None and part.month < month:
            conn.execute(text(f"ALTER TABLE {part.table} DETACH PARTITION {part.name}"))
            if part.table == "incidents":
                conn.execute(
                    text(
                        f"UPDATE incident_keys k SET open = false FROM {part.name} d"  # noqa: S608
                        " WHERE d.id = k.id AND k.open"
                    )
                )
            done.append(part.name)
    return done


def may_create(conn: Connection) -> bool:
    """Whether this role may add partitions (it owns `incidents`: the owner, not the service)."""
    return bool(
        conn.execute(
            text(
                "SELECT pg_has_role(relowner, 'USAGE') FROM pg_class"
                " WHERE oid = to_regclass('incidents') AND relkind = 'p'"
            )
        ).scalar()
    )
