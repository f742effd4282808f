"""Trends, camera coverage and batch locate of the tiny city on a 2-worker LocalCluster.

Each gives the in-process answer.

Trends: the same cells, counts, Gi bins per month and outcome class; trend z
to 1e-9.  Coverage: every camera's sector and visible ground identical (WKB)
with cameras cut into 500 m tiles, so many views cross a tile's edge — and
without the halo of buildings beyond the edge some views come out wrong,
which is what the halo is for.  The CLI's Dask run writes what the maps read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from sqlalchemy import text
from typer.testing import CliRunner

from geo_api.cli import app as cli
from layers.analytics.batch_trends import in_process_trends
from layers.analytics.case_parquet import export_cases
from layers.analytics.coverage import load_cameras, load_obstacles
from layers.analytics.dask_coverage import dask_visibility
from layers.analytics.dask_scheduler import dask_client
from layers.analytics.dask_trends import dask_trend_table
from layers.analytics.hotspots import study_cells
from layers.analytics.trends import TrendQuery
from layers.analytics.visibility import visibility_polygons
from layers.core.constants import UTM48N
from layers.store.db import make_engine, make_sessionmaker
from tests.city import City

QUERY = TrendQuery(resolution=7, interval="month", fdr=False)
"""Coarse cells, no FDR: a tiny city's year of months holds significant cells so."""


@pytest.fixture(scope="module")
def city_engine(tiny_city: City) -> Iterator[Any]:
    eng = make_engine(tiny_city.url, pool_size=1)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def local2() -> Iterator[Any]:
    """One LocalCluster of two worker processes for the module."""
    with dask_client("local:2") as client:
        yield client


def test_trends_on_dask_are_the_in_process_trends(city_engine, local2, tmp_path: Path) -> None:
    with make_sessionmaker(city_engine)() as session:
        here, edges, cases = in_process_trends(session=session, query=QUERY)
        files = list(export_cases(session=session, root=tmp_path).files)
        area = study_cells(session=session, resolution=QUERY.resolution)
    there, dask_edges = dask_trend_table(files, area, QUERY)
    assert len({f.parent.name for f in files}) == 2  # a partition per district
    assert cases > 1000 and len(edges) - 1 >= 12 and list(dask_edges) == list(edges)
    assert there["cell"].tolist() == here["cell"].tolist()
    assert there["count"].tolist() == here["count"].tolist()
    assert there["bins"].tolist() == here["bins"].tolist()
    assert there["category"].tolist() == here["category"].tolist()
    np.testing.assert_allclose(there["trend_z"], here["trend_z"], atol=1e-9)
    assert (np.array(here["bins"].tolist()) != 0).sum() > 10  # something to agree on
    assert (here["category"] != "no pattern detected").sum() >= 3


def test_coverage_on_dask_is_the_in_process_coverage(city_engine, local2) -> None:
    with make_sessionmaker(city_engine)() as session:
        cams = load_cameras(session=session, srid=UTM48N).optics
        obstacles = load_obstacles(session=session, srid=UTM48N)
    sectors, visible = visibility_polygons(cams, obstacles)
    d_sectors, d_visible = dask_visibility(cams, obstacles, tile_m=500.0)
    assert len(visible) > 300
    assert shapely.to_wkb(d_sectors).tolist() == shapely.to_wkb(sectors).tolist()
    assert shapely.to_wkb(d_visible).tolist() == shapely.to_wkb(visible).tolist()
    _, no_halo = dask_visibility(cams, obstacles, tile_m=500.0, halo=False)
    wrong = ~shapely.equals(no_halo, visible)
    assert wrong.sum() > 0  # without the halo, views near tile edges see through buildings


def test_cli_runs_coverage_on_the_cluster_and_stores_the_views(
    tiny_city: City, city_engine, local2
) -> None:
    address = local2.scheduler.address
    result = CliRunner().invoke(
        cli,
        ["analytics", "run", "coverage"],
        env={
            "WANGGE_DATABASE_URL": tiny_city.url,
            "WANGGE_DASK_SCHEDULER": address,
            "WANGGE_DASK_PROGRESS": "0",
        },
    )
    assert result.exit_code == 0, result.output
    assert f"on Dask scheduler at {address}" in result.output
    with city_engine.connect() as conn:
        views, cameras = conn.execute(
            text("SELECT (SELECT count(*) FROM camera_views), (SELECT count(*) FROM cameras)")
        ).one()
        cached = conn.execute(
            text("SELECT count(*) FROM derived_cache WHERE kind = 'camera_views'")
        ).scalar()
    assert views == cameras > 300 and cached == 1


def _chains_equal(here, there) -> None:
    assert there.method.tolist() == here.method.tolist()
    np.testing.assert_array_equal(there.distance_m, here.distance_m)  # NaN where not nearest
    assert there.revision_id.tolist() == here.revision_id.tolist()
    for layer in ("l3", "l2", "l1", "community", "street"):
        assert there.ids(layer).tolist() == here.ids(layer).tolist(), layer


def _points(session, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points over the city's box and a margin: covered, near, fallback and outside ones."""
    minx, miny, maxx, maxy = session.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
            " FROM (SELECT ST_Extent(geom) AS e FROM districts) AS s"
        )
    ).one()
    rng = np.random.default_rng(16)
    return rng.uniform(minx - 0.01, maxx + 0.01, n), rng.uniform(miny - 0.01, maxy + 0.01, n)


def test_batch_locate_on_dask_gives_the_in_process_chains(city_engine, local2, monkeypatch) -> None:
    from grids.grid import locate
    from grids.grid.dask_locate import locate_on_cluster

    with make_sessionmaker(city_engine)() as session:
        snapshot = locate.snapshot_for(session=session)
        xs, ys = _points(session, 6_000)
        here = snapshot.locate(xs, ys, tolerance_m=30.0)
        # chunks of 200 and 1,000: below and above the raster's threshold, on both workers
        for chunk in (200, 1_000):
            _chains_equal(here, locate_on_cluster(snapshot, xs, ys, tolerance_m=30.0, chunk=chunk))
        assert len(set(here.method.tolist())) >= 3  # covers, outside and a fallback at least
        # historic cases: `point_to_cells` with a scheduler, each grid of its day on the workers
        when = np.datetime64("2026-06-01") + np.arange(len(xs)) % 300 * np.timedelta64(1, "D")
        in_process = locate.point_to_cells(xs, ys, session=session, at=when, tolerance_m=30.0)
        monkeypatch.setattr(locate, "DASK_MIN_POINTS", 1)
        address = local2.scheduler.address
        on_dask = locate.point_to_cells(
            xs, ys, session=session, at=when, tolerance_m=30.0, scheduler=address
        )
    _chains_equal(in_process, on_dask)
