"""The SLA sweep's writes: warn and escalate many cases in one SQL statement.

The sweep (`grids.cases.sla`) reads its candidate rows once.  Python decides only what
depends on Python: the new step deadline (it depends only on category × urgency × step
and the sweep's moment, so it is computed, and its JSON written, once per key), the
target unit (`grids.cases.levels.UnitIndex`, read once) and the new assignee of a case
whose assignee is off duty (`grids.cases.duty.assign_cases`, one query for all).  Those
go to the server as a few arrays; one statement of data-modifying CTEs then updates the
cases (``UPDATE … FROM unnest(…)``), and builds the events and the notices **in SQL**
(``INSERT … SELECT``), per case in the order warn, escalate — no row of them is built in
Python or sent over the wire.  (The version before built ~40,000 event and ~33,000 notice
dicts and sent them as multi-row INSERTs: that was most of a 10 s sweep.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.deadlines import STEP_OF_STATUS, WARN_SHARE, Limit, step_deadline
from grids.cases.duty import Assignment
from grids.cases.levels import UnitIndex
from grids.cases.reference import work_calendar
from layers.core.roles import SYSTEM
from layers.tables.incidents import HANDLING_LEVELS

ACTOR = "sla-sweep"
WARN_REASON = "督办: time limit 80 % used"
ESCALATE_REASON = "督办: time limit overrun"

_MOVE_COLUMNS = (
    ("ids", "bigint"),
    ("status", "text"),
    ("from_level", "text"),
    ("to_level", "text"),
    ("unit", "int"),
    ("unit_code", "text"),
    ("from_unit", "int"),
    ("from_code", "text"),
    ("due", "timestamptz"),
    ("step", "text"),
    ("record", "text"),
    ("overdue", "text"),
    ("worker", "int"),
    ("from_worker", "int"),
    ("reason", "text"),
)
_MOVES = ", ".join(f"{k} {t}" for k, t in _MOVE_COLUMNS)
# One JSON text per set, not one array literal per column: the driver would spell 15 arrays
# of 20,000 elements out as ARRAY[…] constants, which the server parses and plans one by one.
_SWEEP_SQL = """
WITH m AS (SELECT * FROM json_to_recordset(CAST(:moves AS json)) AS m(<moves>)),
w AS (SELECT * FROM json_to_recordset(CAST(:warns AS json))
        AS w(id bigint, status text, step text, escalates boolean)),
warned AS (
  UPDATE incidents i SET warned_at = :now FROM w WHERE i.id = w.id AND NOT w.escalates
  RETURNING i.id),
moved AS (
  UPDATE incidents i SET handling_level = m.to_level, unit_id = coalesce(m.unit, i.unit_id),
    due_at = m.due, warned_at = NULL, escalation_count = i.escalation_count + 1,
    version = i.version + 1, updated_at = :now,
    assignee_worker_id = coalesce(m.worker, i.assignee_worker_id),
    assignment_reason = CASE WHEN m.worker IS NULL THEN i.assignment_reason ELSE m.reason END,
    deadlines = i.deadlines || jsonb_build_object(m.step, CAST(m.record AS jsonb))
  FROM m WHERE i.id = m.ids RETURNING i.id),
events AS (
  INSERT INTO incident_events
    (incident_id, at, actor, role, action, from_status, to_status, reason, data)
  SELECT e.id, :now, :actor, :role, e.action, e.status, e.status, e.reason, e.data FROM (
    SELECT w.id, 0 AS ord, 'warn' AS action, w.status, CAST(:warn_reason AS text) AS reason,
      jsonb_build_object('step', w.step, 'due_at', i.deadlines -> w.step -> 'due_at',
        'share', CAST(:share AS float8)) AS data
    FROM w JOIN incidents i ON i.id = w.id
    UNION ALL
    SELECT m.ids, 1, 'escalate', m.status, CAST(:escalate_reason AS text),
      jsonb_build_object('from_level', m.from_level, 'to_level', m.to_level, 'step', m.step,
        'overdue_since', m.overdue, 'automatic', true)
      || CASE WHEN m.unit IS NULL THEN '{}'::jsonb
         ELSE jsonb_build_object('from_unit', m.from_code, 'to_unit', m.unit_code) END
      || CASE WHEN m.worker IS NULL THEN '{}'::jsonb
         ELSE jsonb_build_object('reassigned', jsonb_build_object(
           'from', m.from_worker, 'to', m.worker, 'reason', m.reason)) END
    FROM m) e
  ORDER BY e.id, e.ord
  RETURNING 1),
notices AS (
  INSERT INTO platform_notices (incident_id, unit_id, kind, at, body, data)
  SELECT m.ids, k.unit, k.kind, :now, 'case ' || m.ids || ' escalated to ' || m.to_level
      || ' level',
    jsonb_build_object('from_unit', m.from_code, 'to_unit', m.unit_code, 'note', NULL)
  FROM m CROSS JOIN LATERAL (VALUES (0, 'escalated', m.unit), (1, 'informed', m.from_unit))
    AS k(ord, kind, unit)
  WHERE m.unit IS NOT NULL
    AND (k.ord = 0 OR (m.from_unit IS NOT NULL AND m.from_unit <> m.unit))
  ORDER BY m.ids, k.ord
  RETURNING 1)
SELECT (SELECT count(*) FROM warned) + (SELECT count(*) FROM moved)
  + (SELECT count(*) FROM events) + (SELECT count(*) FROM notices)
"""
_SWEEP = text(_SWEEP_SQL.replace("<moves>", _MOVES))  # our column list only


class _Writes:
    """The rows the statement reads as JSON, filled row by row in the sweep's order."""

    def __init__(self) -> None:
        self.moves: list[dict[str, Any]] = []
        self.warns: list[dict[str, Any]] = []

    def params(self) -> dict[str, Any]:
        """The statement's two JSON parameters."""
        return {"moves": json.dumps(self.moves), "warns": json.dumps(self.warns)}


def _escalation(
    w: _Writes,
    row: Any,
    step: str,
    record: tuple[Any, str],
    units: UnitIndex,
    new: Assignment | None,
) -> None:
    after = HANDLING_LEVELS[HANDLING_LEVELS.index(row.handling_level) + 1]
    target = units.unit_for(row, after)
    if new is None or new.worker_id is None or new.worker_id == row.assignee_worker_id:
        new = None
    w.moves.append(
        {
            "ids": row.id,
            "status": row.status,
            "from_level": row.handling_level,
            "to_level": after,
            "unit": target[0] if target else None,
            "unit_code": target[1] if target else None,
            "from_unit": row.unit_id,
            "from_code": units.codes.get(row.unit_id or 0),
            "due": record[0],
            "step": step,
            "record": record[1],
            "overdue": row.due_at.isoformat() if row.due_at else None,
            "worker": new.worker_id if new else None,
            "from_worker": row.assignee_worker_id,
            "reason": new.reason if new else None,
        }
    )


def sweep_set(
    *,
    session: Session,
    rows: Sequence[Any],
    escalates: Callable[[Any], bool],
    limits: Callable[[str, str], dict[str, Limit]],
    units: UnitIndex,
    reassign: dict[int, Assignment],
    now: datetime,
) -> tuple[int, int]:
    """Warn and escalate `rows` in one statement; the counts (warned, escalated)."""
    w, records = _Writes(), {}
    calendar = work_calendar(session=session)
    for row in rows:
        step = STEP_OF_STATUS[row.status]
        moves = escalates(row)
        if row.warned_at is None:
            w.warns.append({"id": row.id, "status": row.status, "step": step, "escalates": moves})
        if moves:
            key = (row.category_code, row.urgency, step)
            if key not in records:
                step_limits = limits(row.category_code, row.urgency)
                record = (
                    step_deadline(now, step_limits[step], calendar=calendar)
                    if step in step_limits
                    else {}
                )
                stamped = json.dumps({**record, "escalated_at": now.isoformat()})
                records[key] = (record.get("due_at"), stamped)
            _escalation(w, row, step, records[key], units, reassign.get(row.id))
    if rows:
        # the statement sorts ~40,000 events and ~33,000 notices: in memory, not on disk
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(
            _SWEEP,
            {
                "now": now,
                "actor": ACTOR,
                "role": SYSTEM,
                "warn_reason": WARN_REASON,
                "escalate_reason": ESCALATE_REASON,
                "share": WARN_SHARE,
                **w.params(),
            },
        )
    return len(w.warns), len(w.moves)
