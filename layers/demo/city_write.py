"""Write one generated city district after the ones already written, with COPY.

The single-district writers take id offsets (`base`: rows of each table
written so far), so each district's ids follow the previous district's and
foreign keys are known before anything is sent.  Cases go through their own
column-wise writer: 1.5 M rows must not pass through a Python object each.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import numpy as np
from sqlalchemy import Connection

from layers.core.crs import from_metric
from layers.demo.build import DemoDistrict
from layers.demo.names import ROADS
from layers.demo.write_cases import CASE_COLUMNS, LOCATED_COLUMNS
from layers.demo.write_places import write_devices, write_dwellings
from layers.demo.writer import wgs84_levels, write_areas, write_cells
from layers.store.copy import copy_rows


def write_district(
    conn: Connection, demo: DemoDistrict, base: Mapping[str, int], valid_from: datetime
) -> dict[str, int]:
    """Areas, cells, courtyards, buildings, devices and cases of `demo`; rows per table."""
    district, streets, communities, *cells = wgs84_levels(demo)
    written = write_areas(conn, demo, district[0], streets, communities, base)
    cell_ids = write_cells(conn, demo, valid_from, dict(zip((1, 2, 3), cells, strict=True)), base)
    written["grid_cells"] = sum(len(v) for v in cell_ids.values())
    written.update(write_dwellings(conn, demo, base))
    written.update(write_devices(conn, demo, base))
    written["incidents"] = write_city_cases(conn, demo, cell_ids, base)
    return written


def _iso(seconds: list[int]) -> list[str]:
    stamps = np.datetime_as_string(np.asarray(seconds, dtype="datetime64[s]"), unit="s")
    return [f"{s}+00:00" for s in stamps.tolist()]


def write_city_cases(
    conn: Connection, demo: DemoDistrict, cell_ids: dict[int, np.ndarray], base: Mapping[str, int]
) -> int:
    """The district's closed cases, located up the hierarchy; the number written."""
    h, cases = demo.hierarchy, demo.cases
    cols = cases.columns
    n = len(cases.l3)
    l3 = cases.l3
    l2 = h.cells[3].parent[l3]
    l1 = h.cells[2].parent[l2]
    comm = h.cells[1].parent[l1]
    community = comm + 1 + base.get("communities", 0)
    street = h.communities.parent[comm] + 1 + base.get("streets", 0)
    lon_l, lat_l = (np.round(v, 8).tolist() for v in from_metric(*cases.points.T))
    created, closed = _iso(cols["created_s"]), _iso(cols["closed_s"])
    road = np.random.default_rng([demo.seed, 29]).integers(0, len(ROADS), n).tolist()
    w0, id0 = base.get("workers", 0), base.get("incidents", 0)
    ids = (
        cell_ids[1][l1].tolist(),
        cell_ids[2][l2].tolist(),
        cell_ids[3][l3].tolist(),
        community.tolist(),
        street.tolist(),
        (l1 + 1 + w0).tolist(),  # level-1 workers come first, in cell order
    )
    rows = (
        (
            id0 + i + 1,
            None,
            cols["category"][i],
            cols["channel"][i],
            "closed",
            cols["urgency"][i],
            f"{ROADS[road[i]]}{cols['category_name'][i]}（历史案件）",
            None,
            None,
            "grid",
            0,
            None,
            "{}",
            created[i],
            closed[i],
            closed[i],
            1,
            f"SRID=4326;POINT({lon_l[i]} {lat_l[i]})",
            "wgs84",
            lon_l[i],
            lat_l[i],
            1,
            ids[0][i],
            ids[1][i],
            ids[2][i],
            ids[3][i],
            ids[4][i],
            "covers",
            ids[5][i],
        )
        for i in range(n)
    )
    return copy_rows(conn, "incidents", (*CASE_COLUMNS, *LOCATED_COLUMNS), rows, plain=True)
