"""Write the demo's base records (addresses, dwellings, persons, units) with COPY.

Runs after the buildings are written; the buildings' and courtyards' household
and population figures are then recomputed from the records (`refresh_counts`),
so the figures planners read are sums of persons and dwellings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import Connection

from layers.base_data.figures import refresh_counts
from layers.base_data.privacy import hashing_key, keyed_hash, mask_id
from layers.demo.base_records import (
    BasePersons,
    birth_years,
    identities,
    make_addresses,
    make_dwellings,
    make_persons,
)
from layers.demo.build import DemoDistrict
from layers.demo.geoms import points_wgs84
from layers.demo.names import ROADS, person_names, phone_numbers
from layers.store.copy import copy_rows
from layers.tables.dwellings import DWELLING_USES
from layers.tables.persons import RESIDENCE_TYPES
from layers.tables.personal_data import mask_phone
from layers.tables.units import KEY_PLACE_CLASSES, UNIT_CLASSES

ROAD_ALIASES = (("老崔家店路", "崔家店路"), ("建设巷", "建设路"), ("府青公路", "府青路"))
"""Old road names (道路曾用名) the demo's department files still use."""
def write_base(conn: Connection, demo: DemoDistrict) -> dict[str, int]:
    """COPY addresses, dwellings, persons and units; refresh the figures; row counts."""
    b = demo.buildings
    rng = np.random.default_rng([demo.seed, 13])
    addr = make_addresses(b, rng)
    points = points_wgs84(
        np.array([g.representative_point().coords[0] for g in b.geoms]).reshape(-1, 2)
    )
    yard = b.courtyard
    written = {
        "addresses": copy_rows(
            conn,
            "addresses",
            ("id", "road", "number", "building_no", "unit_no", "full_text", "building_id",
             "courtyard_id", "geom"),
            (
                (i + 1, ROADS[r], int(n), int(bn), int(u), t, int(k) + 1,
                 None if yard[k] < 0 else int(yard[k]) + 1, points[k])
                for i, (r, n, bn, u, t, k) in enumerate(
                    zip(addr.road, addr.number, addr.building_no, addr.unit_no, addr.texts(),
                        addr.building, strict=True)
                )
            ),
        )
    }
    copy_rows(conn, "road_aliases", ("alias", "road"), ROAD_ALIASES)
    flats = make_dwellings(b, addr, rng)
    area = np.round(rng.normal(78, 22, len(flats.floor)).clip(25, 220), 1)
    written["dwellings"] = copy_rows(
        conn,
        "dwellings",
        ("id", "address_id", "room", "floor", "use", "area_m2"),
        zip(np.arange(1, len(area) + 1).tolist(), (flats.address + 1).tolist(),
            flats.room.astype(str).tolist(), flats.floor.tolist(),
            [DWELLING_USES[u] for u in flats.use], area.tolist(), strict=True),
    )
    written["persons"] = _write_persons(conn, demo, make_persons(b, flats, rng))
    written["units"] = _write_units(conn, demo, len(addr.road), points, addr.building, rng)
    refresh_counts(conn)
    return written


def _write_persons(conn: Connection, demo: DemoDistrict, p: BasePersons) -> int:
    """Persons with hashed, masked ID numbers and phones; service flags with their source."""
    years = birth_years(demo.seed, len(p.dwelling), demo.now.year)
    numbers = identities(demo.seed, p.residence, years)
    key = hashing_key()
    age = demo.now.year - years
    alone = np.bincount(p.dwelling)[p.dwelling] == 1
    rng = np.random.default_rng([demo.seed, 17])
    draw = rng.random((len(years), 3))
    now = demo.now.isoformat()

    def flags(i: int) -> str:
        out = {}
        if age[i] >= 70 and alone[i]:
            out["elderly_alone"] = "civil_affairs"
        if age[i] < 18:
            out["minor"] = "education"
        if draw[i, 0] < 0.015:
            out["disabled"] = "disabled"
        if draw[i, 1] < 0.02:
            out["low_income"] = "civil_affairs"
        if draw[i, 2] < 0.01 and age[i] >= 25:
            out["veteran"] = "veterans"
        return "{" + ", ".join(f'"{k}": "{v}"' for k, v in out.items()) + "}"

    rows = (
        (i + 1, keyed_hash(num, key), mask_id(num), p.names[i], "M" if int(num[16]) % 2 else "F",
         int(years[i]), None if p.phones[i] is None else keyed_hash(p.phones[i], key),
         mask_phone(p.phones[i]), RESIDENCE_TYPES[p.residence[i]], int(p.dwelling[i]) + 1,
         flags(i), now)
        for i, num in enumerate(numbers)
    )
    return copy_rows(
        conn,
        "persons",
        ("id", "id_hash", "id_masked", "name", "sex", "birth_year", "phone_hash", "phone_masked",
         "residence_type", "dwelling_id", "flags", "updated_at"),
        rows,
    )


def _write_units(
    conn: Connection, demo: DemoDistrict, n_addr: int, points: list[Any], building: np.ndarray,
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
        rows.append((i + 1, f"{words[i % 8]}{suffix[k]}{i + 1}", cls, f"91510108MA{i + 1:08d}",
                     contacts[i], phones[i], int(at[i]) + 1, cls in KEY_PLACE_CLASSES, pt))
    return copy_rows(
        conn, "units",
        ("id", "name", "class", "licence_no", "contact_name", "contact_phone", "address_id",
         "is_key_place", "geom"),
        rows,
    )
