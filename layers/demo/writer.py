"""Write a generated demo district into the tables, in the caller's transaction.

Ids are assigned here (1..n per table) so foreign keys can be written with
COPY in one pass; sequences are moved past them afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import numpy as np
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from layers.demo.build import DemoDistrict, Progress
from layers.demo.geoms import to_wgs84
from layers.demo.write_base import plan_base, write_base
from layers.demo.write_cases import write_cases
from layers.demo.write_places import NO_BASE, write_devices, write_dwellings
from layers.store.copy import copy_rows, hex_ewkb, reset_sequence
from layers.tables.platform_units import build_units

DEMO_AUTHOR = "wangge demo"


TABLES = (
    "districts",
    "streets",
    "communities",
    "grid_revisions",
    "grid_cells",
    "courtyards",
    "buildings",
    "addresses",
    "dwellings",
    "persons",
    "units",
    "cameras",
    "service_points",
    "workers",
    "incidents",
    "incident_events",
)
"""Every table the demo writes, parents first; their sequences are moved past the ids."""


def write_demo(conn: Connection, demo: DemoDistrict, report: Progress) -> dict[str, int]:
    """COPY every table of the demo; returns the row count per table."""
    district, streets, communities, *cells = wgs84_levels(demo)
    written = write_areas(conn, demo, district[0], streets, communities)
    written["platform_units"] = build_units(conn)
    report("wrote streets, communities and the platform's units")
    base = plan_base(demo)  # the buildings' figures become what the records count
    valid_from = demo.now - timedelta(days=400)
    write_first_revision(conn, valid_from)
    cell_ids = write_cells(conn, demo, valid_from, dict(zip((1, 2, 3), cells, strict=True)))
    written["grid_cells"] = sum(len(v) for v in cell_ids.values())
    report(f"wrote {written['grid_cells']:,} grid cells")
    written.update(write_dwellings(conn, demo))
    report(f"wrote {written['courtyards']:,} courtyards and {written['buildings']:,} buildings")
    written.update(write_base(conn, demo, base))
    report(f"wrote {written['persons']:,} persons in {written['dwellings']:,} dwellings")
    written.update(write_devices(conn, demo))
    report("wrote cameras, service points and workers")
    written.update(write_cases(conn, demo, cell_ids))
    report(f"wrote {written['incidents']:,} incidents and {written['incident_events']:,} events")
    for table in TABLES:
        reset_sequence(conn, table)
    return written


def wgs84_levels(demo: DemoDistrict) -> list[list[BaseGeometry]]:
    """Every level's outlines in WGS-84, from the district down to level 3."""
    # The levels are one coverage built to survive projection (`tiling`): vertex-wise
    # projection keeps their shared edges identical.
    return [to_wgs84(geoms, multi=True) for geoms, _ in demo.hierarchy.levels()]


def write_areas(
    conn: Connection,
    demo: DemoDistrict,
    district: BaseGeometry,
    streets: list[BaseGeometry],
    communities: list[BaseGeometry],
    base: Mapping[str, int] = NO_BASE,
) -> dict[str, int]:
    """The district, its streets and their communities (WGS-84 outlines given); row counts."""
    h = demo.hierarchy
    written: dict[str, int] = {}
    comm_street = h.communities.parent
    d_id, s0, c0 = (base.get(t, 0) for t in ("districts", "streets", "communities"))
    d_id += 1
    written["districts"] = copy_rows(
        conn,
        "districts",
        ("id", "code", "name", "geom"),
        [(d_id, demo.code, demo.name, district)],
    )
    written["streets"] = copy_rows(
        conn,
        "streets",
        ("id", "code", "name", "district_id", "geom"),
        [
            (i + 1 + s0, c, n, d_id, g)
            for i, (c, n, g) in enumerate(
                zip(h.streets.codes, h.streets.names, streets, strict=True)
            )
        ],
    )
    written["communities"] = copy_rows(
        conn,
        "communities",
        ("id", "code", "name", "street_id", "geom"),
        [
            (i + 1 + c0, c, n, int(comm_street[i]) + 1 + s0, g)
            for i, (c, n, g) in enumerate(
                zip(
                    h.communities.codes,
                    h.communities.names,
                    communities,
                    strict=True,
                )
            )
        ],
    )
    return written


def write_first_revision(conn: Connection, valid_from: datetime) -> None:
    """Revision 1, published: the grid every demo cell belongs to from `valid_from`."""
    copy_rows(
        conn,
        "grid_revisions",
        ("id", "created_at", "published_at", "author", "note", "status", "scope"),
        [
            (
                1,
                valid_from,
                valid_from,
                DEMO_AUTHOR,
                "demo district: initial grid",
                "published",
                "district",
            )
        ],
    )


def write_cells(
    conn: Connection,
    demo: DemoDistrict,
    valid_from: datetime,
    stored: dict[int, list[BaseGeometry]],
    base: Mapping[str, int] = NO_BASE,
) -> dict[int, np.ndarray]:
    """Cells of the three levels (`stored`: their WGS-84 coverage) with households/population."""
    h = demo.hierarchy
    hh, pop = _cell_totals(demo)
    ids: dict[int, np.ndarray] = {}
    next_id = 1 + base.get("grid_cells", 0)
    c0 = base.get("communities", 0)
    for lv in (1, 2, 3):
        ids[lv] = np.arange(next_id, next_id + len(h.cells[lv]))
        next_id += len(h.cells[lv])
    rows = []
    for lv in (1, 2, 3):
        cells = h.cells[lv]
        community = h.community_of(lv)
        geoms = hex_ewkb(stored[lv])
        for i in range(len(cells)):
            parent_id = None if lv == 1 else int(ids[lv - 1][cells.parent[i]])
            rows.append(
                (
                    int(ids[lv][i]),
                    cells.codes[i],
                    cells.names[i],
                    lv,
                    parent_id,
                    int(community[i]) + 1 + c0,
                    1,
                    valid_from,
                    None,
                    int(hh[lv][i]),
                    int(pop[lv][i]),
                    geoms[i],
                )
            )
    copy_rows(
        conn,
        "grid_cells",
        (
            "id",
            "code",
            "name",
            "level",
            "parent_id",
            "community_id",
            "revision_id",
            "valid_from",
            "valid_to",
            "households",
            "population",
            "geom",
        ),
        rows,
    )
    return ids


def _cell_totals(demo: DemoDistrict) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Households and population per cell of each level, summed up from the buildings."""
    h, b = demo.hierarchy, demo.buildings
    hh = {3: np.bincount(b.l3, weights=b.households, minlength=len(h.cells[3]))}
    pop = {3: np.bincount(b.l3, weights=b.population, minlength=len(h.cells[3]))}
    for lv in (2, 1):
        parent = h.cells[lv + 1].parent
        hh[lv] = np.bincount(parent, weights=hh[lv + 1], minlength=len(h.cells[lv]))
        pop[lv] = np.bincount(parent, weights=pop[lv + 1], minlength=len(h.cells[lv]))
    return hh, pop
