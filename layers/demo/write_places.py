"""Write the demo's places: courtyards, buildings, cameras, service points and workers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPoint
from sqlalchemy import Connection

from layers.core.constants import WGS84
from layers.demo.build import DemoDistrict
from layers.demo.density import points_in
from layers.demo.devices import building_counts_by_yard
from layers.demo.geoms import points_wgs84, to_wgs84
from layers.store.copy import copy_rows, hex_ewkb

NO_BASE: Mapping[str, int] = {}
"""Id offsets per table: none for the single district; the city writes district after district."""
LEVEL_NAMES = {"district": "区级", "street": "街道级", "community": "社区级", "courtyard": "院落级"}


def write_dwellings(
    conn: Connection, demo: DemoDistrict, base: Mapping[str, int] = NO_BASE
) -> dict[str, int]:
    """Courtyards (households summed from their buildings), then the buildings."""
    return {
        "courtyards": _write_courtyards(conn, demo, base),
        "buildings": _write_buildings(conn, demo, base),
    }


def _write_courtyards(conn: Connection, demo: DemoDistrict, base: Mapping[str, int]) -> int:
    """Courtyards coded per community (`<community>Y001`…), with their gates."""
    y = demo.courtyards
    comm_codes = demo.hierarchy.communities.codes
    hh, pop = building_counts_by_yard(demo.buildings, len(y.geoms))
    seq: dict[int, int] = {}
    yard_rows = []
    yard_geoms = to_wgs84(y.geoms, multi=True)
    for i in range(len(y.geoms)):
        c = int(demo.yard_community[i])
        seq[c] = seq.get(c, 0) + 1
        gates = MultiPoint(points_wgs84(y.entrances[i]))
        gates = shapely.set_srid(gates, WGS84)
        yard_rows.append(
            (
                i + 1 + base.get("courtyards", 0),
                f"{comm_codes[c]}Y{seq[c]:03d}",
                y.names[i],
                c + 1 + base.get("communities", 0),
                int(hh[i]),
                int(pop[i]),
                *map(bool, y.flags[i]),
                gates,
                yard_geoms[i],
            )
        )
    return copy_rows(
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


def _write_buildings(conn: Connection, demo: DemoDistrict, base: Mapping[str, int]) -> int:
    """Buildings coded per community (`<community>B0001`…), 3 m a floor."""
    h, b = demo.hierarchy, demo.buildings
    comm_codes = h.communities.codes
    community_of_l3 = h.community_of(3)
    bseq: dict[int, int] = {}
    rows: list[tuple[Any, ...]] = []
    b0, y0, c0 = (base.get(t, 0) for t in ("buildings", "courtyards", "communities"))
    for i, geom in enumerate(hex_ewkb(to_wgs84(b.geoms))):
        c = int(community_of_l3[b.l3[i]])
        bseq[c] = bseq.get(c, 0) + 1
        yard = int(b.courtyard[i])
        rows.append(
            (
                i + 1 + b0,
                f"{comm_codes[c]}B{bseq[c]:04d}",
                None,
                None if yard < 0 else yard + 1 + y0,
                c + 1 + c0,
                int(b.floors[i]),
                round(float(b.floors[i]) * 3.0, 1),
                int(b.households[i]),
                int(b.population[i]),
                geom,
            )
        )
    return copy_rows(
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


def write_devices(
    conn: Connection, demo: DemoDistrict, base: Mapping[str, int] = NO_BASE
) -> dict[str, int]:
    """Cameras with GB/T 28181 ids, service points and grid workers."""
    return {
        "cameras": _write_cameras(conn, demo, base),
        "service_points": _write_service_points(conn, demo, base),
        "workers": _write_workers(conn, demo, base),
    }


def _write_cameras(conn: Connection, demo: DemoDistrict, base: Mapping[str, int]) -> int:
    """Cameras numbered per street centre, as GB/T 28181 device ids are."""
    h = demo.hierarchy
    cams = demo.cameras
    cam_xy = np.asarray(cams.points)
    community = points_in(h.communities.geoms, cam_xy, nearest=True)
    serial: dict[str, int] = {}
    rows: list[tuple[Any, ...]] = []
    k0, c0, y0 = (base.get(t, 0) for t in ("cameras", "communities", "courtyards"))
    for i, geom in enumerate(points_wgs84(cam_xy)):
        c = int(community[i])
        street = int(h.communities.parent[c]) + 1 if c >= 0 else 1
        level = cams.columns["level"][i]
        centre = f"{demo.code}{street:02d}"
        industry = "00" if level in ("district", "street") else "01"
        serial[centre] = serial.get(centre, 0) + 1
        device_id = f"{centre}{industry}1320{serial[centre]:06d}"
        place = h.communities.names[c] if c >= 0 else demo.name
        name = f"{place}{LEVEL_NAMES[level]}{serial[centre]}号"
        yard = cams.columns["courtyard"][i]
        rows.append(
            (
                i + 1 + k0,
                device_id,
                name,
                level,
                cams.columns["mount_height_m"][i],
                cams.columns["azimuth_deg"][i],
                cams.columns["hfov_deg"][i],
                cams.columns["range_m"][i],
                cams.columns["online"][i],
                c + 1 + c0 if c >= 0 else None,
                None if yard is None else yard + 1 + y0,
                geom,
            )
        )
    return copy_rows(
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


def _write_service_points(conn: Connection, demo: DemoDistrict, base: Mapping[str, int]) -> int:
    """Service points coded `SP000001`… in the generator's order."""
    sp = demo.service_points
    s0, c0 = base.get("service_points", 0), base.get("communities", 0)
    rows = [
        (
            i + 1 + s0,
            f"SP{i + 1 + s0:06d}",
            sp.columns["kind"][i],
            sp.columns["name"][i],
            sp.columns["address"][i],
            sp.columns["opening_hours"][i],
            sp.columns["phone"][i],
            sp.columns["community"][i] + 1 + c0,
            geom,
        )
        for i, geom in enumerate(points_wgs84(sp.points))
    ]
    return copy_rows(
        conn,
        "service_points",
        ("id", "code", "kind", "name", "address", "opening_hours", "phone", "community_id", "geom"),
        rows,
    )


def _write_workers(conn: Connection, demo: DemoDistrict, base: Mapping[str, int]) -> int:
    """Grid workers, each placed at `demo.now` (their substitutes by row id)."""
    w = demo.workers
    w0, c0 = base.get("workers", 0), base.get("communities", 0)
    rows = [
        (
            i + 1 + w0,
            w.columns["code"][i],
            w.columns["name"][i],
            w.columns["phone"][i],
            w.columns["level"][i],
            w.columns["cell_code"][i],
            w.columns["community"][i] + 1 + c0,
            w.columns["on_duty"][i],
            None if w.columns["substitute"][i] is None else w.columns["substitute"][i] + 1 + w0,
            demo.now,
            geom,
        )
        for i, geom in enumerate(hex_ewkb(points_wgs84(w.points)))
    ]
    return copy_rows(
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
            "substitute_id",
            "position_at",
            "geom",
        ),
        rows,
    )
