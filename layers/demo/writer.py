"""Write a generated demo district into the tables, in the caller's transaction.

Ids are assigned here (1..n per table) so foreign keys can be written with
COPY in one pass; sequences are moved past them afterwards.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import Connection

from layers.copy import copy_rows, reset_sequence
from layers.demo.build import DemoDistrict, Progress
from layers.demo.geoms import to_wgs84
from layers.demo.outline import DISTRICT_CODE, DISTRICT_NAME
from layers.demo.write_cases import write_cases
from layers.demo.write_places import write_devices, write_dwellings

DEMO_AUTHOR = "wangge demo"


def write_demo(conn: Connection, demo: DemoDistrict, report: Progress) -> dict[str, int]:
    """COPY every table of the demo; returns the row count per table."""
    h = demo.hierarchy
    written: dict[str, int] = {}
    comm_street = h.communities.parent
    written["districts"] = copy_rows(
        conn,
        "districts",
        ("id", "code", "name", "geom"),
        [(1, DISTRICT_CODE, DISTRICT_NAME, to_wgs84([h.district], multi=True)[0])],
    )
    written["streets"] = copy_rows(
        conn,
        "streets",
        ("id", "code", "name", "district_id", "geom"),
        [
            (i + 1, c, n, 1, g)
            for i, (c, n, g) in enumerate(
                zip(h.streets.codes, h.streets.names, to_wgs84(h.streets.geoms, True), strict=True)
            )
        ],
    )
    written["communities"] = copy_rows(
        conn,
        "communities",
        ("id", "code", "name", "street_id", "geom"),
        [
            (i + 1, c, n, int(comm_street[i]) + 1, g)
            for i, (c, n, g) in enumerate(
                zip(
                    h.communities.codes,
                    h.communities.names,
                    to_wgs84(h.communities.geoms, True),
                    strict=True,
                )
            )
        ],
    )
    report("wrote streets and communities")
    valid_from = demo.now - timedelta(days=400)
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
    cell_ids = _write_cells(conn, demo, valid_from)
    written["grid_cells"] = sum(len(v) for v in cell_ids.values())
    report(f"wrote {written['grid_cells']:,} grid cells")
    written.update(write_dwellings(conn, demo))
    report(f"wrote {written['courtyards']:,} courtyards and {written['buildings']:,} buildings")
    written.update(write_devices(conn, demo))
    report("wrote cameras, service points and workers")
    written.update(write_cases(conn, demo, cell_ids))
    report(f"wrote {written['incidents']:,} incidents and {written['incident_events']:,} events")
    for table in (
        "districts",
        "streets",
        "communities",
        "grid_revisions",
        "grid_cells",
        "courtyards",
        "buildings",
        "cameras",
        "service_points",
        "workers",
        "incidents",
        "incident_events",
    ):
        reset_sequence(conn, table)
    return written


def _write_cells(conn: Connection, demo: DemoDistrict, valid_from) -> dict[int, np.ndarray]:
    """Cells of the three levels with households/population summed from buildings."""
    h, b = demo.hierarchy, demo.buildings
    hh = {3: np.bincount(b.l3, weights=b.households, minlength=len(h.cells[3]))}
    pop = {3: np.bincount(b.l3, weights=b.population, minlength=len(h.cells[3]))}
    for lv in (2, 1):
        parent = h.cells[lv + 1].parent
        hh[lv] = np.bincount(parent, weights=hh[lv + 1], minlength=len(h.cells[lv]))
        pop[lv] = np.bincount(parent, weights=pop[lv + 1], minlength=len(h.cells[lv]))
    ids: dict[int, np.ndarray] = {}
    next_id = 1
    for lv in (1, 2, 3):
        ids[lv] = np.arange(next_id, next_id + len(h.cells[lv]))
        next_id += len(h.cells[lv])
    rows = []
    for lv in (1, 2, 3):
        cells = h.cells[lv]
        community = h.community_of(lv)
        geoms = to_wgs84(cells.geoms, multi=True)
        for i in range(len(cells)):
            parent_id = None if lv == 1 else int(ids[lv - 1][cells.parent[i]])
            rows.append(
                (
                    int(ids[lv][i]),
                    cells.codes[i],
                    cells.names[i],
                    lv,
                    parent_id,
                    int(community[i]) + 1,
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
