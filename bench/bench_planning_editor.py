"""Benchmark the planners' editor on a street draft: one edit's round trip, incremental checks.

Usage: ``python bench/bench_planning_editor.py [--database NAME] [--scale 1.0] [--rounds 20]
[--district-rounds 10] [--no-browser]``

Works on its own database of the private cluster (``--database``, created and
loaded with the demo at ``--scale`` when missing), takes a draft of the street
with the most level-1 cells, and times each edit exactly as the endpoint runs it
(`grids.planning.edits.run_edit`: lock, ETag check, load, edit, write the changed
rows, recount, audit, figures, incremental validation, commit), without HTTP:

- move 10 courtyards into a level-1 cell (the nearest of its community; then undo it),
- split a level-1 cell through its middle (then undo it: restore),
- reshape a level-1 cell (shrunk by 2 m; then undo it: restore).

Same run, same draft: the incremental validation an edit runs (the touched cells
and their neighbours) against the full validation of the draft (`validate_draft`),
and their ratio.  Then the same on a district draft (all 1,794 level-1 cells; the
same street's cells are edited), then the first render in Chromium
(`bench_planning_editor_page.py`).  The drafts are discarded; each part ends
with its figures as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from shapely.geometry import LineString, mapping, shape
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from grids.planning.drafts import create_draft, get_revision
from grids.planning.edit_checks import incremental_problems
from grids.planning.edit_requests import move_edit, reshape_edit, restore_edit, split_edit
from grids.planning.edit_store import etag_of, load_tree
from grids.planning.edit_units import discard_draft
from grids.planning.edits import EditContext, run_edit
from grids.planning.validation import (
    ValidationOptions,
    geom_to_wgs84,
    geoms_to_metric,
    validate_draft,
)
from layers.core.roles import Role
from layers.demo.build import Progress
from layers.demo.load import DemoOptions, is_loaded, load_demo
from layers.store.db import make_engine, make_sessionmaker, resolve_database_url
from layers.store.db_admin import create_database
from layers.store.settings import DatabaseSettings

OPTIONS = ValidationOptions()
SRID = OPTIONS.metric_srid

PICK_SQL = text(
    """
    WITH l1 AS (SELECT code, geom FROM grid_draft_cells WHERE revision_id = :r AND level = 1),
    best AS (SELECT c.code, count(*) AS n FROM courtyards y JOIN communities c
      ON c.id = y.community_id WHERE left(c.code, 9) = :street GROUP BY c.code
      ORDER BY n DESC, c.code LIMIT 1),
    target AS (SELECT l1.code, l1.geom FROM l1 JOIN best ON left(l1.code, 12) = best.code
      ORDER BY l1.code LIMIT 1)
    SELECT t.code AS target, (SELECT array_agg(id) FROM (SELECT y.id FROM courtyards y
      JOIN communities c ON c.id = y.community_id JOIN best ON best.code = c.code
      WHERE NOT ST_Covers(t.geom, y.geom) ORDER BY ST_Distance(y.geom, t.geom), y.id LIMIT 10) q)
      AS ids FROM target t
    """
)
"""A level-1 cell of the street's community with the most courtyards, and the 10
courtyards of that community (not already inside it) nearest to it."""


def database(name: str, scale: float) -> str:
    """The URL of the bench's database, made and loaded with the demo when missing."""
    server = resolve_database_url(DatabaseSettings(), start=True)
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(server, pool_size=1)
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        found = exists.scalar() is not None
    engine.dispose()
    if not found:
        from geo_api.migrate import upgrade

        url = create_database(server, name)
        upgrade(url)
    engine = make_engine(url, pool_size=1)
    with make_sessionmaker(engine)() as session:
        if not is_loaded(session):
            load_demo(
                session=session,
                options=DemoOptions(scale=scale),
                keys_path=Path(f"/tmp/{name}-keys.json"),
                report=Progress(print),
            )
    engine.dispose()
    return url


def timed_edit(session: Session, rid: int, op: str, edit_of) -> tuple[float, dict[str, Any]]:
    """Seconds of one edit as the endpoint runs it (committed), and its answer."""
    start = time.perf_counter()
    revision = get_revision(session=session, revision_id=rid)
    ctx = EditContext(rid, etag_of(revision), "bench", Role.PLANNER, OPTIONS, 0.15)
    result = run_edit(session=session, ctx=ctx, op=op, edit=edit_of(revision))
    session.commit()
    return time.perf_counter() - start, result


def undo_of(result: dict[str, Any]):
    """The restore that undoes an edit (what the page's undo sends)."""
    before = {f["properties"]["code"] for f in result["before"]}
    created = [f["id"] for f in result["cells"]["features"] if f["id"] not in before]
    return lambda _r: restore_edit(features=result["before"], remove=created, srid=SRID)


def l1_geometry(session: Session, rid: int, code: str) -> dict[str, Any]:
    row = session.execute(
        text(
            "SELECT ST_AsGeoJSON(geom)::json FROM grid_draft_cells "
            "WHERE revision_id = :r AND code = :c"
        ),
        {"r": rid, "c": code},
    ).scalar_one()
    return row


def one_round(session: Session, rid: int, pick, times: dict[str, list[float]]) -> None:
    """Move 10 courtyards into the target and undo it, split and undo, reshape and undo."""
    yards = list(pick.ids)
    t, res = timed_edit(
        session,
        rid,
        "move",
        lambda r: move_edit(session, r, target=pick.target, kind="courtyard", ids=yards, srid=SRID),
    )
    times["move_10_courtyards"].append(t)
    t, _ = timed_edit(session, rid, "restore", undo_of(res))
    times["undo"].append(t)
    g = shape(l1_geometry(session, rid, pick.target))
    minx, miny, maxx, maxy = g.bounds
    y = (miny + maxy) / 2
    line = mapping(LineString([(minx - 1e-3, y), (maxx + 1e-3, y)]))
    t, res = timed_edit(
        session, rid, "split", lambda _r: split_edit(code=pick.target, line=line, srid=SRID)
    )
    times["split"].append(t)
    t, _ = timed_edit(session, rid, "restore", undo_of(res))
    times["undo"].append(t)
    shrunk = mapping(geom_to_wgs84(geoms_to_metric([g], SRID)[0].buffer(-2.0), SRID))
    t, res = timed_edit(
        session,
        rid,
        "reshape",
        lambda _r: reshape_edit(code=pick.target, geometry=shrunk, srid=SRID),
    )
    times["reshape"].append(t)
    t, _ = timed_edit(session, rid, "restore", undo_of(res))
    times["undo"].append(t)


def p95(xs: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    s = sorted(xs)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


def validation_ratio(session: Session, rid: int, pick, rounds: int) -> dict[str, float]:
    """Incremental (the move's touched cells) vs full validation of the same draft."""
    revision = get_revision(session=session, revision_id=rid)
    tree, _ = load_tree(session=session, revision=revision, options=OPTIONS)
    touched = {pick.target, pick.target[:12]}
    touched |= {c.code for c in tree.cells.values() if c.code[:15] == pick.target}
    inc, full = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        incremental_problems(tree, touched, OPTIONS)
        inc.append(time.perf_counter() - start)
        start = time.perf_counter()
        validate_draft(session=session, revision_id=rid, options=OPTIONS)
        full.append(time.perf_counter() - start)
    session.rollback()
    a, b = statistics.median(inc), statistics.median(full)
    return {
        "incremental_median_ms": round(a * 1000, 1),
        "full_median_ms": round(b * 1000, 1),
        "full_over_incremental": round(b / a, 1),
        "touched_cells": len(touched),
    }


def report(figures: dict[str, Any], times: dict[str, list[float]], ratio: dict) -> None:
    """Print the figures, then the same as one JSON line."""
    street, load_before, load_after = (
        figures["street"],
        figures["loadavg_before"],
        figures["loadavg_after"],
    )
    print(
        f"{figures['scope']} draft (street {street} edited): {figures['draft_cells']} draft "
        f"cells; load {load_before[0]:.2f} "
        f"→ {load_after[0]:.2f} on {os.cpu_count()} cores"
    )
    for k in times:
        print(f"{k:20s} p50 {figures[k + '_p50_ms']:7.1f} ms  p95 {figures[k + '_p95_ms']:7.1f} ms")
    print(f"every edit (move, split, reshape) p95 {figures['edit_p95_ms']} ms")
    print(
        f"validation: incremental {ratio['incremental_median_ms']} ms vs full "
        f"{ratio['full_median_ms']} ms ({ratio['full_over_incremental']}x)"
    )
    print(json.dumps(figures))


def bench_draft(session: Session, scope: str, street: str, rounds: int) -> dict[str, Any]:
    """Time the edits on a draft of `scope` (the same street's cells are edited in both)."""
    rid = create_draft(
        session=session,
        scope=scope,
        code=street if scope == "street" else "",
        author="bench",
        role="planner",
        note=None,
    )
    session.commit()
    cells = session.execute(
        text("SELECT level, count(*) FROM grid_draft_cells WHERE revision_id = :r GROUP BY 1"),
        {"r": rid},
    ).all()
    pick = session.execute(PICK_SQL, {"r": rid, "street": street}).one()
    times: dict[str, list[float]] = {k: [] for k in ("move_10_courtyards", "split", "reshape")}
    times["undo"] = []
    one_round(session, rid, pick, times)  # warm-up (loads the tree), not counted
    times = {k: [] for k in times}
    load_before = os.getloadavg()
    for _ in range(rounds):
        one_round(session, rid, pick, times)
    ratio = validation_ratio(session, rid, pick, 1 if scope == "district" else max(3, rounds // 4))
    load_after = os.getloadavg()
    discard_draft(
        session=session,
        revision=get_revision(session=session, revision_id=rid),
        actor="bench",
        role="planner",
    )
    session.commit()
    edits = times["move_10_courtyards"] + times["split"] + times["reshape"]
    figures = {
        "scope": scope,
        "street": street,
        "draft_cells": {str(level): n for level, n in cells},
        "rounds": rounds,
        **{f"{k}_p50_ms": round(statistics.median(v) * 1000, 1) for k, v in times.items()},
        **{f"{k}_p95_ms": round(p95(v) * 1000, 1) for k, v in times.items()},
        "edit_p95_ms": round(p95(edits) * 1000, 1),
        **ratio,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
        "cores": os.cpu_count(),
    }
    report(figures, times, ratio)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="wangge_bench_editor")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--district-rounds", type=int, default=10)
    parser.add_argument("--no-browser", action="store_true", help="skip the first-render bench")
    args = parser.parse_args()
    url = database(args.database, args.scale)
    engine = make_engine(url, pool_size=1)
    with make_sessionmaker(engine)() as session:
        street = session.execute(
            text(
                "SELECT left(code, 9) FROM grid_cells WHERE valid_to IS NULL AND level = 1 "
                "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
            )
        ).scalar_one()
        bench_draft(session, "street", street, args.rounds)
        bench_draft(session, "district", street, args.district_rounds)
    engine.dispose()
    if not args.no_browser:
        from bench_planning_editor_page import main as first_render

        sys.argv = [sys.argv[0], "--database", args.database, "--scale", str(args.scale)]
        first_render()


if __name__ == "__main__":
    main()
