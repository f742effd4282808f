"""What the impact preview answers (`grids.planning.impact`), as typed values.

Each value knows its JSON (`as_json`): the shape ``GET /planning/revisions/{id}/impact``
has always answered, field for field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class CellWorker:
    """Who a changed level-1 cell has, before and after, and who would take its cases."""

    worker_before: int | None
    worker_after: int | None
    worker_after_on_duty: bool | None
    assignee_after: int | None
    assignment_reason_after: str | None


@dataclass
class ChangedCell:
    """One cell the draft adds, removes, reshapes or reparents, with its people and cases."""

    code: str
    level: int
    parent_before: str | None
    parent_after: str | None
    area_before: float | None
    area_after: float | None
    change: str
    households_before: int = 0
    households_after: int = 0
    households_in: int = 0
    households_out: int = 0
    population_before: int = 0
    population_after: int = 0
    open_incidents_before: int = 0
    open_incidents_after: int = 0
    worker: CellWorker | None = None
    """Level-1 cells only."""

    def as_json(self) -> dict[str, Any]:
        """The cell as JSON; the worker fields only for a level-1 cell."""
        out = asdict(self)
        worker = out.pop("worker")
        if self.level == 1 and worker is not None:
            out.update(worker)
        return out


@dataclass
class CaseMove:
    """An open case whose cells change: the codes that change, and its assignee if level 1 does."""

    id: int
    from_: dict[str, str | None] = field(default_factory=dict)
    to: dict[str, str | None] = field(default_factory=dict)
    assignee_before: int | None = None
    assignee_after: int | None = None

    def as_json(self) -> dict[str, Any]:
        """``{"id", "from", "to"}``, with the assignees when the level-1 cell changes."""
        out: dict[str, Any] = {"id": self.id, "from": self.from_, "to": self.to}
        if "l1" in self.from_:
            out["assignee_before"] = self.assignee_before
            out["assignee_after"] = self.assignee_after
        return out


@dataclass(frozen=True)
class WorkerLoad:
    """Open cases and households of a level-1 worker the change touches, before and after."""

    worker_id: int
    cell_code: str | None
    open_cases_before: int
    open_cases_after: int
    households_before: int
    households_after: int


@dataclass(frozen=True)
class OffDuty:
    """A draft level-1 cell whose own worker is off duty, and who would stand in."""

    cell_code: str
    worker_id: int | None
    worker_name: str | None
    stand_in_id: int | None
    stand_in_name: str | None
    stand_in_reason: str | None


@dataclass(frozen=True)
class ImpactTotals:
    """The preview in four numbers."""

    changed_cells: int
    households_moved: int
    population_moved: int
    open_incidents_moving: int


@dataclass(frozen=True)
class Impact:
    """What publishing a draft would change."""

    revision: int
    changed_cells: list[ChangedCell]
    incidents_moving: list[CaseMove]
    workload: list[WorkerLoad]
    cells_without_worker: list[str]
    workers_off_duty: list[OffDuty]
    totals: ImpactTotals

    def as_json(self) -> dict[str, Any]:
        """The answer of ``GET /planning/revisions/{id}/impact``."""
        return {
            "revision": self.revision,
            "changed_cells": [c.as_json() for c in self.changed_cells],
            "incidents_moving": [m.as_json() for m in self.incidents_moving],
            "workload": [asdict(w) for w in self.workload],
            "cells_without_worker": self.cells_without_worker,
            "workers_off_duty": [asdict(o) for o in self.workers_off_duty],
            "totals": asdict(self.totals),
        }
