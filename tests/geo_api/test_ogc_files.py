"""Export read back identical to the database; imports all-or-nothing with a bad-row report."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import Point
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geo_api.cli import app as cli
from layers.core.crs import from_wgs84
from layers.core.errors import InvalidInputError, UnprocessableError
from layers.ogc.file_export import export_to_file, file_format
from layers.ogc.file_import import import_file
from layers.ogc.params import ItemsQuery
from layers.ogc.registry import get_collection
from layers.store.db import make_sessionmaker
from tests.conftest import DemoDatabase as DemoDb

FORMATS = ["gpkg", "shp", "fgb", "parquet", "csv", "geojson"]


def db_courtyards(engine: Engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code, name, households, has_gatekeeper, ST_AsBinary(geom) g FROM courtyards"
            )
        ).all()
    return {
        r.code: (r.name, r.households, r.has_gatekeeper, shapely.from_wkb(bytes(r.g))) for r in rows
    }


def read_back(path: Path) -> gpd.GeoDataFrame:
    if path.suffix == ".parquet":
        return gpd.read_parquet(path)
    return gpd.read_file(path, engine="pyogrio")


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_reads_back_identical(engine: Engine, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"courtyards.{fmt}"
    collection = get_collection("courtyards", "planner")
    with make_sessionmaker(engine)() as session:
        n = export_to_file(
            session=session,
            collection=collection,
            q=ItemsQuery(),
            role="planner",
            fmt=file_format(fmt),
            path=path,
        )
    expected = db_courtyards(engine)
    assert n == len(expected)
    frame = read_back(path)
    assert len(frame) == len(expected)
    gate = "has_gateke" if fmt == "shp" else "has_gatekeeper"
    for row in frame.itertuples():
        name, households, has_gate, geom = expected[row.code]
        assert row.name == name  # Chinese names intact in every format
        assert int(row.households) == households
        assert str(getattr(row, gate)).lower() in (str(has_gate).lower(), str(int(has_gate)))
        got = shapely.from_wkt(row.WKT) if fmt == "csv" else row.geometry
        assert shapely.equals_exact(as_multi(got), as_multi(geom), 1e-9)


def as_multi(geom):
    parts = geom.geoms if hasattr(geom, "geoms") else [geom]
    return shapely.normalize(shapely.MultiPolygon(list(parts)))


def test_shapefile_declares_utf8(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "sp.shp"
    with make_sessionmaker(engine)() as session:
        export_to_file(
            session=session,
            collection=get_collection("service_points", "planner"),
            q=ItemsQuery(),
            role="planner",
            fmt=file_format("shp"),
            path=path,
        )
    assert path.with_suffix(".cpg").read_text().strip().upper() in ("UTF-8", "UTF8")
    names = set(gpd.read_file(path)["name"])
    assert any("社区" in n for n in names)


def test_http_downloads(client: TestClient, engine: Engine, tmp_path: Path) -> None:
    expected = len(db_courtyards(engine))
    for fmt, suffix in [
        ("gpkg", ".gpkg"),
        ("fgb", ".fgb"),
        ("csv", ".csv"),
        ("parquet", ".parquet"),
    ]:
        resp = client.get(f"/ogc/collections/courtyards/items?f={fmt}")
        assert resp.status_code == 200, resp.text
        assert "attachment" in resp.headers["content-disposition"]
        path = tmp_path / f"dl{suffix}"
        path.write_bytes(resp.content)
        assert len(read_back(path)) == expected
    zipped = client.get("/ogc/collections/courtyards/items?f=gpkg&limit=5&households=0")
    assert zipped.status_code == 200
    small = tmp_path / "small.gpkg"
    small.write_bytes(zipped.content)
    assert len(read_back(small)) <= 5


def test_http_download_respects_access(client: TestClient, test_db: DemoDb) -> None:
    assert client.get("/ogc/collections/cameras/items?f=gpkg").status_code == 404
    resp = client.get(
        "/ogc/collections/incidents/items?f=csv&limit=10", headers=test_db.headers("grid_worker")
    )
    assert resp.status_code == 200
    header = resp.content.decode("utf-8").splitlines()[0]
    assert "reporter_phone" not in header and "status" in header


def _inside(engine: Engine, n: int) -> list[tuple[float, float]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT ST_X(p) x, ST_Y(p) y FROM (SELECT ST_PointOnSurface(geom) "
                "p FROM communities ORDER BY id LIMIT :n) s"
            ),
            {"n": n},
        ).all()
    return [(r.x, r.y) for r in rows]


def test_import_append_gcj02(engine: Engine, tmp_path: Path) -> None:
    points = _inside(engine, 3)
    gcj = [from_wgs84(x, y, "gcj02") for x, y in points]
    frame = gpd.GeoDataFrame(
        {
            "code": [f"IMP-{i}" for i in range(3)],
            "kind": ["clinic"] * 3,
            "name": ["导入测试站一", "导入测试站二", "导入测试站三"],
        },
        geometry=[Point(float(x), float(y)) for x, y in gcj],
        crs=4326,
    )
    path = tmp_path / "new.gpkg"
    frame.to_file(path)
    with make_sessionmaker(engine)() as session:
        result = import_file(
            session=session, collection_id="service_points", path=path, mode="append", crs="gcj02"
        )
        session.commit()
    assert result.inserted == 3
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code, name, ST_X(geom) x, ST_Y(geom) y, community_id "
                "FROM service_points WHERE code LIKE 'IMP-%' ORDER BY code"
            )
        ).all()
    assert [r.name for r in rows] == ["导入测试站一", "导入测试站二", "导入测试站三"]
    for row, (x, y) in zip(rows, points, strict=True):
        assert abs(row.x - x) < 1e-8 and abs(row.y - y) < 1e-8  # iterative inverse: ~1 mm
        assert row.community_id is not None


def test_bad_rows_are_all_reported_and_nothing_written(engine: Engine, tmp_path: Path) -> None:
    ((x, y),) = _inside(engine, 1)
    with engine.connect() as conn:
        taken = conn.execute(text("SELECT code FROM service_points LIMIT 1")).scalar()
        before = conn.execute(text("SELECT count(*) FROM service_points")).scalar()
    frame = gpd.GeoDataFrame(
        {
            "code": ["OK-1", "BAD-OUT", "BAD-NONAME", taken, "OK-2", "BAD-KIND"],
            "kind": ["clinic", "clinic", "clinic", "clinic", "school", "casino"],
            "name": ["好", "外面", None, "重复", "好二", "赌场"],
        },
        geometry=[
            Point(x, y),
            Point(116.4, 39.9),
            Point(x, y),
            Point(x, y),
            Point(x, y),
            Point(x, y),
        ],
        crs=4326,
    )
    path = tmp_path / "bad.gpkg"
    frame.to_file(path)
    with make_sessionmaker(engine)() as session, pytest.raises(UnprocessableError) as err:
        import_file(session=session, collection_id="service_points", path=path, mode="append")
    rows = {r["row"]: {p["field"] for p in r["problems"]} for r in err.value.details["rows"]}
    assert rows == {2: {"geometry"}, 3: {"name"}, 4: {"code"}, 6: {"kind"}}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM service_points")).scalar() == before


def test_replace_syncs_by_code_and_keeps_ids(engine: Engine, tmp_path: Path) -> None:
    collection = get_collection("buildings", "planner")
    path = tmp_path / "b.fgb"
    with make_sessionmaker(engine)() as session:
        export_to_file(
            session=session,
            collection=collection,
            q=ItemsQuery(),
            role="planner",
            fmt=file_format("fgb"),
            path=path,
        )
    frame = gpd.read_file(path).sort_values("id")
    dropped, renamed = frame.iloc[0], frame.iloc[1]
    frame = frame.iloc[1:].copy()
    frame.loc[frame["code"] == renamed["code"], "name"] = "新名字"
    extra = frame.iloc[[0]].copy()
    extra["code"] = "B-NEW-0001"
    frame = gpd.GeoDataFrame(pd.concat([frame, extra], ignore_index=True), crs=4326)
    out = tmp_path / "b2.gpkg"
    frame.to_file(out)
    with make_sessionmaker(engine)() as session:
        result = import_file(session=session, collection_id="buildings", path=out, mode="replace")
        session.commit()
    assert (result.inserted, result.deleted) == (1, 1)
    assert result.updated == len(frame) - 1
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM buildings WHERE id = :i"), {"i": int(dropped["id"])}
            ).scalar()
            == 0
        )
        row = conn.execute(
            text("SELECT id, name FROM buildings WHERE code = :c"), {"c": renamed["code"]}
        ).one()
        assert (row.id, row.name) == (int(renamed["id"]), "新名字")
        audit = conn.execute(
            text(
                "SELECT data FROM audit_log WHERE action='import.replace' ORDER BY id DESC LIMIT 1"
            )
        ).scalar()
        assert audit["inserted"] == 1 and audit["deleted"] == 1


def test_gbk_shapefile_with_encoding_option(engine: Engine, tmp_path: Path) -> None:
    ((x, y),) = _inside(engine, 1)
    frame = gpd.GeoDataFrame(
        {"code": ["GBK-1"], "kind": ["police"], "name": ["派出所警务室"]},
        geometry=[Point(x, y)],
        crs=4326,
    )
    path = tmp_path / "gbk.shp"
    frame.to_file(path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    with make_sessionmaker(engine)() as session:
        import_file(
            session=session,
            collection_id="service_points",
            path=path,
            mode="append",
            encoding="GBK",
        )
        session.commit()
    with engine.connect() as conn:
        name = conn.execute(text("SELECT name FROM service_points WHERE code='GBK-1'")).scalar()
    assert name == "派出所警务室"


def test_cli_import_reports_bad_rows_and_exits_nonzero(
    test_db: DemoDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANGGE_DATABASE_URL", test_db.url)
    frame = gpd.GeoDataFrame(
        {"code": ["CLI-1"], "kind": ["clinic"], "name": ["x"]}, geometry=[Point(0, 0)], crs=4326
    )
    path = tmp_path / "cli.geojson"
    frame.to_file(path)
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        cli, ["import", "service_points", str(path), "--report", str(report)]
    )
    assert result.exit_code != 0
    assert "row 1: geometry is not inside the district" in result.output
    assert "CLI-1" not in report.read_text() and '"row": 1' in report.read_text()
    out = tmp_path / "sp.csv"
    ok = CliRunner().invoke(cli, ["export", "service_points", "-o", str(out), "--crs", "gcj02"])
    assert ok.exit_code == 0, ok.output
    assert out.read_text(encoding="utf-8").startswith("WKT,")


def test_shapefile_is_not_an_http_format(client: TestClient) -> None:
    # Shapefiles are CLI-only; the API offers the single-file formats.
    resp = client.get("/ogc/collections/streets/items?f=shp")
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_format"


def test_cli_export_shows_progress(
    test_db: DemoDb, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANGGE_DATABASE_URL", test_db.url)
    monkeypatch.setattr("layers.ogc.file_export.PROGRESS_EVERY", 500)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM buildings")).scalar_one()
    assert n > 1000
    out = tmp_path / "b.gpkg"
    result = CliRunner().invoke(cli, ["export", "buildings", "-o", str(out), "--crs", "gcj02"])
    assert result.exit_code == 0, result.output
    steps = [line for line in result.stderr.splitlines() if line]
    assert steps[0] == f"read 500/{n:,} buildings"
    assert f"read {n:,}/{n:,} buildings" in steps
    assert steps[-2:] == [
        f"shifting {n:,} geometries to gcj02",
        f"writing {n:,} features to b.gpkg",
    ]
    assert result.stdout.strip() == f"wrote {n:,} buildings features to {out}"


def _geojson(path: Path, x: float, y: float, name: str, crs: str | None = None) -> Path:
    doc: dict = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [x, y]},
                "properties": {"code": f"SP-GJ-{i}", "kind": "clinic", "name": n},
            }
            for i, n in enumerate(["好", name], start=1)
        ],
    }
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc), encoding="utf-8")  # json escapes NUL as \u0000
    return path


def _service_points(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM service_points")).scalar()


def test_a_nul_in_a_geojson_name_is_a_bad_row_not_cut(engine: Engine, tmp_path: Path) -> None:
    """GDAL cuts strings at a NUL: `卫生\\0站` was imported as `卫生`."""
    (x, y), before = _inside(engine, 1)[0], _service_points(engine)
    path = _geojson(tmp_path / "nul.geojson", x, y, "卫生\x00站")
    with make_sessionmaker(engine)() as session, pytest.raises(UnprocessableError) as err:
        import_file(session=session, collection_id="service_points", path=path, mode="append")
    assert [r["row"] for r in err.value.details["rows"]] == [2]
    assert _service_points(engine) == before


def test_an_unknown_geojson_crs_is_refused(engine: Engine, tmp_path: Path) -> None:
    """GDAL read `EPSG:99999` as WGS-84 and imported the points as if it were."""
    (x, y), before = _inside(engine, 1)[0], _service_points(engine)
    path = _geojson(tmp_path / "crs.geojson", x, y, "站", crs="urn:ogc:def:crs:EPSG::99999")
    with make_sessionmaker(engine)() as session, pytest.raises(InvalidInputError) as err:
        import_file(session=session, collection_id="service_points", path=path, mode="append")
    assert err.value.code == "unknown_crs"
    assert _service_points(engine) == before
    known = _geojson(tmp_path / "ok.geojson", x, y, "站", crs="urn:ogc:def:crs:OGC:1.3:CRS84")
    with make_sessionmaker(engine)() as session:
        result = import_file(session=session, collection_id="service_points", path=known)
    assert result.inserted == 2
