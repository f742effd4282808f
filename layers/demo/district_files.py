"""The rest of a district's department files: housing's dwellings, market's units, the addresses.

Beside the persons files (`base_files`), a full import of the demo district
takes what three more departments export: the housing bureau's dwellings
(every flat, written as messily as the police write addresses), market
regulation's units (UTF-8 CSV, licence number as the key) and planning's
standard addresses with their entrance points (road, number, 栋, 单元, WGS 84).
Each has its own random stream, so the persons files' truth is unchanged.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import Connection, text

from layers.demo.base_files import DepartmentFile, _write, messy

_USE_WORD = {"self_occupied": "自住", "rented": "出租", "vacant": "空置", "commercial": "商用"}
_CLASS_WORD = {
    **{"company": "公司", "shop": "商店", "school": "学校", "clinic": "诊所"},
    **{"restaurant": "餐馆", "hotel": "酒店", "internet_cafe": "网吧"},
    "construction_site": "工地",
}
_DWELLINGS = """
SELECT a.id AS address_id, a.road, a.number, a.building_no, a.unit_no, w.room, w.floor, w.use,
  w.area_m2, s.name AS street
FROM dwellings w JOIN addresses a ON a.id = w.address_id JOIN buildings b ON b.id = a.building_id
JOIN communities c ON c.id = b.community_id JOIN streets s ON s.id = c.street_id
WHERE w.room IS NOT NULL AND a.building_no IS NOT NULL AND a.unit_no IS NOT NULL ORDER BY w.id
"""


def _housing(conn: Connection, seed: int, now_year: int, aliases: dict[str, str]) -> DepartmentFile:
    rng = np.random.default_rng([seed, 120])
    kinds = ("clean", "wide", "prefix", "numerals", "dashed", "old_name")
    f = DepartmentFile("housing_dwellings.csv", b"")
    body = []
    for d in conn.execute(text(_DWELLINGS)).mappings():
        kind = kinds[int(rng.integers(len(kinds)))]
        floor = "" if d["floor"] is None else str(d["floor"])
        area = "" if d["area_m2"] is None else f"{d['area_m2']:.1f}"
        address = messy(dict(d), kind, aliases, rng)
        body.append([address, floor, _USE_WORD[d["use"]], area, f"{now_year - 1}-03-31"])
        f.truth.append(d["address_id"])
        f.mess.append(kind)
    f.data = _write("gb18030", ["房屋地址", "楼层", "用途", "面积", "登记日期"], body)
    return f


def _market(conn: Connection, now_year: int) -> DepartmentFile:
    rows = conn.execute(
        text(
            "SELECT u.name, u.class, u.licence_no, u.contact_name, u.contact_phone, a.id,"
            " a.full_text FROM units u JOIN addresses a ON a.id = u.address_id"
            " WHERE u.licence_no IS NOT NULL ORDER BY u.id"
        )
    ).all()
    f = DepartmentFile("market_units.csv", b"")
    day = f"{now_year - 1}-12-31"
    body = [
        [r[0], _CLASS_WORD.get(r[1], "公司"), r[2], r[3] or "", r[4] or "", r[6], day] for r in rows
    ]
    f.truth = [int(r[5]) for r in rows]
    header = ["名称", "类别", "统一社会信用代码", "联系人", "联系电话", "经营地址", "登记日期"]
    f.data = _write("utf-8", header, body)
    return f


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _planning(conn: Connection) -> DepartmentFile:
    rows = conn.execute(
        text(
            "SELECT id, road, number, building_no, unit_no, ST_X(geom), ST_Y(geom) FROM addresses"
            " ORDER BY id"
        )
    ).all()
    f = DepartmentFile("planning_addresses.csv", b"")
    body = [[r[1], str(r[2]), _text(r[3]), _text(r[4]), f"{r[5]:.7f}", f"{r[6]:.7f}"] for r in rows]
    f.truth = [int(r[0]) for r in rows]
    f.data = _write("utf-8", ["街路巷", "门牌号", "栋", "单元", "经度", "纬度"], body)
    return f


def district_files(
    conn: Connection, *, seed: int, now_year: int
) -> dict[tuple[str, str], DepartmentFile]:
    """(source, class) → file: planning's addresses, market's units, housing's dwellings."""
    aliases = {
        road: alias for alias, road in conn.execute(text("SELECT alias, road FROM road_aliases"))
    }
    return {
        ("planning", "addresses"): _planning(conn),
        ("market", "units"): _market(conn, now_year),
        ("housing", "dwellings"): _housing(conn, seed, now_year, aliases),
    }
