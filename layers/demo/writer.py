"""Write a generated demo district into the tables, in the caller's transaction.

Ids are assigned here (1..n per table) so foreign keys can be written with
COPY in one pass; sequences are moved past them afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import shapely
from shapely.geometry import MultiPoint, MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from layers.copy import copy_rows, reset_sequence
from layers.crs import from_metric
from layers.demo.build import DemoDistrict, Progress
from layers.demo.density import points_in
from layers.demo.devices import building_counts_by_yard
from layers.demo.outline import DISTRICT_CODE, DISTRICT_NAME
from layers.demo.partition import polygonal

DEMO_AUTHOR = "wangge demo"
LEVEL_NAMES = {"district": "区级", "street": "街道级", "community": "社区级", "courtyard": "院落级"}


def to_wgs84(geoms: Sequence[BaseGeometry], multi: bool = False) -> list[BaseGeometry]:
    """Metric (UTM 48N) geometries to EPSG:4326, made valid, optionally as Multi*."""
    arr = np.asarray(geoms, dtype=object)
    out = shapely.transform(arr, lambda xy: np.column_stack(from_metric(xy[:, 0], xy[:, 1])))
    bad = ~shapely.is_valid(out)
    if bad.any():
        out[bad] = [polygonal(shapely.make_valid(g)) for g in out[bad]]
    if multi:
        out = [g if g.geom_type == "MultiPolygon" else MultiPolygon([g]) for g in out]
    return list(shapely.set_srid(np.asarray(out, dtype=object), 4326))


def _points(xy: Sequence[tuple[float, float]] | np.ndarray) -> list[BaseGeometry]:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    lon, lat = from_metric(xy[:, 0], xy[:, 1])
    return list(shapely.set_srid(shapely.points(lon, lat), 4326))


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
    written.update(_write_dwellings(conn, demo))
    report(f"wrote {written['courtyards']:,} courtyards and {written['buildings']:,} buildings")
    written.update(_write_devices(conn, demo))
    report("wrote cameras, service points and workers")
    written.update(_write_cases(conn, demo, cell_ids))
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


def _write_dwellings(conn: Connection, demo: DemoDistrict) -> dict[str, int]:
    h, y, b = demo.hierarchy, demo.courtyards, demo.buildings
    comm_codes = h.communities.codes
    hh, pop = building_counts_by_yard(b, len(y.geoms))
    seq: dict[int, int] = {}
    yard_rows = []
    yard_geoms = to_wgs84(y.geoms, multi=True)
    for i in range(len(y.geoms)):
        c = int(demo.yard_community[i])
        seq[c] = seq.get(c, 0) + 1
        gates = MultiPoint(_points(y.entrances[i]))
        gates = shapely.set_srid(gates, 4326)
        yard_rows.append(
            (
                i + 1,
                f"{comm_codes[c]}Y{seq[c]:03d}",
                y.names[i],
                c + 1,
                int(hh[i]),
                int(pop[i]),
                *map(bool, y.flags[i]),
                gates,
                yard_geoms[i],
            )
        )
    n_yards = copy_rows(
        conn,
        "courtyards",
        (
            "id",
            "code",
            "name",
            "community_id",
            "households",
            "residents",
            "has_gatekeeper",
            "has_property_management",
            "has_owners_committee",
            "entrances",
            "geom",
        ),
        yard_rows,
    )
    community_of_l3 = h.community_of(3)
    bseq: dict[int, int] = {}
    rows = []
    for i, geom in enumerate(to_wgs84(b.geoms)):
        c = int(community_of_l3[b.l3[i]])
        bseq[c] = bseq.get(c, 0) + 1
        yard = int(b.courtyard[i])
        rows.append(
            (
                i + 1,
                f"{comm_codes[c]}B{bseq[c]:04d}",
                None,
                None if yard < 0 else yard + 1,
                c + 1,
                int(b.floors[i]),
                round(float(b.floors[i]) * 3.0, 1),
                int(b.households[i]),
                int(b.population[i]),
                geom,
            )
        )
    n_buildings = copy_rows(
        conn,
        "buildings",
        (
            "id",
            "code",
            "name",
            "courtyard_id",
            "community_id",
            "floors",
            "height_m",
            "households",
            "population",
            "geom",
        ),
        rows,
    )
    return {"courtyards": n_yards, "buildings": n_buildings}


def _write_devices(conn: Connection, demo: DemoDistrict) -> dict[str, int]:
    h = demo.hierarchy
    cams = demo.cameras
    cam_xy = np.asarray(cams.points)
    community = points_in(h.communities.geoms, cam_xy, nearest=True)
    serial: dict[str, int] = {}
    rows = []
    for i, geom in enumerate(_points(cam_xy)):
        c = int(community[i])
        street = int(h.communities.parent[c]) + 1 if c >= 0 else 1
        level = cams.columns["level"][i]
        centre = f"{DISTRICT_CODE}{street:02d}"
        industry = "00" if level in ("district", "street") else "01"
        serial[centre] = serial.get(centre, 0) + 1
        device_id = f"{centre}{industry}1320{serial[centre]:06d}"
        place = h.communities.names[c] if c >= 0 else DISTRICT_NAME
        name = f"{place}{LEVEL_NAMES[level]}{serial[centre]}号"
        yard = cams.columns["courtyard"][i]
        rows.append(
            (
                i + 1,
                device_id,
                name,
                level,
                cams.columns["mount_height_m"][i],
                cams.columns["azimuth_deg"][i],
                cams.columns["hfov_deg"][i],
                cams.columns["range_m"][i],
                cams.columns["online"][i],
                c + 1 if c >= 0 else None,
                None if yard is None else yard + 1,
                geom,
            )
        )
    n_cams = copy_rows(
        conn,
        "cameras",
        (
            "id",
            "device_id",
            "name",
            "level",
            "mount_height_m",
            "azimuth_deg",
            "hfov_deg",
            "range_m",
            "online",
            "community_id",
            "courtyard_id",
            "geom",
        ),
        rows,
    )
    sp = demo.service_points
    rows = [
        (
            i + 1,
            f"SP{i + 1:06d}",
            sp.columns["kind"][i],
            sp.columns["name"][i],
            sp.columns["address"][i],
            sp.columns["opening_hours"][i],
            sp.columns["phone"][i],
            sp.columns["community"][i] + 1,
            geom,
        )
        for i, geom in enumerate(_points(sp.points))
    ]
    n_sp = copy_rows(
        conn,
        "service_points",
        ("id", "code", "kind", "name", "address", "opening_hours", "phone", "community_id", "geom"),
        rows,
    )
    w = demo.workers
    rows = [
        (
            i + 1,
            w.columns["code"][i],
            w.columns["name"][i],
            w.columns["phone"][i],
            w.columns["level"][i],
            w.columns["cell_code"][i],
            w.columns["community"][i] + 1,
            w.columns["on_duty"][i],
            demo.now,
            geom,
        )
        for i, geom in enumerate(_points(w.points))
    ]
    n_workers = copy_rows(
        conn,
        "workers",
        (
            "id",
            "code",
            "name",
            "phone",
            "level",
            "cell_code",
            "community_id",
            "on_duty",
            "position_at",
            "geom",
        ),
        rows,
    )
    return {"cameras": n_cams, "service_points": n_sp, "workers": n_workers}


def _write_cases(conn: Connection, demo: DemoDistrict, cell_ids: dict[int, np.ndarray]):
    h, cases = demo.hierarchy, demo.cases
    l3 = cases.l3
    l2 = h.cells[3].parent[l3]
    l1 = h.cells[2].parent[l2]
    community = h.cells[1].parent[l1]
    street = h.communities.parent[community]
    geoms = _points(cases.points)
    lon = [g.x for g in geoms]
    lat = [g.y for g in geoms]
    cols = cases.columns
    names = [
        "id",
        "external_id",
        "category_code",
        "channel_code",
        "status",
        "urgency",
        "description",
        "reporter_name",
        "reporter_phone",
        "handling_level",
        "escalation_count",
        "due_at",
        "deadlines",
        "created_at",
        "updated_at",
        "closed_at",
        "version",
    ]
    rows = []
    for i in range(len(l3)):
        rows.append(
            (
                *[cols[k][i] for k in names],
                geoms[i],
                "wgs84",
                lon[i],
                lat[i],
                1,
                int(cell_ids[1][l1[i]]),
                int(cell_ids[2][l2[i]]),
                int(cell_ids[3][l3[i]]),
                int(community[i]) + 1,
                int(street[i]) + 1,
                "covers",
                int(l1[i]) + 1,
            )
        )  # level-1 workers were written first: id = cell index + 1
    n = copy_rows(
        conn,
        "incidents",
        (
            *names,
            "geom",
            "reported_crs",
            "reported_lon",
            "reported_lat",
            "revision_id",
            "l1_cell_id",
            "l2_cell_id",
            "l3_cell_id",
            "community_id",
            "street_id",
            "locate_method",
            "assignee_worker_id",
        ),
        rows,
    )
    m = copy_rows(
        conn,
        "incident_events",
        (
            "incident_id",
            "at",
            "actor",
            "role",
            "action",
            "from_status",
            "to_status",
            "reason",
            "data",
        ),
        cases.events,
    )
    return {"incidents": n, "incident_events": m}
