"""The board's cases and workers as compact columns, written by PostgreSQL in one statement.

Why not the GeoJSON pages: the board draws every open case it may see, and at ten
times the demo's open cases (32,000) fetching 17 GeoJSON pages of 2,000, each built
row by row in Python, took the board 6.7 s and 1.6 MB.  Here PostgreSQL writes the
rows as one JSON array of arrays (coordinates to 6 decimals, times to the second),
in the queue's order, and the reader may split the cases into ``parts`` by id:
no part needs another's count, so a page fetches them side by side and every
server worker takes one.  The rows hold what the board draws and filters on (the
GeoJSON page's properties less ``created_at``, ``unit_code``, ``overdue`` and
``warn_at``), with ``alarm`` worked out as `with_alarms` does.

``described`` keeps the descriptions to the first rows of the part (queue order): the
board lists the first 300 cases and draws the rest, and the free text was 27 % of a
part's bytes at ten times the demo; a case opened further down asks for its own by id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.access import Actor
from grids.cases.dispatch import QueueFilter, queue_where
from layers.tables.incidents import OPEN_STATUSES, STEP_OF_STATUS

CASE_COLUMNS = (
    "lon",
    "lat",
    "id",
    "version",
    "status",
    "urgency",
    "category",
    "handling_level",
    "due_at",
    "street_code",
    "community_code",
    "l1_code",
    "assignee_worker_id",
    "supervised_at",
    "description",
    "alarm",
)
WORKER_COLUMNS = ("id", "lon", "lat", "name", "level", "open_cases")


_SECOND = '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\''
"""Times go out as ISO 8601 UTC to the second (what the board compares and shows)."""

_CASES_SQL = (
    "WITH q AS (SELECT i.id, i.version, i.status, i.urgency, i.category_code, i.handling_level,"
    " i.due_at, i.geom, i.street_id, i.community_id, i.l1_cell_id,"
    " i.assignee_worker_id, i.supervised_at, i.description,"
    " row_number() OVER (ORDER BY i.due_at ASC NULLS LAST, i.id) AS rn,"
    # The step's warning time is read from the deadlines (jsonb) only for a case not yet
    # overdue: at 10x two thirds are, and the jsonb read was a quarter of the statement.
    " CASE WHEN i.due_at < :now THEN 'red' WHEN NULLIF((i.deadlines"
    " -> (CAST(:steps AS jsonb) ->> i.status)) ->> 'warn_at', '')::timestamptz <= :now"
    " THEN 'amber' END AS alarm"
    " FROM incidents i WHERE {where} AND i.id % :parts = :part)"
    " SELECT count(*) AS total, coalesce(json_agg(json_build_array("
    "round(ST_X(q.geom)::numeric, 6), round(ST_Y(q.geom)::numeric, 6), q.id, q.version,"
    " q.status, q.urgency, q.category_code, q.handling_level,"
    " to_char(q.due_at AT TIME ZONE 'UTC', {second}),"
    " s.code, c.code, g.code, q.assignee_worker_id,"
    " to_char(q.supervised_at AT TIME ZONE 'UTC', {second}),"
    " CASE WHEN q.rn <= :described THEN q.description END,"
    " q.alarm)"
    " ORDER BY q.rn), '[]')::text AS rows"
    " FROM q LEFT JOIN streets s ON s.id = q.street_id"
    " LEFT JOIN communities c ON c.id = q.community_id"
    " LEFT JOIN grid_cells g ON g.id = q.l1_cell_id"
)

_WORKERS_SQL = (
    "WITH load AS (SELECT assignee_worker_id AS id, count(*) AS n FROM incidents"
    " WHERE status = ANY(:open) AND assignee_worker_id IS NOT NULL GROUP BY 1)"
    " SELECT count(*) AS total, coalesce(json_agg(json_build_array(w.id,"
    " round(ST_X(w.geom)::numeric, 6), round(ST_Y(w.geom)::numeric, 6), w.name, w.level,"
    " coalesce(l.n, 0)) ORDER BY w.id), '[]')::text AS rows"
    " FROM workers w LEFT JOIN load l ON l.id = w.id WHERE w.on_duty AND w.geom IS NOT NULL"
)


_WORK_MEM = "64MB"


@dataclass(frozen=True)
class Columns:
    """One part's rows as JSON text (an array of arrays in `columns` order) and their count."""

    total: int
    rows_json: str


def case_columns(
    *,
    session: Session,
    filters: QueueFilter,
    actor: Actor,
    now: datetime,
    parts: int = 1,
    part: int = 0,
    described: int | None = None,
) -> Columns:
    """The cases of part `part` of `parts` (by id) that the queue would list, soonest due first.

    Rows after the first `described` carry a null description (None: every row has its own).
    """
    where, params = queue_where(session, filters, actor, now)
    binds = {
        **params,
        "steps": json.dumps(STEP_OF_STATUS),
        "parts": parts,
        "part": part,
        "described": described if described is not None else 2**62,
    }
    # 16,000 rows of a part sort twice (for the joins and for the array): with the default
    # 4 MB they spilled to disk.  Local to this transaction.
    session.execute(text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
    row = session.execute(text(_CASES_SQL.format(where=where, second=_SECOND)), binds).one()
    return Columns(int(row.total), row.rows)


def worker_columns(*, session: Session) -> Columns:
    """On-duty workers with a position and their open load (no phone), by id."""
    row = session.execute(text(_WORKERS_SQL), {"open": list(OPEN_STATUSES)}).one()
    return Columns(int(row.total), row.rows)
