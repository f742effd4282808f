"""Hotspots on a 2-worker Dask LocalCluster give the in-process answer, and need their halo.

The cases of the test district go out as GeoParquet (a file per month and
district), the workers count and analyse them, and the table is compared with
the in-process `hotspot_table`: the same cells and counts, z-scores to 1e-9,
identical classes.  Without the halo rows the cells on partition edges come out
differently, which is what the halo is for.  The CLI's run is then what
`GET /analytics/hotspots?permutations=0` answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from geo_api.cli import app as cli
from layers.analytics.case_parquet import export_cases
from layers.analytics.dask_hotspots import dask_hotspot_table
from layers.analytics.dask_scheduler import dask_client, describe
from layers.analytics.gi_partitioned import partition_of
from layers.analytics.hotspots import aggregate, case_points, hotspot_table, study_cells
from layers.analytics.spatial_stats import gi_star, h3_graph
from layers.core.errors import InvalidInputError
from layers.core.map_types import HotspotQuery
from layers.store.db import make_sessionmaker

QUERY = HotspotQuery(resolution=9, permutations=0)


@pytest.fixture(scope="module")
def exported(engine, tmp_path_factory) -> tuple[list[Path], list[str], int]:
    """The test district's cases as GeoParquet; the study area's cells; the case count."""
    root = tmp_path_factory.mktemp("parquet")
    with make_sessionmaker(engine)() as session:
        export = export_cases(session=session, root=root)
        area = study_cells(session=session, resolution=QUERY.resolution)
        total = session.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    return list(export.files), area, total


@pytest.fixture(scope="module")
def in_process(engine, exported) -> tuple[pd.DataFrame, np.ndarray]:
    """The in-process table and its unrounded z-scores."""
    _, area, _ = exported
    with make_sessionmaker(engine)() as session:
        lon, lat, _ = case_points(session=session, filters=QUERY.filters)
    cells, counts, _ = aggregate(lon, lat, QUERY.resolution, area)
    return hotspot_table(counts, cells, QUERY), gi_star(counts, h3_graph(cells)).z


def test_export_writes_every_case_once_by_month_and_district(exported) -> None:
    """One file per month and district, no personal column, every case exactly once."""
    files, _, total = exported
    assert len(files) >= 10 and all("month=" in str(f) and "district=" in str(f) for f in files)
    frames = [pd.read_parquet(f) for f in files]
    ids = pd.concat([f["id"] for f in frames])
    assert len(ids) == total == ids.nunique()
    assert set(frames[0].columns) == {
        "id",
        "created_at",
        "category_code",
        "channel_code",
        "status",
        "geometry",
    }


@pytest.fixture(scope="module")
def local2() -> Iterator[Any]:
    """A LocalCluster of two worker processes, shared by the tests that need workers."""
    with dask_client("local:2") as client:
        yield client


def test_local_cluster_gives_the_in_process_answer(exported, in_process, local2) -> None:
    """Same cells, counts and classes; z to 1e-9 — on two worker processes."""
    files, area, _ = exported
    expected, z = in_process
    assert len(local2.scheduler_info()["workers"]) == 2
    table = dask_hotspot_table(files, area, QUERY)
    assert table["cell"].tolist() == expected["cell"].tolist()
    assert (table["count"].to_numpy() == expected["count"].to_numpy()).all()
    assert expected["count"].sum() > 1000
    np.testing.assert_allclose(table["z_exact"], z, rtol=0, atol=1e-9, equal_nan=True)
    assert table["class"].tolist() == expected["class"].tolist()
    assert (expected["gi_bin"] > 0).sum() > 0  # there is something to agree on


def test_without_the_halo_partition_edges_go_wrong(exported, in_process) -> None:
    """Leave the halo out and cells whose neighbours sit in another partition change."""
    files, area, _ = exported
    expected, z = in_process
    with dask.config.set(scheduler="synchronous"):
        table = dask_hotspot_table(files, area, QUERY, halo=False)
    cells = np.array([int(c, 16) for c in expected["cell"]], dtype=np.uint64)
    assert len(set(partition_of(cells, QUERY.resolution).tolist())) > 1
    wrong = np.abs(np.nan_to_num(table["z_exact"].to_numpy()) - np.nan_to_num(z)) > 1e-6
    assert wrong.sum() > 0


def test_cli_run_is_what_the_api_answers(test_db, client, in_process, local2, tmp_path) -> None:
    """`wangge analytics run hotspots` on a scheduler's address stores what the API reads."""
    address = local2.scheduler.address
    result = CliRunner().invoke(
        cli,
        ["analytics", "run", "hotspots", "--export-dir", str(tmp_path)],
        env={"WANGGE_DATABASE_URL": test_db.url, "WANGGE_DASK_SCHEDULER": address},
    )
    assert result.exit_code == 0, result.output
    assert f"on Dask scheduler at {address}" in result.output
    assert any(tmp_path.glob("incidents/month=*/district=*/part-0.parquet"))
    answer = client.get(
        "/analytics/hotspots", params={"permutations": 0}, headers=test_db.headers("dispatcher")
    )
    assert answer.status_code == 200
    got = {f["properties"]["cell"]: f["properties"]["class"] for f in answer.json()["features"]}
    expected, _ = in_process
    assert got == dict(zip(expected["cell"], expected["class"], strict=True))


def test_bad_scheduler_names_are_refused() -> None:
    """A malformed WANGGE_DASK_SCHEDULER is a clear error, not a hang."""
    assert describe(None) == "in-process"
    for bad in ("local:0", "local:x", "somewhere"):
        with pytest.raises(InvalidInputError):
            describe(bad)


def test_city_flag_refuses_a_single_district_and_writes_nothing(test_db, engine, tmp_path) -> None:
    """`--city` on a one-district database is an error (exit 2), not a quiet district run."""
    with engine.connect() as c:
        before = c.execute(text("SELECT count(*) FROM derived_cache")).scalar_one()
    result = CliRunner().invoke(
        cli,
        ["analytics", "run", "hotspots", "--city", "--export-dir", str(tmp_path)],
        env={"WANGGE_DATABASE_URL": test_db.url, "WANGGE_DASK_SCHEDULER": "none"},
    )
    assert result.exit_code == 2, result.output
    assert "1 district loaded" in result.output and "only one district" in result.output
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM derived_cache")).scalar_one() == before
    assert not any(tmp_path.iterdir())
