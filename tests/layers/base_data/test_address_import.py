"""`wangge base import SOURCE FILE --class addresses`: GeoPackage, Shapefile, CSV with points.

Through the CLI against the real database: a file with bad rows writes nothing
and names each row's reason; a good GeoPackage creates the new standard
addresses (linked to the covering building), merges the known one, and the
geocode finds them; the same file again imports nothing new.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geo_api.cli import app as cli
from tests.conftest import DemoDatabase


@pytest.fixture(scope="module")
def places(engine: Engine) -> dict:
    """A road, a point inside a building of it, a known address and a point outside the district."""
    with engine.connect() as c:
        known = c.execute(
            text(
                "SELECT a.road, a.full_text, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat FROM addresses a"
                " WHERE a.road NOT LIKE '%一%' ORDER BY a.id LIMIT 1"
            )
        ).one()
        inside = c.execute(
            text(
                "SELECT b.id, ST_X(p) AS lon, ST_Y(p) AS lat FROM buildings b,"
                " ST_PointOnSurface(b.geom) p ORDER BY b.id LIMIT 1"
            )
        ).one()
    return {"known": known, "inside": inside}


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as c:
        return int(c.execute(text(sql)).scalar_one())


def _run(test_db: DemoDatabase, path: Path):
    args = ["base", "import", "civil_affairs", str(path), "--class", "addresses"]
    return CliRunner().invoke(cli, args, env={"WANGGE_DATABASE_URL": test_db.url})


def test_a_csv_with_bad_rows_writes_nothing(engine, test_db, places, tmp_path: Path) -> None:
    road, b = places["known"].road, places["inside"]
    rows = [
        ["地址", "经度", "纬度"],
        [f"{road}９８７号", str(b.lon), str(b.lat)],
        ["没有门牌的地方", str(b.lon), str(b.lat)],
        [f"{road}988号", "", ""],
        [f"{road}989号", "104.0", "abc"],
        [f"{road}990号", "116.39", "39.90"],
        [f"{road}987号", str(b.lon), str(b.lat)],
    ]
    path = tmp_path / "addresses.csv"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path.write_bytes(out.getvalue().encode("gb18030"))
    before = _count(engine, "SELECT count(*) FROM addresses")
    failed = _run(test_db, path)
    assert failed.exit_code == 2, failed.output
    rejects = list(
        csv.reader(io.StringIO((tmp_path / "addresses.csv.rejects.csv").read_text("utf-8-sig")))
    )
    assert [r[:2] for r in rejects[1:]] == [
        ["3", "unparseable_address"],
        ["4", "missing_field"],
        ["5", "bad_point"],
        ["6", "outside_district"],
        ["7", "duplicate_in_file"],
    ]
    assert _count(engine, "SELECT count(*) FROM addresses") == before
    assert _count(engine, "SELECT count(*) FROM base_imports WHERE base_class = 'addresses'") == 0
    garbage = tmp_path / "broken.gpkg"
    garbage.write_bytes(b"not a geopackage")
    broken = _run(test_db, garbage)
    assert broken.exit_code == 1 and "GDAL cannot read the file (bad_file)" in broken.output


def test_geopackage_and_shapefile_import_and_geocode(
    engine, test_db, places, tmp_path: Path, client: TestClient
) -> None:
    road, b, known = places["known"].road, places["inside"], places["known"]
    frame = gpd.GeoDataFrame(
        {
            "街路巷": [road, road, None],
            "门牌号": [991, 992, None],
            "栋": [2, None, None],
            "地址": [None, None, known.full_text],
        },
        geometry=[Point(b.lon, b.lat), Point(b.lon + 0.0001, b.lat), Point(known.lon, known.lat)],
        crs=4326,
    ).to_crs(32648)  # a department's metric CRS: read back into WGS 84
    gpkg = tmp_path / "民政地址.gpkg"
    frame.to_file(gpkg, driver="GPKG")
    before = _count(engine, "SELECT count(*) FROM addresses")
    done = _run(test_db, gpkg)
    assert done.exit_code == 0, done.output
    assert "2 created, 1 merged, 0 rejected" in done.output and "rows/s" in done.output
    assert _count(engine, "SELECT count(*) FROM addresses") == before + 2
    with engine.connect() as c:
        new = c.execute(
            text(
                "SELECT id, building_id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) AS d FROM addresses WHERE full_text = :t"
            ),
            {"t": f"{road}991号2栋", "x": b.lon, "y": b.lat},
        ).one()
    assert new.building_id == b.id and new.d < 0.01
    assert _count(engine, "SELECT count(*) FROM base_provenance WHERE entity = 'addresses'") == 3
    hit = client.get("/geocode", params={"q": f"{road}991號二幢"}).json()["results"][0]
    assert hit["address_id"] == new.id and hit["method"] in ("exact", "component")
    again = _run(test_db, gpkg)
    assert again.exit_code == 0 and "nothing new" in again.output
    assert _count(engine, "SELECT count(*) FROM addresses") == before + 2
    shp = tmp_path / "plates.shp"
    gpd.GeoDataFrame(
        {"road": [road], "number": [993]}, geometry=[Point(b.lon, b.lat)], crs=4326
    ).to_file(shp)
    assert "1 created" in _run(test_db, shp).output
    assert _count(engine, f"SELECT count(*) FROM addresses WHERE full_text = '{road}993号'") == 1
