"""`wangge planning export|import`: a draft through a GeoPackage and back."""

from __future__ import annotations

import geopandas as gpd
import pytest
from typer.testing import CliRunner

from geo_api.cli import app as cli
from layers.core.errors import InvalidInputError
from tests.geo_api.planning_helpers import draft_cells, new_draft


@pytest.fixture(scope="module")
def planner(test_db) -> dict[str, str]:
    return test_db.headers("planner")


def _run(test_db, *args: str):
    env = {"WANGGE_DATABASE_URL": test_db.url}
    return CliRunner().invoke(cli, ["planning", *args], env=env)


def test_export_edit_import_round_trip(client, planner, test_db, tmp_path) -> None:
    rid = new_draft(client, planner)
    before = draft_cells(client, planner, rid)
    path = tmp_path / "draft.gpkg"
    result = _run(test_db, "export", str(rid), str(path))
    assert result.exit_code == 0, result.output
    frame = gpd.read_file(path, layer="draft_cells")
    assert len(frame) == len(before["features"])
    assert frame.crs.to_epsg() == 4326
    # an edit in "QGIS": drop one level-3 cell, reproject the file to CGCS2000
    dropped = frame[frame["level"] == 3].iloc[0]["code"]
    frame[frame["code"] != dropped].to_crs(4490).to_file(path, layer="draft_cells")
    result = _run(test_db, "import", str(rid), str(path))
    assert result.exit_code == 0, result.output
    after = draft_cells(client, planner, rid)
    assert len(after["features"]) == len(before["features"]) - 1
    assert dropped not in {f["properties"]["code"] for f in after["features"]}
    report = client.post(f"/planning/revisions/{rid}/validate", headers=planner).json()
    assert report["counts"].get("gap") == 1


def test_a_bad_file_changes_nothing(client, planner, test_db, tmp_path) -> None:
    rid = new_draft(client, planner)
    before = draft_cells(client, planner, rid)
    path = tmp_path / "bad.gpkg"
    gpd.GeoDataFrame(
        {"name": ["x"]}, geometry=gpd.points_from_xy([104.1], [30.7]), crs=4326
    ).to_file(path, layer="draft_cells")
    result = _run(test_db, "import", str(rid), str(path))
    assert result.exit_code != 0
    assert isinstance(result.exception, InvalidInputError)
    assert "code" in result.exception.message
    assert draft_cells(client, planner, rid) == before
