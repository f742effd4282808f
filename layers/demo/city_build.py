"""Generate one district of the city demo (pure, picklable: it runs in a worker process).

Each district is the single-district generator's structure (streets,
communities, three grid levels, courtyards, buildings, service points,
cameras, workers) at its own size, with years of closed cases from
`city_cases`.  Sizes: a real district scales Chenghua's published figures by
its area; a generated neighbour (larger, thinner) by `GENERATED_FACTOR`, which
brings 20 districts to ≈ 440,000 level-3 cells, as a city of 20 M has.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from layers.demo.build import DemoDistrict
from layers.demo.cameras import make_cameras
from layers.demo.city_cases import make_city_cases
from layers.demo.city_outlines import CityDistrict
from layers.demo.counts import DemoCounts, counts_for
from layers.demo.density import DensityField
from layers.demo.devices import make_service_points, make_workers, yard_communities
from layers.demo.dwellings import make_buildings, make_courtyards
from layers.demo.footprints import place_all
from layers.demo.hierarchy import build_hierarchy
from layers.demo.names import _PLACE_WORDS
from layers.demo.outline import DISTRICT_CODE
from layers.demo.trails import CategoryInfo

CHENGHUA_KM2 = 108.2
GENERATED_FACTOR = 1.44
"""A generated district's size in Chenghuas: (440,000 / 17,000 − Σ real) / 15 ≈ 1.44."""
CASES_PER_CELL_YEAR = 500_000 / 440_000
"""A city of 440,000 level-3 cells takes ≈ 500,000 cases a year."""


def district_factor(district: CityDistrict) -> float:
    """How many Chenghuas the district's figures are."""
    if district.real:
        return district.outline.area / 1e6 / CHENGHUA_KM2
    return GENERATED_FACTOR


def city_counts(factor: float, scale: float) -> DemoCounts:
    """Chenghua's counts at `scale`, times `factor`, streets and communities included."""
    base = counts_for(scale)
    streets = max(3, round(base.streets * factor))
    communities = max(3 * streets, round(base.communities * factor))

    def times(value: int, floor: int = 1) -> int:
        return max(floor, round(value * factor))

    l1 = times(base.l1, communities)
    l2 = times(base.l2, l1)
    return replace(
        base,
        streets=streets,
        communities=communities,
        courtyards=times(base.courtyards),
        l1=l1,
        l2=l2,
        l3=times(base.l3, l2),
        households=times(base.households),
        residents=times(base.residents),
        cameras=times(base.cameras),
        cases=0,
    )


@dataclass(frozen=True)
class DistrictJob:
    """What one worker process needs to generate district `index` of the city."""

    index: int
    district: CityDistrict
    scale: float
    seed: int
    years: int
    now: datetime
    categories: list[CategoryInfo]


def street_names(n: int, rng: np.random.Generator) -> list[str]:
    """`n` distinct street names (…街道) for a district without its real ones."""
    words = list(dict.fromkeys(_PLACE_WORDS))
    rng.shuffle(words)
    return [
        f"{words[i % len(words)]}{'' if i < len(words) else i // len(words)}街道" for i in range(n)
    ]


def build_district(job: DistrictJob) -> tuple[DemoDistrict, float]:
    """Generate the district deterministically for (seed, index, scale); and the seconds taken."""
    started = time.perf_counter()
    d = job.district
    counts = city_counts(district_factor(d), job.scale)
    rng = np.random.default_rng([job.seed, job.index])
    density = DensityField(d.outline, rng)
    names = None if d.code == DISTRICT_CODE else street_names(counts.streets, rng)
    h = build_hierarchy(
        d.outline, counts, density, rng, lambda _m: None, district_code=d.code, street_names=names
    )
    yards = make_courtyards(h, counts, rng)
    buildings = make_buildings(h, yards, counts, rng, place_many=place_all)
    yard_comm = yard_communities(h, yards)
    points = make_service_points(h, yards, yard_comm, counts, rng)
    cameras = make_cameras(h, yards, buildings, points, counts, rng.spawn(1)[0])
    workers = make_workers(h, rng)
    per_year = max(1, round(CASES_PER_CELL_YEAR * counts.l3))
    cases = make_city_cases(
        h, buildings, density, job.categories, per_year, job.years, job.now, rng
    )
    demo = DemoDistrict(
        counts,
        job.seed,
        job.now,
        h,
        yards,
        yard_comm,
        buildings,
        cameras,
        points,
        workers,
        cases,
        code=d.code,
        name=d.name,
    )
    return demo, time.perf_counter() - started
