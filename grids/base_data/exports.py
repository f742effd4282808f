"""Exports of the base records for the departments: XLSX with Chinese headers, scoped by role.

A department reads a spreadsheet, not JSON: one sheet per export, the header in
Chinese, codes spelled out (出租, 流动人口, 独居老人 …), the header row frozen
and filterable.  Who gets what:

- grid workers: the records whose standard address the locate rule puts in
  their own cell;
- dispatchers and admins: the district, or one grid cell (`cell`);
- planners: addresses and units only, without contacts (aggregates otherwise).

ID numbers and phones leave masked, as everywhere; units' contacts only for
dispatchers and admins.  Every export is audited (`base_export`), and one of
persons, dwellings or visits is a read of personal data: it needs a purpose.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import xlsxwriter
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.base_data.scope import cell_address_ids, worker_cell
from layers.core.errors import ForbiddenError, InvalidInputError, NotFoundError
from layers.core.roles import SEES_PERSONAL_DATA, Role
from layers.tables.audit import record
from layers.tables.grid_cells import live

WORDS: dict[str, dict[Any, str]] = {
    "use": {"self_occupied": "自住", "rented": "出租", "vacant": "空置", "commercial": "商用"},
    "residence_type": {"registered": "户籍人口", "migrant": "流动人口", "foreign": "境外人员"},
    "sex": {"M": "男", "F": "女"},
    "class": {
        "company": "企业",
        "shop": "商铺",
        "school": "学校",
        "clinic": "医疗机构",
        "restaurant": "餐饮",
        "hotel": "旅馆",
        "internet_cafe": "网吧",
        "construction_site": "建筑工地",
    },
    "status": {"open": "营业", "closed": "停业"},
    "is_key_place": {True: "是", False: "否"},
}
FLAGS = {
    "elderly_alone": "独居老人",
    "disabled": "残疾人",
    "minor": "未成年人",
    "low_income": "低保",
    "veteran": "退役军人",
}
CHECKS = {
    "residents": "人员",
    "use": "房屋用途",
    "address_plate": "门牌",
    "gas_safety": "燃气安全",
    "fire_safety": "消防安全",
    "service_flags": "重点人群",
}
_ADDR = "a.full_text, a.road, a.number, a.building_no, a.unit_no"
EXPORTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "addresses": (
        f"SELECT a.id, {_ADDR}, b.code AS building, y.name AS courtyard, ST_X(a.geom) AS lon,"  # noqa: S608
        " ST_Y(a.geom) AS lat FROM addresses a LEFT JOIN buildings b ON b.id = a.building_id"
        " LEFT JOIN courtyards y ON y.id = a.courtyard_id WHERE {where} ORDER BY a.id",
        [
            ("id", "地址编号"),
            ("full_text", "标准地址"),
            ("road", "街路巷"),
            ("number", "门牌号"),
            ("building_no", "栋"),
            ("unit_no", "单元"),
            ("building", "建筑编码"),
            ("courtyard", "院落"),
            ("lon", "经度"),
            ("lat", "纬度"),
        ],
    ),
    "dwellings": (
        "SELECT w.id, a.full_text, w.room, w.floor, w.use, w.area_m2,"
        " (SELECT count(*) FROM persons p WHERE p.dwelling_id = w.id) AS residents"
        " FROM dwellings w JOIN addresses a ON a.id = w.address_id WHERE {where} ORDER BY w.id",
        [
            ("id", "房屋编号"),
            ("full_text", "标准地址"),
            ("room", "房号"),
            ("floor", "楼层"),
            ("use", "房屋用途"),
            ("area_m2", "建筑面积(㎡)"),
            ("residents", "居住人数"),
        ],
    ),
    "persons": (
        "SELECT p.id, p.name, p.id_masked, p.sex, p.birth_year, p.phone_masked,"
        " p.residence_type, a.full_text, w.room, p.flags FROM persons p"
        " JOIN dwellings w ON w.id = p.dwelling_id JOIN addresses a ON a.id = w.address_id"
        " WHERE {where} ORDER BY p.id",
        [
            ("id", "人员编号"),
            ("name", "姓名"),
            ("id_masked", "公民身份号码(脱敏)"),
            ("sex", "性别"),
            ("birth_year", "出生年份"),
            ("phone_masked", "联系电话(脱敏)"),
            ("residence_type", "人口类别"),
            ("full_text", "居住地址"),
            ("room", "房号"),
            ("flags", "重点人群"),
        ],
    ),
    "units": (
        'SELECT u.id, u.name, u."class", u.licence_no, u.contact_name, u.contact_phone,'
        " a.full_text, u.is_key_place, u.status FROM units u"
        " LEFT JOIN addresses a ON a.id = u.address_id WHERE {where} ORDER BY u.id",
        [
            ("id", "单位编号"),
            ("name", "单位名称"),
            ("class", "单位类别"),
            ("licence_no", "统一社会信用代码/许可证号"),
            ("contact_name", "联系人"),
            ("contact_phone", "联系电话"),
            ("full_text", "地址"),
            ("is_key_place", "重点场所"),
            ("status", "经营状态"),
        ],
    ),
    "visits": (
        "SELECT v.id, v.visited_on, a.full_text, w.room, v.checked, v.residents_seen,"
        " v.actor, v.note FROM household_visits v JOIN dwellings w ON w.id = v.dwelling_id"
        " JOIN addresses a ON a.id = w.address_id WHERE {where} ORDER BY v.visited_on, v.id",
        [
            ("id", "走访编号"),
            ("visited_on", "走访日期"),
            ("full_text", "地址"),
            ("room", "房号"),
            ("checked", "核查内容"),
            ("residents_seen", "见面人数"),
            ("actor", "网格员"),
            ("note", "备注"),
        ],
    ),
}
PERSONAL = frozenset({"persons", "dwellings", "visits"})
PLANNER_CLASSES = frozenset({"addresses", "units"})
CONTACTS = frozenset({"contact_name", "contact_phone"})
SHEETS = {
    "addresses": "标准地址",
    "dwellings": "实有房屋",
    "persons": "实有人口",
    "units": "实有单位",
    "visits": "入户走访",
}


def _cell(value: Any, key: str) -> Any:
    """A database value as the sheet shows it: codes in Chinese words, lists joined."""
    if key == "flags":
        return "、".join(FLAGS.get(f, f) for f in sorted(value or {}))
    if key == "checked":
        return "、".join(CHECKS.get(c, c) for c in value or [])
    if key in WORDS and value in WORDS[key]:
        return WORDS[key][value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value if value is None or isinstance(value, int | float | str) else str(value)


def _columns(base_class: str, role: str) -> list[tuple[str, str]]:
    columns = EXPORTS[base_class][1]
    if role in SEES_PERSONAL_DATA:
        return columns
    return [c for c in columns if c[0] not in CONTACTS]


def _check(role: str, base_class: str, purpose: str | None) -> str | None:
    if base_class not in EXPORTS:
        raise InvalidInputError(f"class must be one of {', '.join(EXPORTS)}", code="unknown_class")
    if role == Role.PLANNER and base_class not in PLANNER_CLASSES:
        raise ForbiddenError("planners see aggregates only", code="aggregates_only")
    clean = (purpose or "").strip()
    if base_class in PERSONAL and len(clean) < 2:
        raise InvalidInputError("say why you export personal data", code="purpose_required")
    return clean or None


def _workbook(base_class: str, columns: list[tuple[str, str]], rows: list[Any]) -> bytes:
    """One sheet: bold frozen header with a filter, the rows below."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(SHEETS[base_class])
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    for j, (key, header) in enumerate(columns):
        sheet.write_string(0, j, header, bold)
        sheet.set_column(j, j, 28 if key in ("full_text", "name", "note") else 14)
    for i, row in enumerate(rows, start=1):
        for j, (key, _) in enumerate(columns):
            value = _cell(row[key], key)
            if value is not None:
                sheet.write(i, j, value)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
    book.close()
    return out.getvalue()


def _scope_cell(session: Session, who: Any, cell_code: str | None) -> tuple[int, str] | None:
    """The cell the export is limited to: a grid worker's own; else the one asked for, if any."""
    if who.role == Role.GRID_WORKER:
        own = worker_cell(session, who.worker_id)
        if cell_code not in (None, own[1]):
            raise ForbiddenError("you export your own cell only", code="not_your_cell")
        return own
    if cell_code is None:
        return None
    level = session.execute(
        text(f"SELECT level FROM grid_cells g WHERE g.code = :c AND {live('g')}"),  # noqa: S608
        {"c": cell_code},
    ).scalar_one_or_none()
    if level is None:
        raise NotFoundError(f"no live cell {cell_code}", code="cell_not_found")
    return int(level), cell_code


def export_xlsx(
    *,
    session: Session,
    who: Any,
    base_class: str,
    purpose: str | None,
    now: datetime,
    cell_code: str | None = None,
    tolerance_m: float | None = None,
) -> tuple[bytes, int]:
    """The class's records `who` may see as an XLSX file, and how many rows it has. Audited."""
    why = _check(who.role, base_class, purpose)
    where, params = "TRUE", {}
    cell = _scope_cell(session, who, cell_code)
    if cell is not None:
        where, params = "a.id = ANY(:ids)", {"ids": cell_address_ids(session, cell, tolerance_m)}
    sql, _ = EXPORTS[base_class]
    rows = list(session.execute(text(sql.format(where=where)), params).mappings())
    record(
        session=session,
        actor=who.name,
        role=who.role,
        action="personal_data.read" if base_class in PERSONAL else "base_export",
        entity=base_class,
        at=now,
        data={
            "face": "base_export",
            "class": base_class,
            "cell": cell[1] if cell else None,
            "rows": len(rows),
            "purpose": why,
        },
    )
    return _workbook(base_class, _columns(base_class, who.role), rows), len(rows)
