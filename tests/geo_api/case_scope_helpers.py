"""Shared by the case-scope tests: the expected cases per role, written out independently.

A grid worker sees the cases located in the cell they serve (at their level, by code)
and the cases assigned to them; planners and dispatchers see every case; residents
none of these.  The SQL here does not use `layers.tables.case_scope`, so the tests check
the rule rather than repeat it.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from layers.store.db import make_sessionmaker
from layers.tables.api_keys import create_key
from tests.conftest import DemoDatabase as DemoDb

LEVEL3 = "level3_worker"
"""A key made for a level-3 worker, so the rule is checked below level 1 too."""
WORKERS = ["grid_worker", LEVEL3]
STAFF = [*WORKERS, "planner", "dispatcher"]
SCOPE_SQL = """
SELECT i.id FROM incidents i JOIN workers w ON w.id = :w
WHERE i.assignee_worker_id = w.id
   OR (CASE w.level WHEN 1 THEN i.l1_cell_id WHEN 2 THEN i.l2_cell_id ELSE i.l3_cell_id END)
      IN (SELECT g.id FROM grid_cells g WHERE g.code = w.cell_code)
"""
Keys = dict[str, tuple[dict[str, str], int | None]]


def ids(engine: Engine, sql: str, **params: object) -> set[int]:
    """The ids a query returns."""
    with engine.connect() as conn:
        return set(conn.execute(text(sql), params).scalars())


def make_keys(test_db: DemoDb, engine: Engine) -> Keys:
    """Headers and worker id per role; the level-3 worker's key is made in this database."""
    with engine.connect() as conn:
        worker = conn.execute(
            text(
                "SELECT w.id FROM workers w WHERE w.level = 3 AND EXISTS (SELECT 1 FROM incidents "
                "i JOIN grid_cells g ON g.id = i.l3_cell_id WHERE g.code = w.cell_code) "
                "ORDER BY w.id LIMIT 1"
            )
        ).scalar_one()
    with make_sessionmaker(engine)() as session:
        key = create_key(session=session, role="grid_worker", name="l3 worker", worker_id=worker)
        session.commit()
    return {
        "resident": ({}, None),
        "grid_worker": (test_db.headers("grid_worker"), 1),
        LEVEL3: ({"Authorization": f"Bearer {key}"}, worker),
        "planner": (test_db.headers("planner"), None),
        "dispatcher": (test_db.headers("dispatcher"), None),
    }


def expected(engine: Engine, role: str, worker: int | None) -> set[int]:
    """The cases a role sees."""
    if role in ("planner", "dispatcher"):
        return ids(engine, "SELECT id FROM incidents")
    return ids(engine, SCOPE_SQL, w=worker)
