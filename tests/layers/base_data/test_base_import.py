"""Department files into the base-data centre: rejects, all or nothing, dedup, figures, privacy."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from geo_api.cli import app as cli
from layers.base_data.importing import FileRejectedError, ImportResult, import_file
from layers.base_data.privacy import check_digit
from layers.demo.base_files import DepartmentFile, department_files
from tests.conftest import TEST_NOW, TEST_SEED, DemoDatabase


@pytest.fixture(scope="module")
def files(engine: Engine) -> dict[str, DepartmentFile]:
    with engine.connect() as c:
        return department_files(c, seed=TEST_SEED, now_year=TEST_NOW.year, fraction=0.02)


def _import(engine: Engine, source: str, f: DepartmentFile, **kw: object) -> ImportResult:
    with Session(engine) as session:
        result = import_file(
            session=session,
            source=source,
            base_class=kw.pop("base_class", "persons"),
            name=f.name,
            data=f.data,
            actor="test",
            role="admin",
            now=TEST_NOW,
            **kw,
        )
        session.commit()
    return result


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as c:
        return int(c.execute(text(sql)).scalar_one())


def test_a_file_with_rejects_writes_nothing(engine: Engine, files) -> None:
    before = [
        _count(engine, f"SELECT count(*) FROM {t}") for t in ("base_provenance", "base_imports")
    ]
    with pytest.raises(FileRejectedError) as caught:
        _import(engine, "police", files["police"])
    rejects = caught.value.result.rejects
    expected = [i + 2 for i, t in enumerate(files["police"].truth) if t is None]
    assert [r[0] for r in rejects] == expected and {r[1] for r in rejects} == {"unknown_road"}
    after = [
        _count(engine, f"SELECT count(*) FROM {t}") for t in ("base_provenance", "base_imports")
    ]
    assert after == before


def test_messy_police_file_matches_its_truth(engine: Engine, files) -> None:
    police = files["police"]
    result = _import(engine, "police", police, skip_rejects=True)
    assert result.encoding == "gb18030" and result.created == 0  # the demo knows them all
    assert result.merged == len(police.truth) - len(result.rejects)
    with engine.connect() as c:
        texts = c.execute(
            text(
                "SELECT v.attrs->>'address' FROM base_provenance v WHERE v.source_id ="
                " (SELECT id FROM sources WHERE code = 'police')"
            )
        ).scalars()
        rows = c.execute(text("SELECT id, building_id, full_text FROM addresses")).all()
        by_text = {r.full_text: (r.id, r.building_id) for r in rows}
        said = [by_text[t] for t in texts]
        building = {r.id: r.building_id for r in rows}
    truth = [t for t in police.truth if t is not None]

    def agree(got: list[int], wanted: list[int]) -> int:
        return sum((Counter(got) & Counter(wanted)).values())

    assert agree([r[0] for r in said], truth) / len(truth) >= 0.99
    assert agree([r[1] for r in said], [building[t] for t in truth]) / len(truth) >= 0.995


def test_same_file_again_imports_nothing(engine: Engine, files) -> None:
    before = _count(engine, "SELECT count(*) FROM base_provenance")
    assert _import(engine, "police", files["police"], skip_rejects=True).already
    assert _count(engine, "SELECT count(*) FROM base_provenance") == before


def test_civil_affairs_xlsx_dedups_by_id_hash(engine: Engine, files) -> None:
    civil = files["civil_affairs"]
    persons = _count(engine, "SELECT count(*) FROM persons")
    result = _import(engine, "civil_affairs", civil)
    assert result.encoding == "xlsx" and result.created == 0 and result.merged == len(civil.truth)
    assert _count(engine, "SELECT count(*) FROM persons") == persons
    both = _count(
        engine,
        "SELECT count(*) FROM (SELECT entity_id FROM base_provenance WHERE entity = 'persons'"
        " GROUP BY entity_id HAVING count(DISTINCT source_id) = 2) t",
    )
    assert both >= len(civil.truth) * 0.9  # the police file named most of them too
    flagged = _count(
        engine,
        "SELECT count(*) FROM persons WHERE flags ? 'low_income'"
        " AND flags->>'low_income' = 'civil_affairs'",
    )
    assert flagged > 0


def _id(body: str) -> str:
    return body + check_digit(body)


def _bad_file(engine: Engine) -> tuple[bytes, str, str]:
    with engine.connect() as c:
        full, room, no_unit = c.execute(
            text(
                "SELECT a.full_text, w.room, a.road || a.number || '号' || a.building_no || '栋'"
                " FROM dwellings w JOIN addresses a ON a.id = w.address_id"
                " WHERE w.use = 'vacant' AND a.unit_no = 2 ORDER BY w.id LIMIT 1"
            )
        ).one()
    good = _id("51010819850505321")
    wrong = good[:17] + ("1" if good[17] != "1" else "2")
    rows = [
        ["姓名", "公民身份号码", "联系电话", "居住地址", "人员类别", "登记日期"],
        ["新来", good, "138 0013 8000", f"{full}{room}室", "流动", "2025-05-01"],
        ["错号", wrong, "", f"{full}{room}室", "户籍", "2025-05-01"],
        ["重复", good, "", f"{full}{room}室", "户籍", "2025-05-01"],
        ["坏日", _id("51010819900101002"), "", f"{full}{room}室", "户籍", "2023-02-30"],
        ["无址", _id("51010819900101003"), "", "不知道在哪里", "户籍", "2025-05-01"],
        ["火星", _id("51010819900101004"), "", "火星路1号1栋1单元101室", "户籍", "2025-05-01"],
        ["哪个", _id("51010819900101005"), "", f"{no_unit}{room}室", "户籍", "2025-05-01"],
    ]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8"), good, wrong


def test_every_bad_row_kind_through_the_cli(
    engine: Engine, test_db: DemoDatabase, tmp_path: Path
) -> None:
    data, good, wrong = _bad_file(engine)
    path = tmp_path / "police_new.csv"
    path.write_bytes(data)
    env = {"WANGGE_DATABASE_URL": test_db.url}
    args = ["base", "import", "police", str(path), "--class", "persons"]
    persons = _count(engine, "SELECT count(*) FROM persons")
    failed = CliRunner().invoke(cli, args, env=env)
    assert failed.exit_code == 2, failed.output
    rejects = list(
        csv.reader(io.StringIO((tmp_path / "police_new.csv.rejects.csv").read_text("utf-8-sig")))
    )
    assert [r[:2] for r in rejects[1:]] == [
        ["3", "id_checksum"],
        ["4", "duplicate_in_file"],
        ["5", "impossible_date"],
        ["6", "unparseable_address"],
        ["7", "unknown_road"],
        ["8", "ambiguous_address"],
    ]
    assert _count(engine, "SELECT count(*) FROM persons") == persons
    population = _count(engine, "SELECT sum(population) FROM buildings")
    done = CliRunner().invoke(cli, [*args, "--skip-rejects"], env=env)
    assert done.exit_code == 0, done.output
    assert "1 created" in done.output and "rows/s" in done.output
    assert _count(engine, "SELECT count(*) FROM persons") == persons + 1
    assert _count(engine, "SELECT sum(population) FROM buildings") == population + 1
    for level in (1, 2, 3):  # the CLI recounted the cells through the locate rule
        cells = _count(
            engine,
            f"SELECT sum(population) FROM grid_cells WHERE level = {level} AND valid_to IS NULL",
        )
        assert cells == population + 1, level
    assert _count(engine, "SELECT sum(residents) FROM courtyards") == _count(
        engine, "SELECT coalesce(sum(population), 0) FROM buildings WHERE courtyard_id IS NOT NULL"
    )
    again = CliRunner().invoke(cli, [*args, "--skip-rejects"], env=env)
    assert "nothing new" in again.output
    with engine.connect() as c:  # the plain numbers are nowhere: tables, rejects, output
        blobs = [
            str(v)
            for t in ("persons", "base_provenance", "audit_log", "base_imports")
            for v in c.execute(text(f"SELECT t::text FROM {t} t")).scalars()
        ]
    blobs += [done.output, failed.output, (tmp_path / "police_new.csv.rejects.csv").read_text()]
    runs = {m for b in blobs for m in re.findall(r"\d{17}[\dX]", b)}
    assert good not in runs and wrong not in runs
    assert not any(good in b or wrong in b for b in blobs)


def _csv(rows: list[list[str]]) -> DepartmentFile:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return DepartmentFile("file.csv", out.getvalue().encode("gb18030"))


def test_units_and_dwellings_create_update_and_keep_provenance(engine: Engine) -> None:
    with engine.connect() as c:
        full, licence = c.execute(
            text(
                "SELECT a.full_text, u.licence_no FROM units u JOIN addresses a"
                " ON a.id = u.address_id ORDER BY u.id LIMIT 1"
            )
        ).one()
        flat = c.execute(
            text(
                "SELECT a.full_text || w.room || '室', w.id FROM dwellings w JOIN addresses a"
                " ON a.id = w.address_id WHERE w.use = 'self_occupied' ORDER BY w.id LIMIT 1"
            )
        ).one()
    units = _csv(
        [
            ["名称", "类别", "统一社会信用代码", "联系人", "联系电话", "经营地址", "登记日期"],
            ["新开网吧", "网吧", "91510108MA99999999", "王五", "13900001111", full, "2025-03-01"],
            ["改名商店", "商店", licence, "", "", full, "2025-03-01"],
        ]
    )
    result = _import(engine, "market", units, base_class="units")
    assert (result.created, result.merged, result.rejects) == (1, 1, [])
    with engine.connect() as c:
        new = c.execute(
            text("SELECT class, is_key_place, contact_phone FROM units WHERE licence_no = :l"),
            {"l": "91510108MA99999999"},
        ).one()
        renamed = c.execute(text("SELECT name FROM units WHERE licence_no = :l"), {"l": licence})
        assert tuple(new) == ("internet_cafe", True, "13900001111")
        assert renamed.scalar_one() == "改名商店"
    dwellings = _csv(
        [
            ["房屋地址", "楼层", "用途", "面积", "登记日期"],
            [flat[0], "", "出租", "65.5", "2025-04-01"],
            [full + "2701室", "27", "空置", "", "2025-04-01"],
        ]
    )
    result = _import(engine, "housing", dwellings, base_class="dwellings")
    assert (result.created, result.merged) == (1, 1)
    assert (
        _count(
            engine,
            f"SELECT count(*) FROM dwellings WHERE id = {flat[1]} AND use = 'rented'"
            " AND area_m2 = 65.5",
        )
        == 1
    )
    kept = _count(
        engine,
        "SELECT count(*) FROM base_provenance WHERE entity IN ('units', 'dwellings') AND source_id"
        " IN (SELECT id FROM sources WHERE code IN ('market', 'housing'))",
    )
    assert kept == 4


def test_a_housing_file_links_owners_and_tenants_once(engine: Engine) -> None:
    """`person_links` from a housing file: a known person (by ID hash) becomes the tenant."""
    with engine.connect() as c:
        flat = c.execute(
            text(
                "SELECT a.full_text || w.room || '室', w.id FROM dwellings w JOIN addresses a"
                " ON a.id = w.address_id WHERE w.use = 'self_occupied' ORDER BY w.id DESC LIMIT 1"
            )
        ).one()
    tenant = "51010819910408123" + check_digit("51010819910408123")
    police = _csv(
        [
            ["姓名", "公民身份号码", "联系电话", "居住地址", "人员类别", "登记日期"],
            ["租客甲", tenant, "", flat[0], "流动", "2025-03-01"],
        ]
    )
    assert _import(engine, "police", police).rejects == []
    dwellings = _csv(
        [
            ["房屋地址", "用途", "登记日期", "承租人身份证号"],
            [flat[0], "出租", "2025-04-01", tenant],
        ]
    )
    assert _import(engine, "housing", dwellings, base_class="dwellings").rejects == []
    links = (
        "SELECT count(*) FROM person_links l JOIN persons p ON p.id = l.person_id"
        f" WHERE l.dwelling_id = {flat[1]} AND l.kind = 'tenant' AND p.name = '租客甲'"
    )
    assert _count(engine, links) == 1
    _import(engine, "housing", dwellings, base_class="dwellings")
    assert _count(engine, links) == 1  # the same file again adds nothing
    wrong = tenant[:-1] + ("1" if tenant[-1] != "1" else "2")  # the check digit is off
    bad = _csv([["房屋地址", "用途", "承租人身份证号"], [flat[0], "出租", wrong]])
    with pytest.raises(FileRejectedError):
        _import(engine, "housing", bad, base_class="dwellings")
