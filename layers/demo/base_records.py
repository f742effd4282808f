"""The demo's base records (一标三实): addresses, dwellings, persons and units, in memory.

Deterministic for a seed and vectorised, so the published totals (350,000
households, 940,800 residents) stay cheap: every building gets a standard
address per 单元 (a courtyard's buildings share its road and number, 栋 1…n),
one dwelling per household (plus a few vacant flats) and its residents dealt
to its households, so a building's figures are sums of its records.

The persons' identities (`identities`) depend on the seed and their number
only: the department files (`layers.demo.base_files`) regenerate the plain ID
numbers that the database never holds, as a known truth for the import.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from layers.demo.dwellings import Buildings
from layers.demo.names import ROADS, person_names, phone_numbers

REGIONS = np.array([510108, 510104, 510105, 510107, 510112, 511002, 500101, 420106, 610113, 530102])
"""Region codes of ID numbers: Chenghua first (registered), then where migrants come from."""
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = np.array(list("10X98765432"))
VACANT_SHARE = 0.05


@dataclass
class BaseAddresses:
    """One row per 单元 entrance: building index, road index, number, 栋, 单元."""

    building: np.ndarray
    road: np.ndarray
    number: np.ndarray
    building_no: np.ndarray
    unit_no: np.ndarray

    def texts(self) -> list[str]:
        """The standard addresses (`崔家店路140号3栋2单元`)."""
        return [
            f"{ROADS[r]}{n}号{b}栋{u}单元"
            for r, n, b, u in zip(
                self.road, self.number, self.building_no, self.unit_no, strict=True
            )
        ]


@dataclass
class BaseDwellings:
    """One row per flat: its address row, floor, room, use (index into DWELLING_USES)."""

    address: np.ndarray
    floor: np.ndarray
    room: np.ndarray
    use: np.ndarray


@dataclass
class BasePersons:
    """One row per resident: the dwelling they live in and who they are."""

    dwelling: np.ndarray
    residence: np.ndarray  # 0 registered, 1 migrant, 2 foreign
    names: list[str]
    phones: list[str | None]


def make_addresses(b: Buildings, rng: np.random.Generator) -> BaseAddresses:
    """Courtyards and loose buildings get a road and an odd house number; 单元 by footprint."""
    n = len(b.geoms)
    group = np.where(b.courtyard >= 0, b.courtyard, b.courtyard.max() + 1 + np.arange(n))
    groups, inverse = np.unique(group, return_inverse=True)
    road_of_group = rng.integers(0, len(ROADS), len(groups))
    order = np.lexsort((np.arange(len(groups)), road_of_group))
    seq = np.empty(len(groups), dtype=int)
    for r in np.unique(road_of_group):
        members = order[road_of_group[order] == r]
        seq[members] = np.arange(len(members))
    number_of_group = 2 * seq + 1
    # 栋 1…n within each group, in building order (a stable sort by group).
    sorter = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[sorter], np.arange(len(groups)))
    building_no = np.empty(n, dtype=int)
    building_no[sorter] = np.arange(n) - starts[inverse[sorter]] + 1
    # 单元 by footprint: a slab of 12 × 28–60 m has 2–4 stairwells, a tower one.
    area = np.array([g.area for g in b.geoms])
    units = np.clip(np.round(area / 180.0), 1, 4).astype(int)
    rows = np.repeat(np.arange(n), units)
    unit_no = np.arange(len(rows)) - np.repeat(np.cumsum(units) - units, units) + 1
    return BaseAddresses(
        rows,
        road_of_group[inverse][rows],
        number_of_group[inverse][rows],
        building_no[rows],
        unit_no,
    )


def make_dwellings(b: Buildings, a: BaseAddresses, rng: np.random.Generator) -> BaseDwellings:
    """A flat per household (dealt round the building's 单元), plus ~5 % vacant flats."""
    extra = np.floor(b.households * VACANT_SHARE + rng.random(len(b.households))).astype(int)
    flats = b.households + extra
    building = np.repeat(np.arange(len(flats)), flats)
    k = np.arange(len(building)) - np.repeat(np.cumsum(flats) - flats, flats)
    units = np.bincount(a.building, minlength=len(flats))
    first_row = np.cumsum(units) - units
    unit = k % units[building]
    floor = (k // units[building]) // 2 % b.floors[building] + 1
    room = floor * 100 + (k // units[building]) % 2 + 1
    occupied = k < b.households[building]
    use = np.where(occupied, np.where(rng.random(len(k)) < 0.72, 0, 1), 2)
    return BaseDwellings(first_row[building] + unit, floor, room, use)


def make_persons(b: Buildings, d: BaseDwellings, rng: np.random.Generator) -> BasePersons:
    """A building's residents dealt to its occupied flats, at least one each while they last."""
    occupied = np.flatnonzero(d.use != 2)
    per_building = b.households
    pop = b.population
    # A building's flats are consecutive: flat j gets ⌊p/h⌋ (+1 for the first p mod h).
    bld = np.repeat(np.arange(len(pop)), per_building)
    j = np.arange(len(bld)) - np.repeat(np.cumsum(per_building) - per_building, per_building)
    h = per_building[bld]
    size = pop[bld] // h + (j < pop[bld] % h)
    dwelling = np.repeat(occupied, size)
    n = len(dwelling)
    residence = rng.choice(3, size=n, p=[0.70, 0.28, 0.02])
    names = person_names(n, rng)
    phones: list[str | None] = list(phone_numbers(n, rng))
    for i in np.flatnonzero(rng.random(n) < 0.12):
        phones[i] = None
    return BasePersons(dwelling, residence, names, phones)


def identities(seed: int, residence: np.ndarray, birth_years: np.ndarray) -> list[str]:
    """Valid, distinct 18-digit ID numbers (GB 11643 check digit) for the demo's persons."""
    n = len(residence)
    rng = np.random.default_rng([seed, 11643])
    region = np.where(residence == 0, REGIONS[0], REGIONS[1:][rng.integers(0, 9, n)])
    serial = rng.integers(0, 12 * 28 * 1000, n)
    body = _body(region, birth_years, serial)
    while True:  # a rare repeat draws a new serial until every number is distinct
        order = np.argsort(body, kind="stable")
        again = order[1:][body[order][1:] == body[order][:-1]]
        if not len(again):
            break
        serial[again] = rng.integers(0, 12 * 28 * 1000, len(again))
        body[again] = _body(region[again], birth_years[again], serial[again])
    digits = (body[:, None] // 10 ** np.arange(16, -1, -1, dtype=np.int64)) % 10
    check = _CHECK[(digits * _WEIGHTS).sum(axis=1) % 11]
    return [f"{v}{c}" for v, c in zip(body.tolist(), check.tolist(), strict=True)]


def _body(region: np.ndarray, years: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """The first 17 digits as one int64: region, birth date, sequence."""
    month, rest = serial // 28_000 + 1, serial % 28_000
    day, seq = rest // 1000 + 1, rest % 1000
    date = years.astype(np.int64) * 10_000 + month * 100 + day
    return region.astype(np.int64) * 10**11 + date * 1000 + seq


def birth_years(seed: int, n: int, now_year: int) -> np.ndarray:
    """Ages 0–95 with fewer very old people (the district's pyramid, roughly)."""
    rng = np.random.default_rng([seed, 1949])
    age = np.minimum(np.abs(rng.normal(38, 21, n)), 95).astype(int)
    return now_year - age


@dataclass
class BaseLinks:
    """Owner and tenant links (`person_links`): person row, dwelling row, 0 owner / 1 tenant."""

    person: np.ndarray
    dwelling: np.ndarray
    kind: np.ndarray


def make_links(d: BaseDwellings, p: BasePersons, rng: np.random.Generator) -> BaseLinks:
    """The first resident owns a self-occupied flat and rents a rented one; a rented or vacant
    flat's owner is the first resident of a self-occupied flat elsewhere (a landlord)."""
    lived, first = np.unique(p.dwelling, return_index=True)
    head = np.full(len(d.use), -1)
    head[lived] = first
    own = np.flatnonzero((d.use == 0) & (head >= 0))
    rented = np.flatnonzero((d.use == 1) & (head >= 0))
    let = np.flatnonzero((d.use == 1) | (d.use == 2))
    landlords = head[own][rng.integers(0, max(len(own), 1), len(let))] if len(own) else head[let]
    keep = landlords >= 0
    person = np.concatenate([head[own], head[rented], landlords[keep]])
    dwelling = np.concatenate([own, rented, let[keep]])
    kind = np.concatenate([np.zeros(len(own)), np.ones(len(rented)), np.zeros(keep.sum())])
    return BaseLinks(person, dwelling, kind.astype(int))
