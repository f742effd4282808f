"""Write the demo's base records (addresses, dwellings, persons, units) with COPY.

`plan_base` makes the records before anything is written and sets the
buildings' household and population figures to what the records count, so the
courtyards' and grid cells' figures (summed from the buildings) are sums of
persons and dwellings too; `write_base` writes them after the buildings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from layers.base_data.privacy import hashing_key, keyed_hash, mask_id
from layers.demo.base_records import (
    BaseAddresses,
    BaseDwellings,
    BasePersons,
    birth_years,
    identities,
    make_addresses,
    make_dwellings,
    make_links,
    make_persons,
)
from layers.demo.build import DemoDistrict
from layers.demo.dwellings import Buildings
from layers.demo.geoms import points_wgs84
from layers.demo.names import ROADS, person_names, phone_numbers
from layers.store.copy import copy_rows
from layers.store.table_indexes import rebuild_indexes, set_aside_indexes
from layers.tables.dwellings import DWELLING_USES
from layers.tables.personal_data import mask_phone
from layers.tables.persons import RESIDENCE_TYPES
from layers.tables.units import KEY_PLACE_CLASSES, UNIT_CLASSES

ROAD_ALIASES = (("老崔家店路", "崔家店路"), ("建设巷", "建设路"), ("府青公路", "府青路"))
"""Old road names (道路曾用名) the demo's department files still use."""


@dataclass
class BasePlan:
    """The base records of a district, made before anything is written."""

    addresses: BaseAddresses
    dwellings: BaseDwellings
    persons: BasePersons
    rng: np.random.Generator


def plan_base(demo: DemoDistrict) -> BasePlan:
    """Make the records and set the buildings' figures to what they count.

    Called before the cells, courtyards and buildings are written, so every
    figure the demo stores (building, courtyard, grid cell) is a sum of records:
    a household is a flat with residents, a flat the residents did not reach
    is vacant.
    """
    b = demo.buildings
    rng = np.random.default_rng([demo.seed, 13])
    addr = make_addresses(b, rng)
    flats = make_dwellings(b, addr, rng)
    people = make_persons(b, flats, rng)
    lived_in = np.bincount(people.dwelling, minlength=len(flats.use)) > 0
    flats.use = np.where(lived_in, flats.use, 2)
    building_of_flat = addr.building[flats.address]
    n = len(b.households)
    b.households = np.bincount(building_of_flat[lived_in], minlength=n).astype(int)
    b.population = np.bincount(building_of_flat[people.dwelling], minlength=n).astype(int)
    return BasePlan(addr, flats, people, rng)


def write_base(conn: Connection, demo: DemoDistrict, plan: BasePlan) -> dict[str, int]:
    """COPY addresses, dwellings, persons and units (the buildings are written); row counts."""
    b, addr, flats, rng = demo.buildings, plan.addresses, plan.dwellings, plan.rng
    points = points_wgs84(
        np.array([g.representative_point().coords[0] for g in b.geoms]).reshape(-1, 2)
    )
    written = {"addresses": _write_addresses(conn, b, addr, points)}
    copy_rows(conn, "road_aliases", ("alias", "road"), ROAD_ALIASES)
    area = np.round(rng.normal(78, 22, len(flats.floor)).clip(25, 220), 1)
    written["dwellings"] = copy_rows(
        conn,
        "dwellings",
        ("id", "address_id", "room", "floor", "use", "area_m2"),
        zip(
            np.arange(1, len(area) + 1).tolist(),
            (flats.address + 1).tolist(),
            flats.room.astype(str).tolist(),
            flats.floor.tolist(),
            [DWELLING_USES[u] for u in flats.use],
            area.tolist(),
            strict=True,
        ),
        plain=True,
    )
    with Session(bind=conn) as session:  # the caller's transaction: build the indexes once
        aside = set_aside_indexes(session=session, table="persons")
        written["persons"] = _write_persons(conn, demo, plan.persons)
        rebuild_indexes(session=session, definitions=aside, work_mem="64MB")
    written["person_links"] = _write_links(conn, demo, plan)
    written["units"] = _write_units(conn, demo, len(addr.road), points, addr.building, rng)
    return written


def _write_links(conn: Connection, demo: DemoDistrict, plan: BasePlan) -> int:
    """Owners and tenants from the housing department (its own random stream: the other
    records, and the department files regenerated from the seed, stay as they were)."""
    links = make_links(plan.dwellings, plan.persons, np.random.default_rng([demo.seed, 131]))
    housing = conn.execute(text("SELECT id FROM sources WHERE code = 'housing'")).scalar()
    return copy_rows(
        conn,
        "person_links",
        ("person_id", "dwelling_id", "kind", "source_id"),
        zip(
            (links.person + 1).tolist(),
            (links.dwelling + 1).tolist(),
            [("owner", "tenant")[k] for k in links.kind],
            [housing] * len(links.kind),
            strict=True,
        ),
        plain=True,
    )


def _write_addresses(conn: Connection, b: Buildings, addr: BaseAddresses, points: list[Any]) -> int:
    """One standard address per 单元, at its building's entrance point."""
    yard = b.courtyard
    return copy_rows(
        conn,
        "addresses",
        (
            "id",
            "road",
            "number",
            "building_no",
            "unit_no",
            "full_text",
            "building_id",
            "courtyard_id",
            "geom",
        ),
        (
            (
                i + 1,
                ROADS[r],
                n,
                bn,
                u,
                t,
                k + 1,
                None if yard[k] < 0 else int(yard[k]) + 1,
                points[k],
            )
            for i, (r, n, bn, u, t, k) in enumerate(
                zip(
                    addr.road.tolist(),
                    addr.number.tolist(),
                    addr.building_no.tolist(),
                    addr.unit_no.tolist(),
                    addr.texts(),
                    addr.building.tolist(),
                    strict=True,
                )
            )
        ),
    )


def _write_persons(conn: Connection, demo: DemoDistrict, p: BasePersons) -> int:
    """Persons with hashed, masked ID numbers and phones; service flags with their source."""
    years = birth_years(demo.seed, len(p.dwelling), demo.now.year)
    numbers = identities(demo.seed, p.residence, years)
    key = hashing_key()
    now = demo.now.isoformat()
    flags = _flags(demo, years, np.bincount(p.dwelling)[p.dwelling] == 1)
    hmac_of = [keyed_hash(num, key) for num in numbers]
    rows = (
        (
            i + 1,
            hmac_of[i],
            mask_id(num),
            p.names[i],
            "F" if num[16] in "02468" else "M",
            y,
            None if ph is None else keyed_hash(ph, key),
            mask_phone(ph),
            RESIDENCE_TYPES[r],
            d + 1,
            flags[i],
            now,
        )
        for i, (num, y, r, d, ph) in enumerate(
            zip(
                numbers,
                years.tolist(),
                p.residence.tolist(),
                p.dwelling.tolist(),
                p.phones,
                strict=True,
            )
        )
    )
    return copy_rows(
        conn,
        "persons",
        (
            "id",
            "id_hash",
            "id_masked",
            "name",
            "sex",
            "birth_year",
            "phone_hash",
            "phone_masked",
            "residence_type",
            "dwelling_id",
            "flags",
            "updated_at",
        ),
        rows,
        plain=True,
    )


def _flags(demo: DemoDistrict, years: np.ndarray, alone: np.ndarray) -> list[str]:
    """Each person's service flags (JSON text), with the department that set them."""
    age = demo.now.year - years
    draw = np.random.default_rng([demo.seed, 17]).random((len(years), 3))
    rules = (
        ("elderly_alone", "civil_affairs", (age >= 70) & alone),
        ("minor", "education", age < 18),
        ("disabled", "disabled", draw[:, 0] < 0.015),
        ("low_income", "civil_affairs", draw[:, 1] < 0.02),
        ("veteran", "veterans", (draw[:, 2] < 0.01) & (age >= 25)),
    )
    flags = ["{}"] * len(years)
    parts: dict[int, list[str]] = {}
    for flag, source, mask in rules:
        for i in np.flatnonzero(mask).tolist():
            parts.setdefault(i, []).append(f'"{flag}": "{source}"')
    for i, items in parts.items():
        flags[i] = "{" + ", ".join(items) + "}"
    return flags


def _write_units(
    conn: Connection,
    demo: DemoDistrict,
    n_addr: int,
    points: list[Any],
    building: np.ndarray,
    rng: np.random.Generator,
) -> int:
    """About one unit or place per 40 residents, at a random entrance of the loose buildings."""
    n = max(5, round(demo.counts.residents / 40))
    loose = np.flatnonzero(demo.buildings.courtyard[building] < 0)
    pool = loose if len(loose) else np.arange(n_addr)
    at = pool[rng.integers(0, len(pool), n)]
    kinds = rng.choice(len(UNIT_CLASSES), n, p=[0.2, 0.4, 0.04, 0.06, 0.18, 0.05, 0.03, 0.04])
    words = ("鑫源", "华兴", "锦程", "蓉城", "天府", "东方", "和美", "兴隆")
    suffix = ("有限公司", "商店", "小学", "诊所", "餐馆", "酒店", "网吧", "项目部")
    contacts, phones = person_names(n, rng), phone_numbers(n, rng)
    rows = []
    for i in range(n):
        k = int(kinds[i])
        cls = UNIT_CLASSES[k]
        pt = points[int(building[at[i]])]
        rows.append(
            (
                i + 1,
                f"{words[i % 8]}{suffix[k]}{i + 1}",
                cls,
                f"91510108MA{i + 1:08d}",
                contacts[i],
                phones[i],
                int(at[i]) + 1,
                cls in KEY_PLACE_CLASSES,
                pt,
            )
        )
    return copy_rows(
        conn,
        "units",
        (
            "id",
            "name",
            "class",
            "licence_no",
            "contact_name",
            "contact_phone",
            "address_id",
            "is_key_place",
            "geom",
        ),
        rows,
    )
