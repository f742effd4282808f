"""Benchmark grid planning: validate a district draft, impact and publish of a street change.

Usage: ``python bench/bench_planning.py [--street CODE] [--subset 1500] [--scale 1.0]``

Works on the private cluster's database (the demo is loaded at `--scale` when
missing).  Every step runs in a transaction that is rolled back, so the demo is
left as it was.  Baselines measured in the same run:

- validation vs a naive pairwise check (every pair of same-level cells
  intersected, no index) on the first `--subset` cells, both timed on that
  subset; and vs PostGIS per-parent ``ST_Union`` area sums over the whole
  district (detects, but cannot point at, problems);
- impact vs a naive placement of each building in the draft (scan every cell,
  no index) on 300 buildings, extrapolated to the street's buildings;
- publish of a street change vs publish of an unchanged copy of the street
  (the fixed cost: lock, base check, validation).

The last line is the figures as JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo_api.settings import Settings
from grids.planning.balance import SuggestOptions, suggest
from grids.planning.drafts import create_draft, read_draft
from grids.planning.impact import impact
from grids.planning.publish import publish
from grids.planning.topology import validate
from grids.planning.validation import (
    ValidationOptions,
    draft_cells_metric,
    scope_context,
    validate_draft,
)
from layers.core.now import system_clock
from layers.core.roles import Role
from layers.demo.build import Progress
from layers.demo.load import DemoOptions, is_loaded, load_demo
from layers.store.db import make_engine, make_sessionmaker, resolve_database_url
from layers.tables.grid_cells import LIVE

OPTIONS = ValidationOptions()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of one call, and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def naive_pairwise(cells) -> int:
    """Every same-level pair intersected (no spatial index): the textbook O(n²) check."""
    found = 0
    for a, b in itertools.combinations(cells, 2):
        if a.level == b.level and shapely.area(shapely.intersection(a.geom, b.geom)) > 1e-3:
            found += 1
    return found


UNION_SQL = text(
    "SELECT count(*) FILTER (WHERE abs(sum_area - union_area) > 1) FROM ("
    "SELECT d.parent_code, sum(ST_Area(ST_Transform(d.geom, 32648))) AS sum_area, "
    "ST_Area(ST_Transform(ST_Union(d.geom), 32648)) AS union_area "
    "FROM grid_draft_cells d WHERE d.revision_id = :r GROUP BY d.parent_code) x"
)


def bench_validation(session: Session, subset: int) -> dict[str, Any]:
    """District draft: full validation, and the two baselines."""
    rid = create_draft(
        session=session, scope="district", code=None, author="bench", role=Role.PLANNER, note=None
    )
    t_full, report = timed(
        lambda: validate_draft(session=session, revision_id=rid, options=OPTIONS)
    )
    t_union, _ = timed(lambda: session.execute(UNION_SQL, {"r": rid}).scalar())
    rows = read_draft(session=session, revision_id=rid)
    ctx = scope_context(session=session, scope="district", code=rows[0].code[:6], options=OPTIONS)
    cells = draft_cells_metric(rows[:subset])
    t_ours_subset, _ = timed(lambda: validate(cells, ctx))
    t_naive_subset, _ = timed(lambda: naive_pairwise(cells))
    session.rollback()
    return {
        "district_cells": report.cells,
        "problems": len(report.problems),
        "validate_s": round(t_full, 3),
        "st_union_area_checks_s": round(t_union, 3),
        "subset_cells": len(cells),
        "subset_validate_s": round(t_ours_subset, 3),
        "subset_naive_pairwise_s": round(t_naive_subset, 3),
        "naive_over_ours_subset": round(t_naive_subset / max(t_ours_subset, 1e-9), 1),
        "naive_pairwise_district_extrapolated_s": round(
            t_naive_subset * (report.cells / max(len(cells), 1)) ** 2
        ),
    }


def street_draft(session: Session, street: str, change: bool) -> int:
    """A street draft; with `change`, rebalanced level-1 cells (a big, valid redraw)."""
    rid = create_draft(
        session=session, scope="street", code=street, author="bench", role=Role.PLANNER, note=None
    )
    if change:
        suggest(
            session=session,
            revision_id=rid,
            options=SuggestOptions(level=1),
            actor="bench",
            role=Role.PLANNER,
        )
    return rid


def naive_placement(session: Session, rid: int, street: str, sample: int) -> tuple[float, int]:
    """Seconds to place `sample` buildings by scanning all draft cells, and the street's count."""
    rows = read_draft(session=session, revision_id=rid)
    pts = (
        session.execute(
            text(
                "SELECT ST_AsBinary(ST_PointOnSurface(b.geom)) FROM buildings b JOIN communities c "
                "ON c.id = b.community_id WHERE left(c.code, 9) = :s ORDER BY b.id"
            ),
            {"s": street},
        )
        .scalars()
        .all()
    )
    points = shapely.from_wkb([bytes(p) for p in pts[:sample]])
    start = time.perf_counter()
    for p in points:
        for r in rows:
            if r.geom.covers(p):
                pass
    return time.perf_counter() - start, len(pts)


def bench_street(session: Session, street: str, metric_srid: int) -> dict[str, Any]:
    """Impact and publish of a redrawn street, with their baselines."""
    rid = street_draft(session, street, change=True)
    t_impact, result = timed(
        lambda: impact(session=session, revision_id=rid, metric_srid=metric_srid)
    )
    t_naive, n_buildings = naive_placement(session, rid, street, 300)
    naive_full = t_naive * n_buildings / 300
    t_publish, summary = timed(
        lambda: publish(
            session=session,
            revision_id=rid,
            actor="bench",
            role=Role.PLANNER,
            options=OPTIONS,
            now=system_clock(),
        )
    )
    session.rollback()
    same = street_draft(session, street, change=False)
    t_noop, _ = timed(
        lambda: publish(
            session=session,
            revision_id=same,
            actor="bench",
            role=Role.PLANNER,
            options=OPTIONS,
            now=system_clock(),
        )
    )
    session.rollback()
    return {
        "street": street,
        "changed_cells": result.totals.changed_cells,
        "households_moved": result.totals.households_moved,
        "impact_s": round(t_impact, 3),
        "naive_placement_extrapolated_s": round(naive_full, 1),
        "naive_over_impact": round(naive_full / max(t_impact, 1e-9), 1),
        "publish_s": round(t_publish, 3),
        "publish_closed": summary.closed,
        "publish_opened": summary.opened,
        "publish_cases_moved": summary.cases_moved,
        "publish_unchanged_s": round(t_noop, 3),
        "publish_over_unchanged": round(t_publish / max(t_noop, 1e-9), 2),
    }


def biggest_street(session: Session) -> str:
    """The street with the most live cells."""
    return session.execute(
        text(
            f"SELECT left(code, 9) FROM grid_cells WHERE {LIVE} "
            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        )
    ).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--street", default=None, help="street code (default: the biggest)")
    parser.add_argument("--subset", type=int, default=1500, help="cells for the O(n²) baseline")
    parser.add_argument("--scale", type=float, default=1.0, help="demo scale if none is loaded")
    args = parser.parse_args()

    settings = Settings()
    engine = make_engine(resolve_database_url(settings.db, start=True), pool_size=2)
    factory = make_sessionmaker(engine)
    with factory() as session:
        if not is_loaded(session.connection()):
            print(f"loading the demo at scale {args.scale} (once)")
            load_demo(
                session=session,
                options=DemoOptions(scale=args.scale, now=datetime.now(UTC)),
                keys_path=settings.db.home.expanduser().absolute() / "demo-keys.json",
                report=Progress(print),
            )
        figures = bench_validation(session, args.subset)
        street = args.street or biggest_street(session)
        figures.update(bench_street(session, street, settings.metric_srid))
    engine.dispose()

    print(
        f"validate district draft: {figures['district_cells']:,} cells in "
        f"{figures['validate_s']:.2f} s ({figures['problems']} problems; target <= 10 s); "
        f"PostGIS ST_Union area checks (detect only) {figures['st_union_area_checks_s']:.2f} s"
    )
    print(
        f"  subset of {figures['subset_cells']} cells: ours {figures['subset_validate_s']:.3f} s, "
        f"naive pairwise {figures['subset_naive_pairwise_s']:.2f} s "
        f"-> naive / ours = {figures['naive_over_ours_subset']}x (naive on the whole district "
        f"~{figures['naive_pairwise_district_extrapolated_s']:,} s by n²)"
    )
    print(
        f"impact of street {figures['street']} redraw ({figures['changed_cells']} changed cells, "
        f"{figures['households_moved']:,} households moved): {figures['impact_s']:.2f} s "
        f"(target <= 2 s); naive placement ~{figures['naive_placement_extrapolated_s']} s "
        f"-> {figures['naive_over_impact']}x"
    )
    print(
        f"publish street redraw: {figures['publish_s']:.2f} s (target <= 5 s; closed "
        f"{figures['publish_closed']}, opened {figures['publish_opened']}, cases moved "
        f"{figures['publish_cases_moved']}); unchanged copy {figures['publish_unchanged_s']:.2f} s "
        f"-> {figures['publish_over_unchanged']}x"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
