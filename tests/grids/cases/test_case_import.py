"""`wangge incidents import`: CSV / GeoJSON / GeoPackage, rejects, CRS, re-runs import nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point
from sqlalchemy import text
from typer.testing import CliRunner

from geo_api.cli import app as cli
from layers.core.crs import from_wgs84
from layers.core.errors import InvalidInputError

GOOD = [
    ("H-0001", "0102", "hotline_12345", "closed", "2026-03-01T09:00:00+08:00", 104.1, 30.68),
    ("H-0002", "0404", "", "", "2026-04-01T09:00:00+08:00", 104.12, 30.69),
    ("H-0003", "1001", "wechat", "in_progress", "2026-05-01T09:00:00+08:00", 104.11, 30.67),
]
BAD = [
    ("", "0102", "", "closed", "2026-03-01T09:00:00+08:00", 104.1, 30.68, "missing external_id"),
    (
        "H-0001",
        "0102",
        "",
        "closed",
        "2026-03-01T09:00:00+08:00",
        104.1,
        30.68,
        "external_id repeated in file",
    ),
    ("H-0010", "9999", "", "closed", "2026-03-01T09:00:00+08:00", 104.1, 30.68, "unknown category"),
    (
        "H-0011",
        "0102",
        "fax",
        "closed",
        "2026-03-01T09:00:00+08:00",
        104.1,
        30.68,
        "unknown channel",
    ),
    ("H-0012", "0102", "", "lost", "2026-03-01T09:00:00+08:00", 104.1, 30.68, "unknown status"),
    ("H-0013", "0102", "", "closed", "yesterday", 104.1, 30.68, "bad reported_at"),
    ("H-0014", "0102", "", "closed", "2026-03-01T09:00:00+08:00", 200.0, 30.68, "bad coordinates"),
    (
        "H-0015",
        "0102",
        "",
        "closed",
        "2026-03-01T09:00:00+08:00",
        105.5,
        30.68,
        "outside the district",
    ),
]
HEADER = ["external_id", "category", "channel", "status", "reported_at", "lon", "lat"]


def write_csv(path: Path, rows, crs: str = "wgs84") -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for row in rows:
            x, y = (row[5], row[6]) if crs == "wgs84" else from_wgs84(row[5], row[6], crs)
            writer.writerow([*row[:5], f"{float(x):.9f}", f"{float(y):.9f}"])
    return path


@pytest.fixture
def run(test_db, monkeypatch):
    monkeypatch.setenv("WANGGE_DATABASE_URL", test_db.url)

    def invoke(*args: str):
        result = CliRunner().invoke(cli, ["incidents", "import", *args])
        assert result.exit_code == 0, result.output
        return result.output

    return invoke


def imported(engine, prefix: str):
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT i.external_id, i.status, i.channel_code, i.l3_cell_id, i.locate_method, "
                "i.assignee_worker_id, i.created_at, i.due_at, "
                "(SELECT count(*) FROM incident_events e WHERE e.incident_id = i.id "
                " AND e.action = 'import') AS events "
                "FROM incidents i WHERE i.external_id LIKE :p ORDER BY i.external_id"
            ),
            {"p": prefix + "%"},
        ).all()


def test_csv_with_rejects_then_a_rerun_imports_nothing(run, engine, tmp_path):
    path = write_csv(tmp_path / "cases.csv", GOOD + [r[:7] for r in BAD])
    out = run(str(path))
    assert "3 imported" in out and f"{len(BAD)} rejected" in out
    rows = imported(engine, "H-")
    assert [r.external_id for r in rows] == ["H-0001", "H-0002", "H-0003"]
    assert all(r.l3_cell_id and r.locate_method == "covers" and r.assignee_worker_id for r in rows)
    assert all(r.events == 1 for r in rows)
    assert rows[1].channel_code == "other" and rows[1].status == "closed"
    assert rows[0].due_at is None and rows[2].due_at is not None  # open cases get a clock
    assert rows[0].created_at.isoformat().startswith("2026-03-01T01:00")
    with (tmp_path / "cases.csv.rejects.csv").open(encoding="utf-8") as fh:
        rejects = list(csv.DictReader(fh))
    assert [r["reason"] for r in rejects] == [r[7] for r in BAD]
    assert [int(r["row"]) for r in rejects] == list(range(4, 4 + len(BAD)))
    again = run(str(path))
    assert "0 imported, 3 already there" in again
    assert len(imported(engine, "H-")) == 3


def test_other_crs_geojson_and_geopackage(run, engine, tmp_path):
    gcj = write_csv(
        tmp_path / "gcj.csv",
        [("G-1", "0102", "", "closed", "2026-03-01T09:00:00+08:00", 104.1, 30.68)],
        "gcj02",
    )
    run(str(gcj), "--crs", "gcj02")
    with engine.connect() as conn:
        x, y = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE external_id = 'G-1'")
        ).one()
    assert abs(x - 104.1) < 1e-7 and abs(y - 30.68) < 1e-7
    frame = gpd.GeoDataFrame(
        {
            "external_id": ["J-1", "J-2"],
            "category": ["0404", "0404"],
            "reported_at": ["2026-06-01T08:00:00+08:00"] * 2,
        },
        geometry=[Point(104.1, 30.68), LineString([(104.1, 30.68), (104.11, 30.68)])],
        crs=4326,
    )
    frame.to_file(tmp_path / "cases.geojson", driver="GeoJSON")
    out = run(str(tmp_path / "cases.geojson"), "--rejects", str(tmp_path / "r.csv"))
    assert "1 imported" in out and "1 rejected" in out
    assert "geometry is not a point" in (tmp_path / "r.csv").read_text(encoding="utf-8")
    frame["external_id"] = ["K-1", "K-2"]
    frame.iloc[[0]].to_file(tmp_path / "cases.gpkg", driver="GPKG")
    assert "1 imported" in run(str(tmp_path / "cases.gpkg"))


def test_unreadable_files_write_nothing(test_db, engine, monkeypatch, tmp_path):
    monkeypatch.setenv("WANGGE_DATABASE_URL", test_db.url)
    before = len(imported(engine, ""))
    (tmp_path / "no_xy.csv").write_text("external_id,category\nA,0102\n", encoding="utf-8")
    (tmp_path / "cases.docx").write_text("?", encoding="utf-8")
    for name, code in (
        ("no_xy.csv", "missing_coordinates"),
        ("cases.docx", "unsupported_file"),
        ("missing.csv", "file_not_found"),
    ):
        result = CliRunner().invoke(cli, ["incidents", "import", str(tmp_path / name)])
        assert isinstance(result.exception, InvalidInputError) and result.exception.code == code
    assert len(imported(engine, "")) == before


def test_a_malformed_scheduler_is_refused_before_anything_is_written(
    test_db, engine, monkeypatch, tmp_path
):
    monkeypatch.setenv("WANGGE_DATABASE_URL", test_db.url)
    before = len(imported(engine, ""))
    path = write_csv(tmp_path / "one.csv", GOOD[:1])
    result = CliRunner().invoke(cli, ["incidents", "import", str(path), "--scheduler", "bogus"])
    assert isinstance(result.exception, InvalidInputError)
    assert result.exception.code == "invalid_scheduler"
    assert "local:N" in result.exception.message
    assert len(imported(engine, "")) == before


def test_without_the_trigger_shortcut_the_result_is_the_same(run, engine, tmp_path, monkeypatch):
    import grids.cases.importing as case_import

    monkeypatch.setattr(case_import, "_skip_row_triggers", lambda session: False)
    path = write_csv(
        tmp_path / "slow.csv",
        [("S-1", "0102", "", "closed", "2026-03-01T09:00:00+08:00", 104.1, 30.68)],
    )
    assert "1 imported" in run(str(path))
    assert [r.external_id for r in imported(engine, "S-")] == ["S-1"]


def test_references_are_checked_before_the_triggers_are_skipped(engine):
    import pandas as pd
    from sqlalchemy.orm import Session

    from grids.cases.import_rows import references_hold

    frame = pd.DataFrame(
        {
            column: [None]
            for column in (
                "revision_id",
                "l1_cell_id",
                "l2_cell_id",
                "l3_cell_id",
                "community_id",
                "street_id",
                "assignee_worker_id",
            )
        }
    )
    frame["category_code"], frame["channel_code"] = ["0102"], ["wechat"]
    with Session(engine) as session:
        assert references_hold(session=session, incidents=frame)
        session.rollback()
        frame["l3_cell_id"] = [10**9]
        assert not references_hold(session=session, incidents=frame)
        session.rollback()


def test_offline_mode_rebuilds_every_index(run, engine, tmp_path):
    from sqlalchemy import text as sql

    with engine.connect() as conn:
        before = dict(
            conn.execute(
                sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'incidents'")
            ).all()
        )
    path = tmp_path / "offline.csv"
    path.write_text(
        "external_id,category,reported_at,lon,lat\n"
        "OFF-1,0101,2026-10-01T08:00:00+08:00,104.1,30.67\n"
        "OFF-2,0102,2026-10-02T08:00:00+08:00,104.12,30.66\n",
        encoding="utf-8",
    )
    output = run(str(path), "--rebuild-indexes")
    assert "2 imported" in output
    with engine.connect() as conn:
        after = dict(
            conn.execute(
                sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'incidents'")
            ).all()
        )
        found = conn.execute(
            sql("SELECT count(*) FROM incidents WHERE external_id IN ('OFF-1', 'OFF-2')")
        ).scalar()
    assert after == before and found == 2


def test_bad_dates_nul_and_overlong_text_reject_their_row_only(run, engine, tmp_path):
    """Each of these aborted the whole import with a traceback, or was imported regardless."""
    path = tmp_path / "mixed.csv"
    rows = [
        ("M-0001", "2026-03-01T09:00:00+08:00", "好的", ""),
        ("M-0002", "2300-01-01T09:00:00+08:00", "未来的案件", "reported_at"),
        ("M-0003", "1800-01-01T09:00:00+08:00", "过去的案件", "reported_at"),
        ("M-0004", "2026-03-01T09:00:00+08:00", "有\x00空字符", "NUL"),
        ("M-0005", "2026-03-01T09:00:00+08:00", "长" * 2_000_000, "longer than 4,000"),
        ("M-0006\x00", "2026-03-01T09:00:00+08:00", "编号有空字符", "NUL"),
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["external_id", "category", "reported_at", "lon", "lat", "description"])
        for ext, when, description, _ in rows:
            writer.writerow([ext, "0102", when, "104.1", "30.68", description])
    out = run(str(path), "--rejects", str(tmp_path / "rejects.csv"))
    assert "1 imported" in out and "5 rejected" in out
    assert [r.external_id for r in imported(engine, "M-")] == ["M-0001"]
    with (tmp_path / "rejects.csv").open(encoding="utf-8") as fh:
        rejects = list(csv.DictReader(fh))
    assert [int(r["row"]) for r in rejects] == [2, 3, 4, 5, 6]
    for reject, (_, _, _, why) in zip(rejects, rows[1:], strict=True):
        assert why in reject["reason"], reject


def test_the_api_and_the_import_share_the_field_limits(run, client, engine, tmp_path):
    """One rule (grids.cases.fields): what POST /incidents refuses, the import rejects."""
    from grids.cases.fields import DESCRIPTION

    longest = DESCRIPTION.max_length
    path = tmp_path / "limits.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["external_id", "category", "reported_at", "lon", "lat", "description"])
        for ext, size in (("L-0001", longest), ("L-0002", longest + 1)):
            writer.writerow(
                [ext, "0102", "2026-03-01T09:00:00+08:00", "104.1", "30.68", "x" * size]
            )
    run(str(path))
    assert [r.external_id for r in imported(engine, "L-")] == ["L-0001"]
    case = {"location": {"lon": 104.1, "lat": 30.68}, "category": "0102", "channel": "web_portal"}
    assert client.post("/incidents", json={**case, "description": "x" * longest}).status_code == 201
    too_long = client.post("/incidents", json={**case, "description": "x" * (longest + 1)})
    assert too_long.status_code == 422 and too_long.json()["code"] == "invalid_request"


def test_rejects_csv_escapes_spreadsheet_formulas(run, tmp_path):
    path = tmp_path / "formula.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["external_id", "category", "reported_at", "lon", "lat"])
        for ext in ("=1+1", "+SUM(A1)", "@cmd", "-2+3"):
            writer.writerow([ext, "9999", "2026-03-01T09:00:00+08:00", "104.1", "30.68"])
    run(str(path), "--rejects", str(tmp_path / "r.csv"))
    with (tmp_path / "r.csv").open(encoding="utf-8") as fh:
        ids = [r["external_id"] for r in csv.DictReader(fh)]
    assert ids == ["'=1+1", "'+SUM(A1)", "'@cmd", "'-2+3"]
