"""Cameras of the four video levels, service points and grid workers of the demo."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Point

from layers.demo.counts import DemoCounts
from layers.demo.dwellings import Buildings, Courtyards
from layers.demo.hierarchy import Hierarchy
from layers.demo.names import address, person_names, phone_numbers
from layers.demo.partition import sample_in


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
                _xy(geom.representative_point()),
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


def _xy(point: Point) -> tuple[float, float]:
    """A 2-d point's coordinates, as the pair a `Table` holds."""
    return point.x, point.y


def make_workers(h: Hierarchy, rng: np.random.Generator) -> Table:
    """One worker per cell of each level, most on duty, standing somewhere in their cell.

    A level-1 worker's configured substitute (顶岗) is the worker of the level-1 cell of
    the same community that shares the longest border with theirs (table index; level-1
    workers come first, in cell order).
    """
    table = Table()
    substitutes = level1_neighbours(h)
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
                substitute=substitutes[i] if level == 1 else None,
            )
    return table


def level1_neighbours(h: Hierarchy) -> list[int | None]:
    """For each level-1 cell, the one of its community sharing the longest border (or None)."""
    geoms = np.asarray(h.cells[1].geoms, dtype=object)
    community = h.cells[1].parent
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    same = (left != right) & (community[left] == community[right])
    left, right = left[same], right[same]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(geoms[left]), shapely.boundary(geoms[right]))
    )
    best: list[int | None] = [None] * len(geoms)
    longest = np.zeros(len(geoms))
    for i, j, length in zip(left.tolist(), right.tolist(), shared.tolist(), strict=True):
        if length > longest[i]:
            best[i], longest[i] = j, length
    return best


def yard_communities(h: Hierarchy, yards: Courtyards) -> np.ndarray:
    """Community index of every courtyard (through its level-2 cell)."""
    return h.community_of(2)[yards.l2]


def building_counts_by_yard(b: Buildings, n_yards: int) -> tuple[np.ndarray, np.ndarray]:
    """Households and residents per courtyard, summed from its buildings."""
    inside = b.courtyard >= 0
    hh = np.bincount(b.courtyard[inside], weights=b.households[inside], minlength=n_yards)
    pop = np.bincount(b.courtyard[inside], weights=b.population[inside], minlength=n_yards)
    return hh.astype(int), pop.astype(int)
