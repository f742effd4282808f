"""Why a courtyard's area is a gap: a partly seen courtyard is not "no camera"."""

from __future__ import annotations

import pandas as pd
import shapely

from layers.analytics.coverage_report import evaluate_courtyards


def test_courtyard_area_reasons() -> None:
    seen_a_little = shapely.box(0, 0, 100, 100)
    unseen = shapely.box(500, 0, 600, 100)
    well_seen = shapely.box(1000, 0, 1010, 10)
    yards = pd.DataFrame({"id": [1, 2, 3], "geometry": [seen_a_little, unseen, well_seen]})
    view_a = shapely.box(0, 0, 10, 10)  # 1 % of courtyard 1
    view_c = shapely.box(1000, 0, 1010, 10)  # all of courtyard 3
    views = pd.DataFrame(
        {
            "id": [1, 2],
            "online": [True, True],
            "visible": [view_a, view_c],
            "sector": [view_a, view_c],
        }
    )
    points = pd.DataFrame({"kind": [], "courtyard_id": [], "covered": []})
    out = evaluate_courtyards(yards, views, points, threshold=0.3).set_index("id")
    assert out.loc[1, "reason"] == "too_little_seen"
    assert abs(out.loc[1, "covered_share"] - 0.01) < 1e-9
    assert out.loc[2, "reason"] == "no_camera"
    assert bool(out.loc[3, "covered"]) and pd.isna(out.loc[3, "reason"])
