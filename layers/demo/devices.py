"""Cameras of the four video levels, service points and grid workers of the demo."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.demo.counts import DemoCounts
from layers.demo.dwellings import Buildings, Courtyards
from layers.demo.hierarchy import Hierarchy
from layers.demo.names import address, person_names, phone_numbers
from layers.demo.partition import sample_in

# Share of cameras per video level, and per level: (hfov choices, range m, height m).
CAMERA_MIX = {"district": 0.06, "street": 0.14, "community": 0.30, "courtyard": 0.50}
CAMERA_OPTICS = {
    "district": ((50.0, 60.0), (50.0, 80.0), (7.0, 9.0)),
    "street": ((50.0, 70.0), (35.0, 60.0), (6.0, 8.0)),
    "community": ((70.0, 90.0), (15.0, 30.0), (4.0, 6.0)),
    "courtyard": ((90.0, 70.0, 50.0), (8.0, 16.0), (3.0, 4.5)),
}
ONLINE_SHARE = 0.973  # a little under the national 98 % target, as in real districts


@dataclass
class Table:
    """Column-wise rows plus metric point geometries, ready for the writer."""

    columns: dict[str, list] = field(default_factory=dict)
    points: list[tuple[float, float]] = field(default_factory=list)

    def add(self, point: tuple[float, float], **values: object) -> None:
        """Append one row."""
        self.points.append(point)
        for key, value in values.items():
            self.columns.setdefault(key, []).append(value)

    def __len__(self) -> int:
        return len(self.points)


def _boundary_points(geoms: list[BaseGeometry], n: int, rng: np.random.Generator):
    """`n` points just inside the given boundaries (∝ length), with the local road bearing.

    A camera stands at the roadside, half a metre inside the area whose edge it
    watches, so it lies inside the district even on the district's outline.
    """
    lines = [g.boundary for g in geoms]
    lengths = np.array([ln.length for ln in lines])
    picks = rng.choice(len(lines), size=n, p=lengths / lengths.sum())
    out = []
    for i in picks:
        d = rng.uniform(0, lines[i].length)
        a = lines[i].interpolate(d).coords[0]
        b = lines[i].interpolate(min(d + 1.0, lines[i].length)).coords[0]
        bearing = (np.degrees(np.arctan2(b[0] - a[0], b[1] - a[1])) + 360) % 360
        tx, ty = np.subtract(b, a) / max(float(np.hypot(*np.subtract(b, a))), 1e-9)
        inside = [(a[0] - s * ty * 0.5, a[1] + s * tx * 0.5) for s in (1.0, -1.0)]
        a = next((p for p in inside if geoms[i].contains(shapely.Point(p))), inside[0])
        out.append((a, bearing, int(i)))
    return out


def make_cameras(
    h: Hierarchy, yards: Courtyards, counts: DemoCounts, rng: np.random.Generator
) -> Table:
    """Road cameras along street/community/cell edges, courtyard cameras at the gates."""
    total = counts.cameras
    per_level = {lv: round(total * share) for lv, share in CAMERA_MIX.items()}
    per_level["courtyard"] = total - sum(v for k, v in per_level.items() if k != "courtyard")
    table = Table()
    edges = {
        "district": h.streets.geoms,
        "street": h.communities.geoms,
        "community": h.cells[1].geoms,
    }
    for level in ("district", "street", "community"):
        for point, bearing, _ in _boundary_points(edges[level], per_level[level], rng):
            azimuth = (bearing + rng.choice([0.0, 180.0]) + rng.normal(0, 8)) % 360
            _add_camera(table, level, point, azimuth, rng, None)
    gates = [(p, y) for y, ps in enumerate(yards.entrances) for p in ps]
    for k in range(per_level["courtyard"]):
        if k < len(gates) and rng.random() < 0.7:
            (gx, gy), y = gates[k]
            cx, cy = yards.geoms[y].centroid.coords[0]
            azimuth = (np.degrees(np.arctan2(cx - gx, cy - gy)) + rng.normal(0, 15)) % 360
            _add_camera(table, "courtyard", (gx, gy), azimuth, rng, y)
        else:
            y = int(rng.integers(len(yards.geoms)))
            point = tuple(sample_in(yards.geoms[y], 1, rng)[0])
            _add_camera(table, "courtyard", point, rng.uniform(0, 360), rng, y)
    return table


def _add_camera(
    table: Table, level: str, point, azimuth: float, rng, courtyard: int | None
) -> None:
    fovs, (rmin, rmax), (hmin, hmax) = CAMERA_OPTICS[level]
    hfov = float(rng.choice(fovs))
    if level == "courtyard":  # recognise density: 90° ≈ 8 m, 70° ≈ 11 m, 50° ≈ 16 m
        rng_m = {90.0: 8.0, 70.0: 11.0, 50.0: 16.0}[hfov] * rng.uniform(0.9, 1.2)
    else:
        rng_m = rng.uniform(rmin, rmax)
    table.add(
        point,
        level=level,
        azimuth_deg=round(float(azimuth) % 360, 1) % 360,
        hfov_deg=hfov,
        range_m=round(float(rng_m), 1),
        mount_height_m=round(float(rng.uniform(hmin, hmax)), 1),
        online=bool(rng.random() < ONLINE_SHARE),
        courtyard=courtyard,
    )


SERVICE_KINDS = {
    # kind: (number at scale 1, name pattern, opening hours)
    "police": (14, "{street}派出所", "24/7"),
    "clinic": (40, "{community}社区卫生服务站", "Mo-Su 08:00-20:00"),
    "school": (60, "成华区{community}小学", "Mo-Fr 07:30-17:30"),
    "elderly_care": (80, "{community}社区日间照料中心", "Mo-Su 08:00-18:00"),
    "legal_aid": (14, "{street}法律援助工作站", "Mo-Fr 09:00-12:00,14:00-17:30"),
    "volunteer_post": (50, "{community}志愿服务站", "Sa-Su 09:00-17:00"),
    "appointment_point": (30, "{community}网上办事预约点", "Mo-Fr 09:00-17:00"),
}
STATION_HOURS = "Mo-Fr 09:00-12:00,13:30-17:30; Sa 09:00-12:00"


def make_service_points(
    h: Hierarchy,
    yards: Courtyards,
    yard_community: np.ndarray,
    counts: DemoCounts,
    rng: np.random.Generator,
) -> Table:
    """A service station per community, liaison posts at courtyards, the rest spread out."""
    table = Table()
    street_of = h.communities.parent
    for c, geom in enumerate(h.communities.geoms):
        name = h.communities.names[c]
        table.add(
            tuple(sample_in(geom, 1, rng)[0]),
            kind="service_station",
            name=f"{name}综合服务管理站",
            community=c,
            opening_hours=STATION_HOURS,
            address=address(h.streets.names[street_of[c]], rng),
            phone=_landline(rng),
        )
    for y, geom in enumerate(yards.geoms):
        if rng.random() < 0.4:
            table.add(
                tuple(geom.representative_point().coords[0]),
                kind="liaison_post",
                name=f"{yards.names[y]}连心驿站",
                community=int(yard_community[y]),
                opening_hours="Mo-Su 08:00-20:00",
                address=None,
                phone=None,
            )
    for kind, (n, pattern, hours) in SERVICE_KINDS.items():
        for _ in range(max(1, round(n * counts.scale))):
            c = int(rng.integers(len(h.communities)))
            street = h.streets.names[street_of[c]]
            table.add(
                tuple(sample_in(h.communities.geoms[c], 1, rng)[0]),
                kind=kind,
                name=pattern.format(
                    street=street, community=h.communities.names[c].removesuffix("社区")
                ),
                community=c,
                opening_hours=hours,
                address=address(street, rng),
                phone=_landline(rng),
            )
    return table


def _landline(rng: np.random.Generator) -> str:
    return f"028-8{int(rng.integers(0, 10**7)):07d}"


def make_workers(h: Hierarchy, rng: np.random.Generator) -> Table:
    """One worker per cell of each level, most on duty, standing somewhere in their cell."""
    table = Table()
    for level in (1, 2, 3):
        cells = h.cells[level]
        community = h.community_of(level)
        names = person_names(len(cells), rng)
        phones = phone_numbers(len(cells), rng)
        reps = shapely.point_on_surface(np.asarray(cells.geoms, dtype=object))
        for i, code in enumerate(cells.codes):
            x, y = reps[i].coords[0]
            jitter = rng.normal(0, 15, 2)
            point = (x + jitter[0], y + jitter[1])
            if not cells.geoms[i].contains(shapely.Point(point)):
                point = (x, y)
            table.add(
                point,
                code=f"W{code}",
                name=names[i],
                phone=phones[i],
                level=level,
                cell_code=code,
                community=int(community[i]),
                on_duty=bool(rng.random() < 0.85),
            )
    return table


def yard_communities(h: Hierarchy, yards: Courtyards) -> np.ndarray:
    """Community index of every courtyard (through its level-2 cell)."""
    return h.community_of(2)[yards.l2]


def building_counts_by_yard(b: Buildings, n_yards: int) -> tuple[np.ndarray, np.ndarray]:
    """Households and residents per courtyard, summed from its buildings."""
    inside = b.courtyard >= 0
    hh = np.bincount(b.courtyard[inside], weights=b.households[inside], minlength=n_yards)
    pop = np.bincount(b.courtyard[inside], weights=b.population[inside], minlength=n_yards)
    return hh.astype(int), pop.astype(int)
