"""Imported cases of months that have no partition yet: written beside, then attached.

Why: history imports are mostly whole past months the live system never saw
(an old hotline's archive).  Those months get tables of their own, filled bare
and indexed once (`layers.store.month_loads`), which is several times cheaper
than a COPY through `incidents`' indexes; months that already hold cases take
the ordinary path (`grids.cases.importing`).  The global keys (`incident_keys`)
are written here, because no trigger of `incidents` sees rows that arrive by
ATTACH; a repeated external id still fails the whole import there.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from layers.store.frame_copy import copy_frame
from layers.store.month_loads import (
    MonthTable,
    attach_month,
    begin_month,
    finish_month,
    index_definitions,
    key_constraints,
    months_without_partition,
)
from layers.store.partitions import may_create

MAINTENANCE_MEMORY = "256MB"
"""Per index build: enough to sort a month of cases in memory."""


def month_of(created_at: pd.Series) -> pd.Series:
    """The first day of each row's month (UTC), from the frame's ISO text."""
    stamps = pd.to_datetime(created_at, utc=True, format="ISO8601")
    return stamps.dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.date


def fresh_months(conn: Connection, months: pd.Series) -> list[date]:
    """The months of `months` that neither cases nor events have a partition for.

    Empty when this role may not add partitions (the service role): then every
    row goes the ordinary way.
    """
    if months.empty or not may_create(conn):
        return []
    wanted = sorted(set(months))
    free = set(months_without_partition(conn, "incidents", wanted))
    return sorted(free & set(months_without_partition(conn, "incident_events", wanted)))


def write_fresh_months(
    *, session: Session, incidents: pd.DataFrame, months: pd.Series, actor: str, source: str
) -> int:
    """Write `incidents` (all of months in `fresh_months`) month by month; attach at the end.

    Returns the number of events written (one ``import`` event per case).
    """
    conn = session.connection()
    conn.execute(text(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_MEMORY}'"))
    shapes = {t: (index_definitions(conn, t), key_constraints(conn, t)) for t in _TABLES}
    data = json.dumps({"source": source})
    filled: list[MonthTable] = []
    events = 0
    for month, rows in incidents.groupby(months.to_numpy(), sort=True):
        cases = begin_month(conn, "incidents", month)
        copy_frame(conn, cases.name, rows)
        _write_keys(conn, cases)
        steps = begin_month(conn, "incident_events", month)
        events += _write_events(conn, cases, steps, actor, data)
        filled += [cases, steps]
    for part in filled:
        finish_month(conn, part, *shapes[part.parent])
    for part in filled:  # last: ATTACH locks the default partitions until commit
        attach_month(conn, part)
    if events:
        conn.execute(text("SELECT pg_notify('wangge_case_events', '*')"))
    return events


_TABLES = ("incidents", "incident_events")


def _write_keys(conn: Connection, cases: MonthTable) -> None:
    """The month's cases into `incident_keys`: a repeated external id fails here, as before."""
    keys = "id, created_at, external_id, access_token_hash"
    conn.execute(
        text(
            f"INSERT INTO incident_keys ({keys}, open)"  # noqa: S608 - our names
            f" SELECT {keys}, wangge_case_is_open(status) FROM {cases.name}"
        )
    )


def _write_events(
    conn: Connection, cases: MonthTable, steps: MonthTable, actor: str, data: str
) -> int:
    """One ``import`` event per case of the month, at the time the case was received."""
    result = conn.execute(
        text(
            f"INSERT INTO {steps.name} (incident_id, at, actor, role, action, to_status, data)"  # noqa: S608
            " SELECT id, created_at, :actor, 'system', 'import', status, CAST(:data AS jsonb)"
            f" FROM {cases.name} ORDER BY id"
        ),
        {"actor": actor, "data": data},
    )
    return int(result.rowcount or 0)
