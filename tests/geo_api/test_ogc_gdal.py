"""A real OGC API client: GDAL's OAPIF driver (ogrinfo/ogr2ogr) against a real running server."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import Engine, text

from layers.tables.grid_cells import LIVE
from tests.conftest import DemoDatabase as DemoDb
from tests.live_server import wait_healthy

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin missing")

PUBLIC = {
    "streets": "SELECT count(*) FROM streets",
    "communities": "SELECT count(*) FROM communities",
    "grid_cells_l1": f"SELECT count(*) FROM grid_cells WHERE level=1 AND {LIVE}",
    "grid_cells_l2": f"SELECT count(*) FROM grid_cells WHERE level=2 AND {LIVE}",
    "grid_cells_l3": f"SELECT count(*) FROM grid_cells WHERE level=3 AND {LIVE}",
    "courtyards": "SELECT count(*) FROM courtyards",
    "buildings": "SELECT count(*) FROM buildings",
    "service_points": "SELECT count(*) FROM service_points",
    "addresses": "SELECT count(*) FROM addresses",
    "units": "SELECT count(*) FROM units",
}
"""Public collections in the order the service lists them (the base data's last)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(test_db: DemoDb) -> Iterator[str]:
    """uvicorn serving this module's database on a free port."""
    port = free_port()
    env = {**os.environ, "WANGGE_DATABASE_URL": test_db.url}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "geo_api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_healthy(base, proc)
        except RuntimeError as exc:
            err = proc.stderr.read().decode() if proc.stderr and proc.poll() is not None else ""
            raise RuntimeError(f"{exc}\n{err}") from exc
        yield f"{base}/ogc"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def gdal(*args: str, headers: str | None = None) -> str:
    cmd = [args[0]]
    if headers:
        cmd += ["--config", "GDAL_HTTP_HEADERS", headers]
    cmd += list(args[1:])
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def layer_names(listing: str) -> list[str]:
    return re.findall(r"^\d+: (\w+)", listing, flags=re.MULTILINE)


def feature_count(listing: str) -> int:
    return int(re.search(r"Feature Count: (\d+)", listing).group(1))


def db_count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar())


def test_anonymous_gdal_lists_public_collections_only(server: str) -> None:
    names = layer_names(gdal("ogrinfo", "-ro", f"OAPIF:{server}"))
    assert names == list(PUBLIC)
    assert "cameras" not in names


def test_staff_key_shows_cameras_to_gdal(server: str, test_db: DemoDb) -> None:
    auth = f"Authorization: Bearer {test_db.keys['planner']}"
    names = layer_names(gdal("ogrinfo", "-ro", f"OAPIF:{server}", headers=auth))
    assert names[-4:] == ["cameras", "incidents", "addresses", "units"]


@pytest.mark.parametrize("collection", list(PUBLIC))
def test_gdal_feature_counts_match_database(server: str, engine: Engine, collection: str) -> None:
    listing = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server}", collection)
    assert feature_count(listing) == db_count(engine, PUBLIC[collection])


def test_ogr2ogr_pages_a_whole_collection_into_geopackage(
    server: str, engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "l3.gpkg"
    gdal(
        "ogr2ogr",
        "-f",
        "GPKG",
        str(out),
        f"OAPIF:{server}",
        "grid_cells_l3",
        "-oo",
        "PAGE_SIZE=100",
    )
    frame = gpd.read_file(out)
    with engine.connect() as conn:
        codes = set(
            conn.execute(text(f"SELECT code FROM grid_cells WHERE level=3 AND {LIVE}")).scalars()
        )
    assert len(frame) == len(codes)
    assert set(frame["code"]) == codes
    assert frame.geometry.is_valid.all()


def test_ogr2ogr_default_page_size_keeps_chinese_names(
    server: str, engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "communities.gpkg"
    gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{server}", "communities")
    with engine.connect() as conn:
        names = set(conn.execute(text("SELECT name FROM communities")).scalars())
    assert set(gpd.read_file(out)["name"]) == names


def test_gdal_pushes_attribute_filter_to_the_server(server: str, engine: Engine) -> None:
    listing = gdal(
        "ogrinfo",
        "-ro",
        "-so",
        "--debug",
        "on",
        f"OAPIF:{server}",
        "service_points",
        "-where",
        "kind = 'clinic'",
    )
    assert "filter=" in listing  # pushed down as CQL text, not filtered locally
    assert feature_count(listing) == db_count(
        engine, "SELECT count(*) FROM service_points WHERE kind = 'clinic'"
    )


def test_gdal_spatial_filter_matches_postgis(server: str, engine: Engine) -> None:
    box = (104.10, 30.64, 104.14, 30.68)
    listing = gdal(
        "ogrinfo", "-ro", "-so", f"OAPIF:{server}", "grid_cells_l3", "-spat", *map(str, box)
    )
    expected = db_count(
        engine,
        f"SELECT count(*) FROM grid_cells WHERE level=3 AND {LIVE} AND "
        f"ST_Intersects(geom, ST_MakeEnvelope({box[0]}, {box[1]}, {box[2]}, {box[3]}, 4326))",
    )
    assert feature_count(listing) == expected > 0
