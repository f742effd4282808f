"""Who takes a case: the level-1 worker on duty, else the cell's backup — one rule, one place.

责任主体唯一 — exactly one responsible party, and one who is at work:

1. ``responsible``: the level-1 worker of the case's level-1 cell (by code), when on duty;
2. ``substitute``: else that worker's configured substitute (`workers.substitute_id`),
   when the substitute is an on-duty level-1 worker;
3. ``nearest_on_duty``: else the on-duty level-1 worker of the same community whose
   own live level-1 cell is nearest the case (geodesic metres, then the lowest id) —
   the neighbouring cell's worker, not whoever's phone last reported nearby;
4. ``none``: nobody (no level-1 cell: the community's queue; or nobody on duty).

"On duty" is `workers.on_duty` as it is when the rule runs (the table models duty
as a flag that rotas and the handheld app set; there are no shift times).  The
rule is evaluated in SQL, for one case or for many cells at once, so intake,
dispatch, escalation, re-routing after a publish and the impact preview agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.tables.grid_cells import live
from layers.tables.incidents import ASSIGNMENT_REASONS, Incident

__all__ = [
    "ASSIGNMENT_REASONS",
    "PICK_SQL",
    "POINT_RULE_SQL",
    "RULE_SQL",
    "Assignment",
    "assign_cases",
    "assign_cells",
    "assign_point",
    "reassign_if_off_duty",
]

_RULE = f"""
    LEFT JOIN LATERAL (SELECT w.id, w.on_duty, w.substitute_id FROM workers w
      WHERE w.level = 1 AND w.cell_code = r.code ORDER BY w.on_duty DESC, w.id LIMIT 1) own ON true
    LEFT JOIN LATERAL (SELECT s.id FROM workers s WHERE own.on_duty IS NOT TRUE
      AND s.id = own.substitute_id AND s.on_duty AND s.level = 1) sub ON true
    LEFT JOIN LATERAL (SELECT w.id FROM workers w
      LEFT JOIN grid_cells g ON g.level = 1 AND {live("g")} AND g.code = w.cell_code
      WHERE own.on_duty IS NOT TRUE AND sub.id IS NULL AND r.code IS NOT NULL
        AND r.community_id IS NOT NULL AND w.level = 1 AND w.on_duty
        AND w.community_id = r.community_id
      ORDER BY ST_Distance(g.geom::geography, r.pt::geography) NULLS LAST, w.id LIMIT 1) near
      ON true
"""  # noqa: S608 - the live-grid condition, a constant
_PICK = """
    CASE WHEN own.on_duty THEN own.id ELSE coalesce(sub.id, near.id) END AS worker_id,
    CASE WHEN own.on_duty THEN 'responsible' WHEN sub.id IS NOT NULL THEN 'substitute'
         WHEN near.id IS NOT NULL THEN 'nearest_on_duty' ELSE 'none' END AS reason,
    own.id AS responsible_id, own.on_duty AS responsible_on_duty
"""
RULE_SQL = _RULE
"""The duty rule's joins over a source ``r`` (``code``, ``community_id``, ``pt``): many rows at
once, as intake's one statement uses it (with `PICK_SQL` as its select list)."""
PICK_SQL = _PICK
"""The rule's answer columns: ``worker_id``, ``reason``, ``responsible_id``, ...on_duty."""
POINT_RULE_SQL = (
    "SELECT "  # noqa: S608 - constant fragments only
    + _PICK
    + " FROM (SELECT CAST(:code AS text) AS code, CAST(:community AS int) AS community_id,"
    " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS pt) r" + _RULE
)
"""The rule for one point as a SELECT (parameters ``code``, ``community``, ``lon``, ``lat``):
what `assign_point` runs, and what intake's one statement embeds as a CTE.  A NULL
``code`` gives `NOBODY` (worker NULL, reason ``none``)."""
_POINT_SQL = text(POINT_RULE_SQL)
_CASES_SQL = text(
    "SELECT r.id, "  # noqa: S608 - constant fragments only
    + _PICK
    + " FROM (SELECT i.id, g.code, i.community_id, i.geom AS pt FROM incidents i"
    " LEFT JOIN grid_cells g ON g.id = i.l1_cell_id WHERE i.id = ANY(CAST(:ids AS bigint[]))) r"
    + _RULE
)
_CELLS_SQL = text(
    f"""
    WITH r AS (
      SELECT c.code, m.id AS community_id, g.pt FROM unnest(CAST(:codes AS text[])) AS c(code)
      LEFT JOIN communities m ON m.code = left(c.code, 12)
      LEFT JOIN LATERAL (
        SELECT CASE WHEN ST_IsValid(d.geom) THEN ST_PointOnSurface(d.geom) END AS pt
        FROM grid_draft_cells d WHERE d.revision_id = :rev AND d.level = 1 AND d.code = c.code
        UNION ALL
        SELECT ST_PointOnSurface(x.geom) FROM grid_cells x
        WHERE x.level = 1 AND {live("x")} AND x.code = c.code
        LIMIT 1) g ON true)
    SELECT r.code, """  # noqa: S608 - constant fragments only
    + _PICK
    + " FROM r"
    + _RULE
)


@dataclass(frozen=True)
class Assignment:
    """Who takes the case (`worker_id`), why (`reason`), and the cell's own worker."""

    worker_id: int | None
    reason: str
    responsible_id: int | None
    responsible_on_duty: bool | None

    def event_data(self) -> dict[str, object]:
        """What an event records about the assignment (the responsible one when bypassed)."""
        data: dict[str, object] = {
            "assignee_worker_id": self.worker_id,
            "assignment_reason": self.reason,
        }
        if self.responsible_id is not None and self.responsible_id != self.worker_id:
            data["responsible_worker_id"] = self.responsible_id
        return data


NOBODY = Assignment(None, "none", None, None)
"""The assignment of a point with no level-1 cell (it waits in the community's queue)."""


def _assignment(row) -> Assignment:
    return Assignment(row.worker_id, row.reason, row.responsible_id, row.responsible_on_duty)


def assign_point(
    *, session: Session, l1_code: str | None, community_id: int | None, lon: float, lat: float
) -> Assignment:
    """The rule for a case at WGS-84 (lon, lat) in level-1 cell `l1_code` of `community_id`."""
    if l1_code is None:
        return NOBODY
    row = session.execute(
        _POINT_SQL, {"code": l1_code, "community": community_id, "lon": lon, "lat": lat}
    ).one()
    return _assignment(row)


def assign_cases(*, session: Session, incident_ids: Sequence[int]) -> dict[int, Assignment]:
    """The rule for many cases at once, each at its own point (what `assign_point` gives)."""
    if not incident_ids:
        return {}
    # one array literal (a string), not ARRAY[…] of thousands of constants to parse
    ids = "{" + ",".join(str(int(i)) for i in incident_ids) + "}"
    rows = session.execute(_CASES_SQL, {"ids": ids}).all()
    return {int(r.id): _assignment(r) for r in rows}


def assign_cells(
    *, session: Session, cell_codes: Sequence[str], revision_id: int | None = None
) -> dict[str, Assignment]:
    """The rule for many level-1 cells at once, measured from each cell's inner point.

    A code is looked up in the draft `revision_id` first (the impact preview), then
    in the live grid; its community is the one its code starts with.
    """
    codes = sorted(set(cell_codes))
    if not codes:
        return {}
    rows = session.execute(_CELLS_SQL, {"codes": codes, "rev": revision_id}).all()
    return {r.code: _assignment(r) for r in rows}


_CASE_SQL = text(
    """
    SELECT g.code, i.community_id, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat, w.on_duty
    FROM incidents i LEFT JOIN grid_cells g ON g.id = i.l1_cell_id
    LEFT JOIN workers w ON w.id = i.assignee_worker_id WHERE i.id = :id
    """
)


def reassign_if_off_duty(*, session: Session, incident: Incident) -> dict[str, object] | None:
    """Give the case to whoever the rule picks now when its assignee is off duty (or none).

    Returns what the event records (``reassigned``: from, to, reason), or None when
    nothing changes: the assignee is on duty, or nobody else could take it (the case
    then keeps its assignee, so it is never left without a responsible party).
    """
    row = session.execute(_CASE_SQL, {"id": incident.id}).one()
    if incident.assignee_worker_id is not None and row.on_duty:
        return None
    now = assign_point(
        session=session,
        l1_code=row.code,
        community_id=row.community_id,
        lon=row.lon,
        lat=row.lat,
    )
    if now.worker_id is None or now.worker_id == incident.assignee_worker_id:
        return None
    before = incident.assignee_worker_id
    incident.assignee_worker_id, incident.assignment_reason = now.worker_id, now.reason
    return {"reassigned": {"from": before, "to": now.worker_id, "reason": now.reason}}
