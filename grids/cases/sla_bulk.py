"""The SLA sweep's SQL: pick the cases, then warn and escalate them all in one statement.

The sweep (`grids.cases.sla`) is two set statements and no per-case Python:

1. `pick` locks the candidates (``FOR UPDATE SKIP LOCKED``: a case a user is changing
   right now waits for the next run) and hands back only what Python must decide: their
   ids as one string, the (category, urgency, status) keys of the escalating ones — a
   few dozen — and the escalating cases whose assignee is off duty.
2. Python computes the new step deadline once per key (it depends only on category ×
   urgency × step and the sweep's moment, through the working calendar) and the new
   assignee of the off-duty cases (`grids.cases.duty.assign_cases`, one query for all).
3. `apply` (one statement of data-modifying CTEs) reads the locked cases again, finds
   each one's next level and the receiving unit by joins on `platform_units`, and
   updates the cases in one pass (``UPDATE … FROM``), inserts the events and the notices
   (``INSERT … SELECT``, per case in the order warn, escalate), all on the server.

History: round 1 built ~40,000 event and ~33,000 notice dicts in Python and sent them as
multi-row INSERTs (12 s); round 2 sent one JSON row per case (4.6 s, a second of it in
Python building and the server parsing 20,000 JSON records); round 3 sends ids only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.deadlines import STEP_OF_STATUS, WARN_SHARE, Limit, step_deadline
from grids.cases.duty import Assignment
from grids.cases.reference import work_calendar
from layers.core.roles import SYSTEM
from layers.tables.incidents import HANDLING_LEVELS
from layers.tables.platform_units import LEVEL_OF_HANDLING

ACTOR = "sla-sweep"
WARN_REASON = "督办: time limit 80 % used"
ESCALATE_REASON = "督办: time limit overrun"
MAX_ESCALATIONS = len(HANDLING_LEVELS) - 1
"""A case is escalated automatically until it reaches the district (grid → … → district)."""


def _case(column: str, mapping: dict[str, str]) -> str:
    """A constant ``CASE column WHEN … THEN …`` (our own names only, no input)."""
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in mapping.items())
    return f"(CASE {column} {whens} END)"


_NEXT_LEVEL = dict(pairwise(HANDLING_LEVELS))
_STEP = _case("i.status", STEP_OF_STATUS)
WARN_AT_SQL = "wangge_step_warn_at(i.status, i.deadlines)"
"""When the running step's warning is due (its record in `incidents.deadlines`): the
expression of the partial index `ix_incidents_warn_open` (migration 0028), spelt alike."""
_OVERDUE = "i.due_at <= :now AND i.escalation_count < :max AND i.handling_level <> 'district'"
_TIMED = "i.status IN (" + ", ".join(f"'{s}'" for s in STEP_OF_STATUS) + ")"

_PICK = text(
    f"""
WITH c AS MATERIALIZED (
  SELECT i.id, i.status, i.category_code, i.urgency, {_OVERDUE} AS escalates,
    (w.id IS NULL OR NOT w.on_duty) AS off_duty
  FROM incidents i LEFT JOIN workers w ON w.id = i.assignee_worker_id
  WHERE {_TIMED} AND i.due_at IS NOT NULL AND (({_OVERDUE})
    OR (i.warned_at IS NULL AND {WARN_AT_SQL} <= :now))
  FOR UPDATE OF i SKIP LOCKED)
SELECT (SELECT string_agg(CAST(id AS text), ',' ORDER BY id) FROM c) AS ids,
  (SELECT string_agg(CAST(id AS text), ',' ORDER BY id) FROM c
    WHERE escalates AND off_duty) AS off_duty,
  (SELECT json_agg(DISTINCT jsonb_build_array(category_code, urgency, status)) FROM c
    WHERE escalates) AS keys
"""  # noqa: S608 - constant fragments only
)

_APPLY = text(
    f"""
WITH c AS MATERIALIZED (
  SELECT i.id, i.status, i.handling_level, i.unit_id, i.assignee_worker_id,
    i.due_at, i.deadlines, i.community_id, i.street_id, i.warned_at IS NULL AS warns,
    {_OVERDUE} AS escalates, {_STEP} AS step,
    {_case("i.handling_level", _NEXT_LEVEL)} AS after,
    {_case("i.handling_level", {k: LEVEL_OF_HANDLING[v] for k, v in _NEXT_LEVEL.items()})}
      AS unit_level,
    i.category_code || '|' || i.urgency || '|' || i.status AS key
  FROM unnest(CAST(:ids AS bigint[])) AS p(id) JOIN incidents i ON i.id = p.id),
rec AS (SELECT * FROM json_to_recordset(CAST(:records AS json))
         AS r(key text, due timestamptz, record jsonb)),
who AS (SELECT * FROM json_to_recordset(CAST(:workers AS json))
         AS a(id bigint, worker int, reason text)),
m AS MATERIALIZED (
  SELECT c.*, t.id AS unit, t.code AS unit_code, fu.code AS from_code, r.due,
    r.record, CASE WHEN a.worker IS DISTINCT FROM c.assignee_worker_id THEN a.worker END
      AS worker, a.reason
  FROM c JOIN rec r ON r.key = c.key
  LEFT JOIN who a ON a.id = c.id
  LEFT JOIN platform_units fu ON fu.id = c.unit_id
  LEFT JOIN platform_units cu ON c.unit_level = 'community'
    AND cu.community_id = c.community_id
  LEFT JOIN platform_units su ON c.unit_level IN ('community', 'street')
    AND su.street_id = c.street_id
  LEFT JOIN (SELECT id, code FROM platform_units WHERE level = 'district'
             ORDER BY id LIMIT 1) du ON true
  CROSS JOIN LATERAL (SELECT coalesce(cu.id, su.id, du.id) AS id,
    CASE WHEN cu.id IS NOT NULL THEN cu.code WHEN su.id IS NOT NULL THEN su.code
      ELSE du.code END AS code) t
  WHERE c.escalates),
moved AS (  -- one pass over the cases: escalate those in m, only mark the others warned
  UPDATE incidents i SET warned_at = CASE WHEN m.id IS NULL THEN CAST(:now AS timestamptz) END,
    handling_level = coalesce(m.after, i.handling_level),
    unit_id = coalesce(m.unit, i.unit_id),
    due_at = CASE WHEN m.id IS NULL THEN i.due_at ELSE m.due END,
    escalation_count = i.escalation_count + CASE WHEN m.id IS NULL THEN 0 ELSE 1 END,
    version = i.version + CASE WHEN m.id IS NULL THEN 0 ELSE 1 END,
    updated_at = CASE WHEN m.id IS NULL THEN i.updated_at ELSE :now END,
    assignee_worker_id = coalesce(m.worker, i.assignee_worker_id),
    assignment_reason = CASE WHEN m.worker IS NULL THEN i.assignment_reason ELSE m.reason END,
    deadlines = CASE WHEN m.id IS NULL THEN i.deadlines
                ELSE i.deadlines || jsonb_build_object(m.step, m.record) END
  FROM c LEFT JOIN m ON m.id = c.id
  WHERE i.id = c.id AND (m.id IS NOT NULL OR c.warns) RETURNING 1),
events AS (
  INSERT INTO incident_events
    (incident_id, at, actor, role, action, from_status, to_status, reason, data)
  SELECT e.id, :now, :actor, :role, e.action, e.status, e.status, e.reason, e.data FROM (
    SELECT c.id, 0 AS ord, 'warn' AS action, c.status, CAST(:warn_reason AS text) AS reason,
      jsonb_build_object('step', c.step, 'due_at', c.deadlines -> c.step -> 'due_at',
        'share', CAST(:share AS float8)) AS data
    FROM c WHERE c.warns
    UNION ALL
    SELECT m.id, 1, 'escalate', m.status, CAST(:escalate_reason AS text),
      jsonb_build_object('from_level', m.handling_level, 'to_level', m.after, 'step', m.step,
        'overdue_since', to_jsonb(m.due_at), 'automatic', true)
      || CASE WHEN m.unit IS NULL THEN CAST('{{}}' AS jsonb)
         ELSE jsonb_build_object('from_unit', m.from_code, 'to_unit', m.unit_code) END
      || CASE WHEN m.worker IS NULL THEN CAST('{{}}' AS jsonb)
         ELSE jsonb_build_object('reassigned', jsonb_build_object(
           'from', m.assignee_worker_id, 'to', m.worker, 'reason', m.reason)) END
    FROM m) e
  ORDER BY e.id, e.ord
  RETURNING 1),
notices AS (
  INSERT INTO platform_notices (incident_id, unit_id, kind, at, body, data)
  SELECT m.id, k.unit, k.kind, :now, 'case ' || m.id || ' escalated to ' || m.after
      || ' level',
    jsonb_build_object('from_unit', m.from_code, 'to_unit', m.unit_code, 'note', NULL)
  FROM m CROSS JOIN LATERAL (VALUES (0, 'escalated', m.unit), (1, 'informed', m.unit_id))
    AS k(ord, kind, unit)
  WHERE m.unit IS NOT NULL
    AND (k.ord = 0 OR (m.unit_id IS NOT NULL AND m.unit_id <> m.unit))
  ORDER BY m.id, k.ord
  RETURNING 1)
SELECT (SELECT count(*) FROM c WHERE c.warns) AS warned, (SELECT count(*) FROM m) AS moved,
  (SELECT count(*) FROM moved) + (SELECT count(*) FROM events)
  + (SELECT count(*) FROM notices) AS written
"""  # noqa: S608 - constant fragments only
)


@dataclass(frozen=True)
class Picked:
    """The locked candidates: their ids (one ``{…}`` array literal), the escalating cases'
    (category, urgency, status) keys and the escalating ones without an on-duty assignee."""

    ids: str
    keys: list[tuple[str, str, str]]
    off_duty: list[int]


def pick(*, session: Session, now: datetime) -> Picked | None:
    """Lock the cases the sweep will warn or escalate; None when there are none."""
    row = session.execute(_PICK, {"now": now, "max": MAX_ESCALATIONS}).one()
    if not row.ids:
        return None
    off = [int(i) for i in row.off_duty.split(",")] if row.off_duty else []
    return Picked("{" + row.ids + "}", [tuple(k) for k in row.keys or []], off)


def _records(
    session: Session,
    keys: Iterable[tuple[str, str, str]],
    limits: Callable[[str, str], dict[str, Limit]],
    now: datetime,
) -> str:
    """The fresh step record per (category, urgency, status), as the statement's JSON."""
    calendar, out = work_calendar(session=session), []
    for category, urgency, status in keys:
        step, step_limits = STEP_OF_STATUS[status], limits(category, urgency)
        record = (
            step_deadline(now, step_limits[step], calendar=calendar) if step in step_limits else {}
        )
        out.append(
            {
                "key": f"{category}|{urgency}|{status}",
                "due": record.get("due_at"),
                "record": {**record, "escalated_at": now.isoformat()},
            }
        )
    return json.dumps(out)


def apply(
    *,
    session: Session,
    picked: Picked,
    limits: Callable[[str, str], dict[str, Limit]],
    reassign: dict[int, Assignment],
    now: datetime,
) -> tuple[int, int]:
    """Warn and escalate the picked cases in one statement; the counts (warned, escalated)."""
    workers = [
        {"id": i, "worker": a.worker_id, "reason": a.reason}
        for i, a in reassign.items()
        if a.worker_id is not None
    ]
    # the statement sorts ~40,000 events and ~33,000 notices: in memory, not on disk
    session.execute(text("SET LOCAL work_mem = '64MB'"))
    row = session.execute(
        _APPLY,
        {
            "ids": picked.ids,
            "now": now,
            "max": MAX_ESCALATIONS,
            "records": _records(session, picked.keys, limits, now),
            "workers": json.dumps(workers),
            "actor": ACTOR,
            "role": SYSTEM,
            "warn_reason": WARN_REASON,
            "escalate_reason": ESCALATE_REASON,
            "share": WARN_SHARE,
        },
    ).one()
    return int(row.warned), int(row.moved)
