"""Department files with the mess real ones have, and the truth they were made from.

The police (persons, GB18030 CSV), civil affairs (persons with service flags,
XLSX) and market regulation (units, UTF-8 CSV) export what the demo holds,
written the ways departments write: full-width digits, province and district
prefixes, Chinese numerals, ``3-2-201``, old road names, a missing 单元,
typos, and about 2 % addresses that exist nowhere.  Civil affairs names people
the police file names too (one person, two provenances).  The plain ID numbers
are regenerated from the seed (`base_records.identities`): the database never
had them.  `truth` maps each file row to the standard address it means (None:
unmatchable), for the tests and the matching benchmark.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Connection, text

from layers.base_data.xlsx import write_xlsx
from layers.demo.base_records import birth_years, identities
from layers.tables.persons import RESIDENCE_TYPES

_ZH = "零一二三四五六七八九"
_TYPO = {"路": "璐", "街": "接", "号": "亏", "道": "到", "桥": "乔", "东": "栋"}
_RESIDENCE_WORD = {"registered": "户籍", "migrant": "流动", "foreign": "境外"}
MESS = ("clean", "wide", "prefix", "numerals", "dashed", "old_name", "no_unit", "typo", "nowhere")
_MESS_P = (0.36, 0.12, 0.14, 0.08, 0.06, 0.04, 0.06, 0.12, 0.02)


@dataclass
class DepartmentFile:
    """A file's name, bytes, and per data row (file row 2…) the address id it means."""

    name: str
    data: bytes
    truth: list[int | None] = field(default_factory=list)
    mess: list[str] = field(default_factory=list)


def _wide(s: str) -> str:
    return s.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})


def messy(row: dict, kind: str, aliases: dict[str, str], rng: np.random.Generator) -> str:
    """`row`'s address (road, number, building_no, unit_no, room) written the `kind` way."""
    road, n, b, u, room = (
        row["road"],
        row["number"],
        row["building_no"],
        row["unit_no"],
        row["room"],
    )
    std = f"{road}{n}号{b}栋{u}单元{room}室"
    if kind == "wide":
        return _wide(std)
    if kind == "prefix":
        return f"四川省成都市成华区{row['street']}{std}"
    if kind == "numerals" and b < 10 and u < 10:
        return f"{road}{n}号{_ZH[b]}幢{_ZH[u]}单元{room}"
    if kind == "dashed":
        return f"{road}{n}号{b}-{u}-{room}"
    if kind == "old_name" and road in aliases:
        return f"{aliases[road]}{n}号{b}栋{u}单元{room}室"
    if kind == "no_unit":
        return f"{road}{n}号{b}栋{room}室"
    if kind == "typo":
        spots = [i for i, ch in enumerate(road) if ch in _TYPO]
        if spots:
            i = spots[int(rng.integers(len(spots)))]
            return f"{road[:i]}{_TYPO[road[i]]}{road[i + 1 :]}{n}号{b}栋{u}单元{room}室"
    if kind == "nowhere":
        return f"火星{_ZH[int(rng.integers(1, 10))]}路{n}号{b}栋{u}单元{room}室"
    return std


_PEOPLE = """
SELECT p.id, p.name, p.residence_type, p.birth_year, p.flags, a.id AS address_id, a.road,
  a.number, a.building_no, a.unit_no, w.room, s.name AS street
FROM persons p JOIN dwellings w ON w.id = p.dwelling_id JOIN addresses a ON a.id = w.address_id
JOIN buildings b ON b.id = a.building_id JOIN communities c ON c.id = b.community_id
JOIN streets s ON s.id = c.street_id ORDER BY p.id
"""


def _people(conn: Connection, seed: int, now_year: int) -> tuple[list[dict], list[str]]:
    rows = [dict(r) for r in conn.execute(text(_PEOPLE)).mappings()]
    every = conn.execute(text("SELECT residence_type FROM persons ORDER BY id")).scalars().all()
    residence = np.array([RESIDENCE_TYPES.index(r) for r in every])
    numbers = identities(seed, residence, birth_years(seed, len(every), now_year))
    return rows, numbers


def _write(kind: str, header: list[str], body: list[list[str]]) -> bytes:
    if kind == "xlsx":
        return write_xlsx([header, *body])
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *body])
    return out.getvalue().encode("gb18030" if kind == "gb18030" else "utf-8-sig")


def department_files(
    conn: Connection, *, seed: int, now_year: int, fraction: float = 1.0
) -> dict[str, DepartmentFile]:
    """The police and civil affairs persons files, deterministic for (`seed`, `fraction`)."""
    rng = np.random.default_rng([seed, 110])
    people, numbers = _people(conn, seed, now_year)
    aliases = {
        road: alias for alias, road in conn.execute(text("SELECT alias, road FROM road_aliases"))
    }
    pick = np.flatnonzero(rng.random(len(people)) < fraction)
    police = DepartmentFile("police_persons.csv", b"")
    body = []
    for i in pick:
        p = people[i]
        kind = MESS[int(rng.choice(len(MESS), p=_MESS_P))]
        address = messy(p, kind, aliases, rng)
        police.truth.append(None if kind == "nowhere" else p["address_id"])
        police.mess.append(kind)
        body.append(
            [
                p["name"],
                numbers[p["id"] - 1],
                "",
                address,
                _RESIDENCE_WORD[p["residence_type"]],
                f"{now_year - 1}-06-30",
            ]
        )
    police.data = _write(
        "gb18030", ["姓名", "公民身份号码", "联系电话", "居住地址", "人员类别", "登记日期"], body
    )
    flagged = [
        i
        for i in pick
        if people[i]["flags"].get("low_income") or people[i]["flags"].get("elderly_alone")
    ]
    civil = DepartmentFile("civil_affairs_persons.xlsx", b"")
    body = []
    for i in flagged:
        p = people[i]
        word = "低保" if p["flags"].get("low_income") else "独居老人"
        body.append(
            [
                p["name"],
                numbers[p["id"] - 1],
                messy(p, "prefix", aliases, rng),
                word,
                f"{now_year - 1}-09-01",
            ]
        )
        civil.truth.append(p["address_id"])
        civil.mess.append("prefix")
    civil.data = _write("xlsx", ["姓名", "身份证号", "住址", "救助类别", "认定日期"], body)
    return {"police": police, "civil_affairs": civil}
