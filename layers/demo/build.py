"""Generate the whole demo district in memory (no database): the pure half of `demo load`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from shapely.geometry.base import BaseGeometry

from layers.demo.cameras import make_cameras
from layers.demo.cases import CategoryInfo, HistoricalCases, make_cases
from layers.demo.counts import DemoCounts, counts_for
from layers.demo.density import DensityField
from layers.demo.devices import (
    Table,
    make_service_points,
    make_workers,
    yard_communities,
)
from layers.demo.dwellings import Buildings, Courtyards, make_buildings, make_courtyards
from layers.demo.hierarchy import Hierarchy, build_hierarchy
from layers.demo.outline import DISTRICT_CODE, DISTRICT_NAME, district_outline_metric


@dataclass
class DemoDistrict:
    """Everything the demo writes, in metric coordinates."""

    counts: DemoCounts
    seed: int
    now: datetime
    hierarchy: Hierarchy
    courtyards: Courtyards
    yard_community: np.ndarray
    buildings: Buildings
    cameras: Table
    service_points: Table
    workers: Table
    cases: HistoricalCases
    code: str = DISTRICT_CODE
    name: str = DISTRICT_NAME

    @property
    def district(self) -> BaseGeometry:
        """The district outline (metric)."""
        return self.hierarchy.district


class Progress:
    """Timestamped progress lines, so a long load shows it is alive."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        self.emit = emit
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        """Print `message` with the seconds elapsed."""
        self.emit(f"[{time.perf_counter() - self.started:6.1f}s] {message}")


def build_demo(
    *, scale: float, seed: int, now: datetime, categories: list[CategoryInfo], report: Progress
) -> DemoDistrict:
    """Generate the district deterministically for (`seed`, `scale`, `now`)."""
    counts = counts_for(scale)
    rng = np.random.default_rng(seed)
    district = district_outline_metric()
    density = DensityField(district, rng)
    hierarchy = build_hierarchy(district, counts, density, rng, report)
    yards = make_courtyards(hierarchy, counts, rng)
    report(f"{len(yards.geoms)} courtyards")
    buildings = make_buildings(hierarchy, yards, counts, rng)
    report(f"{len(buildings.geoms):,} buildings, {int(buildings.households.sum()):,} households")
    yard_comm = yard_communities(hierarchy, yards)
    points = make_service_points(hierarchy, yards, yard_comm, counts, rng)
    report(f"{len(points):,} service points")
    # Cameras draw from their own stream, so retuning them leaves workers and cases alone.
    cameras = make_cameras(hierarchy, yards, buildings, points, counts, rng.spawn(1)[0])
    report(f"{len(cameras):,} cameras")
    workers = make_workers(hierarchy, rng)
    report(f"{len(workers):,} grid workers")
    cases = make_cases(hierarchy, buildings, density, categories, counts, now, rng)
    report(f"{len(cases.l3):,} incidents, {len(cases.events):,} events")
    return DemoDistrict(
        counts, seed, now, hierarchy, yards, yard_comm, buildings, cameras, points, workers, cases
    )
