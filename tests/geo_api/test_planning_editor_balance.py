"""The editor's balance figures against a hand calculation: one rule for target and deviation.

Target = the draft's level-1 households / its worker slots (an unstaffed level-1
cell is one slot); deviation = (households per slot - target) / target; over and
under count the level-1 cells beyond ± the tolerance; levels 2 and 3 have none.
"""

from __future__ import annotations

import pytest
from shapely.geometry import LineString, mapping, shape
from sqlalchemy import text

from tests.geo_api.planning_helpers import new_draft


@pytest.fixture(scope="module")
def planner(test_db) -> dict[str, str]:
    return test_db.headers("planner")


@pytest.fixture(scope="module")
def street(engine) -> str:
    """The street with the most level-1 cells (a spread of deviations)."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT left(code, 9) FROM grid_cells WHERE valid_to IS NULL AND level = 1 "
                "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
            )
        ).scalar_one()


def _by_hand(engine, rid: int, tolerance: float):
    """Per level-1 code: (households, workers), the target, each deviation, over, under."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT d.code, d.households, (SELECT count(*) FROM workers w "
                "WHERE w.cell_code = d.code) AS n FROM grid_draft_cells d "
                "WHERE d.revision_id = :r AND d.level = 1"
            ),
            {"r": rid},
        ).all()
    target = sum(r.households for r in rows) / sum(max(r.n, 1) for r in rows)
    dev = {r.code: (r.households / max(r.n, 1) - target) / target for r in rows}
    over = sum(1 for d in dev.values() if d > tolerance)
    under = sum(1 for d in dev.values() if d < -tolerance)
    return target, dev, over, under


def test_figures_deviation_is_relative_to_the_target_everywhere(client, planner, engine, street):
    rid = new_draft(client, planner, street=street)
    resp = client.get(f"/planning/revisions/{rid}/figures?tolerance=0.1", headers=planner)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    target, dev, over, under = _by_hand(engine, rid, 0.1)
    draft = body["draft"]
    assert draft["target_households_per_worker"] == pytest.approx(target, abs=0.01)
    assert (draft["over"], draft["under"]) == (over, under)
    assert over + under > 0, "the street should have cells off target at ±10 %"
    seen = 0
    for f in body["cells"]["features"]:
        p = f["properties"]
        if p["level"] != 1:
            assert p["deviation"] is None and p["status"] is None
            continue
        seen += 1
        assert p["deviation"] == pytest.approx(dev[p["code"]], abs=2e-3)
        per = p["households"] / max(p["workers"], 1)
        assert p["households_per_worker"] == pytest.approx(per, abs=0.05)
        assert p["deviation"] == pytest.approx((per - target) / target, abs=2e-3)
        want = "over" if dev[p["code"]] > 0.1 else "under" if dev[p["code"]] < -0.1 else "on_target"
        assert p["status"] == want
    assert seen == len(dev)
    # An edit's answer uses the same rule: split a cell (the new piece has no worker: one slot).
    big = max(
        (f for f in body["cells"]["features"] if f["properties"]["level"] == 1),
        key=lambda f: f["properties"]["households"],
    )
    minx, miny, maxx, maxy = shape(big["geometry"]).bounds
    mid = (miny + maxy) / 2
    line = mapping(LineString([(minx - 1e-3, mid), (maxx + 1e-3, mid)]))
    cut = client.post(
        f"/planning/revisions/{rid}/edits/split",
        json={"cell": big["properties"]["code"], "line": line},
        headers={**planner, "If-Match": body["etag"]},
    )
    assert cut.status_code == 200, cut.text
    res = cut.json()
    target, dev, over, under = _by_hand(engine, rid, 0.15)
    assert len(dev) == seen + 1
    assert res["draft"]["target_households_per_worker"] == pytest.approx(target, abs=0.01)
    assert (res["draft"]["over"], res["draft"]["under"]) == (over, under)
    level1 = [f["properties"] for f in res["cells"]["features"] if f["properties"]["level"] == 1]
    assert len(level1) == 2
    for p in level1:
        assert p["deviation"] == pytest.approx(dev[p["code"]], abs=2e-3)
