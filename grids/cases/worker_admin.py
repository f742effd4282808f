"""Worker management for planners: create a grid worker, rename, move to a cell, duty on/off.

A new cell drawn in the planners' editor needs its level-1 worker before it is
published (the assignment rule of `grids.cases.duty` finds workers by cell code).
Cells are checked where they are: a live level-1 cell, or — when the caller names a
draft revision — a level-1 cell of that draft (codes survive publishing, so the
worker serves the cell once it is live).  Every change is audited in the same
transaction.  Phone numbers are personal data and are neither set nor answered here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.errors import NotFoundError, UnprocessableError
from layers.tables.audit import record
from layers.tables.grid_cells import live
from layers.tables.workers import Worker

_LIVE_CELL = text(
    "SELECT g.level, g.community_id FROM grid_cells g "  # noqa: S608 - the live-grid condition
    f"WHERE {live('g')} AND g.code = :code ORDER BY g.level LIMIT 1"
)
_DRAFT_CELL = text(
    "SELECT d.level, c.id AS community_id FROM grid_draft_cells d "
    "JOIN communities c ON c.code = left(d.code, 12) "
    "WHERE d.revision_id = :r AND d.code = :code LIMIT 1"
)


@dataclass(frozen=True)
class Actor:
    """Who asks (for the audit log)."""

    name: str
    role: str


def _cell(session: Session, code: str, revision_id: int | None) -> int:
    """The community of level-1 cell `code` (422 `unknown_cell` / `not_level_1` otherwise)."""
    row = session.execute(_LIVE_CELL, {"code": code}).first()
    if row is None and revision_id is not None:
        row = session.execute(_DRAFT_CELL, {"code": code, "r": revision_id}).first()
    where = f"the live grid or draft {revision_id}" if revision_id else "the live grid"
    if row is None:
        raise UnprocessableError(f"no cell {code!r} in {where}", code="unknown_cell", cell=code)
    if row.level != 1:
        raise UnprocessableError(
            f"cell {code!r} is a level-{row.level} cell; workers serve level-1 cells",
            code="not_level_1",
            cell=code,
        )
    return int(row.community_id)


def _free_code(session: Session, cell_code: str) -> str:
    """`W<cell code>` as the demo workers are coded, with `-2`, `-3`… when taken."""
    taken = set(
        session.execute(
            text("SELECT code FROM workers WHERE code LIKE :p"), {"p": f"W{cell_code}%"}
        ).scalars()
    )
    n, code = 1, f"W{cell_code}"
    while code in taken:
        n += 1
        code = f"W{cell_code}-{n}"
    return code


def worker_out(worker: Worker) -> dict[str, Any]:
    """What the API answers of a worker (no phone)."""
    return {
        "id": worker.id,
        "code": worker.code,
        "name": worker.name,
        "level": worker.level,
        "cell_code": worker.cell_code,
        "community_id": worker.community_id,
        "on_duty": worker.on_duty,
    }


def create_worker(
    *,
    session: Session,
    name: str,
    cell_code: str,
    on_duty: bool,
    revision_id: int | None,
    actor: Actor,
) -> Worker:
    """A new level-1 worker serving `cell_code`; audited `worker_create`."""
    community = _cell(session, cell_code, revision_id)
    worker = Worker(
        code=_free_code(session, cell_code),
        name=name,
        level=1,
        cell_code=cell_code,
        community_id=community,
        on_duty=on_duty,
    )
    session.add(worker)
    session.flush()
    record(
        session=session,
        actor=actor.name,
        role=actor.role,
        action="worker_create",
        entity="worker",
        entity_id=worker.id,
        data={"name": name, "cell_code": cell_code, "on_duty": on_duty, "revision": revision_id},
    )
    return worker


def update_worker(
    *,
    session: Session,
    worker_id: int,
    changes: dict[str, Any],
    revision_id: int | None,
    actor: Actor,
) -> Worker:
    """Rename (`name`), move (`cell_code`, a level-1 cell) or set `on_duty`; audited with
    each field's value before and after (`worker_update`)."""
    worker = session.get(Worker, worker_id, with_for_update=True)
    if worker is None:
        raise NotFoundError(f"no worker {worker_id}", code="unknown_worker")
    before = worker_out(worker)
    if "cell_code" in changes:
        if worker.level != 1:
            raise UnprocessableError(
                "only level-1 workers are moved between cells here", code="not_level_1"
            )
        worker.community_id = _cell(session, changes["cell_code"], revision_id)
        worker.cell_code = changes["cell_code"]
    if "name" in changes:
        worker.name = changes["name"]
    if "on_duty" in changes:
        worker.on_duty = changes["on_duty"]
    after = worker_out(worker)
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if diff:
        record(
            session=session,
            actor=actor.name,
            role=actor.role,
            action="worker_update",
            entity="worker",
            entity_id=worker.id,
            data={"changes": diff, "revision": revision_id},
        )
    session.flush()
    return worker


def scope_workers(*, session: Session, community_ids: list[int]) -> list[dict[str, Any]]:
    """The level-1 workers of some communities, by code: whom the editor offers to move."""
    rows = session.execute(
        text(
            "SELECT id, code, name, level, cell_code, community_id, on_duty FROM workers "
            "WHERE level = 1 AND community_id = ANY(:c) ORDER BY code"
        ),
        {"c": community_ids},
    ).all()
    return [dict(r._mapping) for r in rows]
