"""Which cases a caller may see: the one access rule that every face of the service applies.

REST (`/incidents`, the dispatch queue), OGC (items, single items, counts, tiles,
downloads), Open311 and the map pages all narrow `incidents` with `CaseScope.rows_sql`,
so a grid worker sees the same cases wherever they look:

- dispatchers, admins and planners (and the system itself) see every case, except a
  dispatcher whose key is staff of a street sub-centre or a community station
  (`platform_staff`): they see their area's cases and act on their unit's queue
  (the sub-centre's own and its stations');
- department staff see the cases transferred to their department (`case_transfers`);
- a grid worker sees the cases located in their cell (at their level, by cell code,
  so a case stays theirs across revisions that keep the code) and those assigned to them;
- a resident sees the cases reported with their own key (a case token opens one more,
  checked by the caller); an anonymous resident sees none this way.

It lives here, beside the incidents table, because `layers` (OGC) may not import
`grids`; `grids.cases.access` builds on it.  Reporter data follows its own rule
(`sees_reporter`): in clear for dispatchers and admins, and for the assigned grid
worker where the category needs a call-back; masked for other staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.roles import SEES_ALL_CASES, SEES_PERSONAL_DATA, SYSTEM, Role

SEE_ALL_ROLES: frozenset[str] = SEES_ALL_CASES | {SYSTEM}
"""Who is scoped to every case: `SEES_ALL_CASES`, and the service itself."""


@dataclass(frozen=True)
class Viewer:
    """Who reads cases: a role, a name for the audit trail, and the worker or key behind it."""

    role: str
    name: str = "anonymous"
    worker_id: int | None = None
    key_id: int | None = None


@dataclass(frozen=True)
class CaseScope:
    """A viewer with their cell resolved: what `rows_sql` needs, looked up once per request."""

    viewer: Viewer
    cell_level: int | None = None
    cell_code: str | None = None
    unit: UnitPost | None = None
    department_id: int | None = None

    @property
    def sees_all(self) -> bool:
        """True when no case is out of this viewer's reach."""
        local = self.unit is not None and self.unit.level != "district"
        return self.viewer.role in SEE_ALL_ROLES and not local

    def queue_sql(self, alias: str = "i") -> tuple[str, dict[str, Any]]:
        """A WHERE fragment: the cases this viewer may act on as a dispatcher (its unit's queue)."""
        if self.sees_all or self.unit is None:
            return self.rows_sql(alias)
        return (
            f"{alias}.unit_id IN (SELECT id FROM platform_units "  # noqa: S608 - our alias
            "WHERE id = :cs_unit OR parent_id = :cs_unit)",
            {"cs_unit": self.unit.id},
        )

    def rows_sql(self, alias: str = "i") -> tuple[str, dict[str, Any]]:
        """A WHERE fragment limiting `alias` (a row of incidents) to this scope, and its values.

        The placeholders are `:cs_*`, so the fragment can join any statement's own binds.
        """
        role = self.viewer.role
        if self.sees_all:
            return "TRUE", {}
        if self.unit is not None and role in SEE_ALL_ROLES:
            return self._area_sql(alias, self.unit)
        if role == Role.DEPARTMENT:
            if self.department_id is None:
                return "FALSE", {}
            return (
                f"EXISTS (SELECT 1 FROM case_transfers ct WHERE ct.incident_id = {alias}.id "  # noqa: S608 - our alias
                "AND ct.department_id = :cs_dept)",
                {"cs_dept": self.department_id},
            )
        if role == Role.GRID_WORKER:
            if self.viewer.worker_id is None:
                return "FALSE", {}
            assigned = f"{alias}.assignee_worker_id = :cs_worker"
            params: dict[str, Any] = {"cs_worker": self.viewer.worker_id}
            if self.cell_level not in (1, 2, 3) or not self.cell_code:
                return assigned, params
            column = f"{alias}.l{self.cell_level}_cell_id"
            params["cs_code"] = self.cell_code
            return (
                f"({assigned} OR {column} IN (SELECT id FROM grid_cells WHERE code = :cs_code))",  # noqa: S608 - our alias, values bound
                params,
            )
        if self.viewer.key_id is not None:
            return f"{alias}.reporter_key_id = :cs_key", {"cs_key": self.viewer.key_id}
        return "FALSE", {}

    @staticmethod
    def _area_sql(alias: str, unit: UnitPost) -> tuple[str, dict[str, Any]]:
        """A local dispatcher's view: its unit's queue and every case of its area (informed)."""
        queue = f"{alias}.unit_id IN (SELECT id FROM platform_units WHERE id = :cs_unit OR parent_id = :cs_unit)"  # noqa: S608, E501 - our alias
        params: dict[str, Any] = {"cs_unit": unit.id}
        if unit.level == "street":
            params["cs_area"] = unit.street_id
            return f"({queue} OR {alias}.street_id = :cs_area)", params
        params["cs_area"] = unit.community_id
        return f"({queue} OR {alias}.community_id = :cs_area)", params

    def sees_reporter(self, *, assignee_worker_id: int | None, needs_callback: bool) -> bool:
        """May this viewer read a visible case's reporter name and phone in clear?"""
        role = self.viewer.role
        if role in SEES_PERSONAL_DATA:
            return True
        if role == Role.DEPARTMENT:
            return needs_callback and self.department_id is not None
        return (
            role == Role.GRID_WORKER
            and needs_callback
            and self.viewer.worker_id is not None
            and assignee_worker_id == self.viewer.worker_id
        )


@dataclass(frozen=True)
class UnitPost:
    """The platform unit a dispatcher's key is staff of."""

    id: int
    level: str
    street_id: int | None
    community_id: int | None


def resolve_scope(*, session: Session, viewer: Viewer) -> CaseScope:
    """The viewer's scope: a grid worker's cell, a dispatcher's unit, a department key's own."""
    if viewer.role == Role.DEPARTMENT and viewer.key_id is not None:
        dept = session.execute(
            text("SELECT department_id FROM department_staff WHERE key_id = :k"),
            {"k": viewer.key_id},
        ).scalar()
        return CaseScope(viewer, department_id=dept)
    if viewer.role == Role.DISPATCHER and viewer.key_id is not None:
        post = session.execute(
            text(
                "SELECT u.id, u.level, u.street_id, u.community_id FROM platform_staff s "
                "JOIN platform_units u ON u.id = s.unit_id WHERE s.key_id = :k"
            ),
            {"k": viewer.key_id},
        ).first()
        unit = UnitPost(post.id, post.level, post.street_id, post.community_id) if post else None
        return CaseScope(viewer, unit=unit)
    if viewer.role != Role.GRID_WORKER or viewer.worker_id is None:
        return CaseScope(viewer)
    row = session.execute(
        text("SELECT level, cell_code FROM workers WHERE id = :w"), {"w": viewer.worker_id}
    ).first()
    if row is None or not row.cell_code:
        return CaseScope(viewer)
    return CaseScope(viewer, int(row.level), row.cell_code)


def public_cases_sql(alias: str = "i") -> str:
    """Cases anyone may know about (generalised): a public category through a public channel.

    The categories and channels tables carry the flags (migration 0009), so a district
    decides what it publishes without a code change.
    """
    return (
        "EXISTS (SELECT 1 FROM categories pc JOIN channels pch "  # noqa: S608 - our alias only
        f"ON pch.code = {alias}.channel_code "
        f"WHERE pc.code = {alias}.category_code AND pc.public AND pch.public)"
    )
