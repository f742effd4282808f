"""Page builders without a database: escaping, local assets, compact encoding."""

from __future__ import annotations

import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from layers.core.case_states import OPEN_STATUSES
from layers.core.map_types import Outlines, WorkloadLayers
from maps import dispatch, escape, workload
from maps.assets import STATIC_DIR
from maps.base import PageOptions, legend_html, localize
from maps.compact import SCALE, encode, script_json
from tests.conftest import TEST_CLOCK

HOSTILE = "</script><script>alert(1)</script>`${alert(2)}`\\"


def test_text_escapes_html_and_template_literals() -> None:
    out = escape.text(HOSTILE)
    for live in ("<", ">", "`", "${", "\\"):
        assert live not in out
    assert escape.text(None) == ""


def test_script_json_cannot_close_the_script() -> None:
    assert "</script>" not in script_json({"a": HOSTILE}) and "<" not in script_json(HOSTILE)


def test_encode_round_trip() -> None:
    poly = shapely.Polygon([(104.1, 30.6), (104.11, 30.6), (104.11, 30.61), (104.1, 30.6)])
    origin, feats = encode([poly])
    ring = np.cumsum(np.array(feats[0][0][0]).reshape(-1, 2), axis=0) + origin
    assert np.allclose(ring / SCALE, np.asarray(poly.exterior.coords)[:-1], atol=1e-5)


def _outlines() -> Outlines:
    box = shapely.box(104.0, 30.6, 104.2, 30.8)
    gdf = gpd.GeoDataFrame({"code": ["510108001"], "name": [HOSTILE]}, geometry=[box], crs=4326)
    return Outlines(gdf, gdf.copy())


def test_workload_page_is_local_and_escaped() -> None:
    cells = gpd.GeoDataFrame(
        pd.DataFrame(
            {
                "code": ["510108001001001"],
                "name": [HOSTILE],
                "households": [300],
                "population": [800],
                "open_cases": [4],
                "overdue": [1],
                "workers": [1],
                "worker_names": [HOSTILE],
                "households_per_worker": [300.0],
            }
        ),
        geometry=[shapely.box(104.05, 30.65, 104.06, 30.66)],
        crs=4326,
    )
    layers = WorkloadLayers(_outlines(), {1: cells, 2: cells.iloc[:0], 3: cells}, TEST_CLOCK())
    html = workload.build_page(layers, PageOptions(static_url="/assets"))
    srcs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert srcs and all(s.startswith("/assets/") for s in srcs)
    assert "<script>alert(1)" not in html
    # raw text survives only as data in a JSON argument (inert; the JS sets it as textContent)
    outside_data = re.sub(r"wangge\.(?:compactLayer|areaLabels)\(.*?\);\n", "", html)
    assert "${alert(2)}" not in outside_data and "alert(1)</" not in outside_data


def test_gcj02_basemap_shifts_geometry() -> None:
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(104.1, 30.6)], crs=4326)
    from maps.base import for_display

    plain = for_display(gdf, PageOptions())
    shifted = for_display(
        gdf, PageOptions(tiles_url="http://tiles.local/{z}/{x}/{y}.png", tiles_crs="gcj02")
    )
    assert plain.geometry.x[0] == pytest.approx(104.1)
    assert 0.001 < shifted.geometry.x[0] - 104.1 < 0.01  # a few hundred metres east


def test_an_asset_without_a_local_copy_fails_the_render() -> None:
    m = folium.Map(tiles=None)
    folium.plugins.Fullscreen().add_to(m)
    with pytest.raises(ValueError, match="no local copy"):
        localize(m, "/static")


def test_dispatch_status_names_are_the_pages_names() -> None:
    """The dispatch map names statuses as case-status.js does, for every open status."""
    js = (STATIC_DIR / "wangge" / "case-status.js").read_text()
    names = dict(re.findall(r'(\w+): "([^"]+)"', js.split("wangge.statusName")[0]))
    assert set(dispatch.STATUS_LABELS) == set(OPEN_STATUSES) == set(dispatch.STATUS_COLORS)
    assert {s: names[s] for s in OPEN_STATUSES} == dispatch.STATUS_LABELS
    assert dispatch.WORKER_FILL not in dispatch.STATUS_COLORS.values()


def test_a_legend_names_its_layers_escaped() -> None:
    html = legend_html("t", [("#000", "x")], ["a <b>", "c"])
    assert 'data-layers="a &lt;b&gt;\nc"' in html
    assert "data-layers" not in legend_html("t", [("#000", "x")])
