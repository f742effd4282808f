"""A valid reshaping for the tests: split a level-1 cell along its two level-2 cells."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from layers.tables.grid_cells import live
from tests.geo_api.planning_helpers import edited, feature


@dataclass(frozen=True)
class SplitCase:
    """A level-1 cell A with exactly two level-2 cells X and Y, and open cases in Y."""

    community: str
    a: str
    x: str
    y: str
    cases_in_y: list[int]


def find_split_case(engine: Engine, skip: tuple[str, ...] = ()) -> SplitCase:
    """The first level-1 cell with two level-2 cells, the second holding open grid cases."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT c.code AS community, a.code AS a, min(x.code) AS x, max(x.code) AS y "
                "FROM grid_cells a JOIN communities c ON c.id = a.community_id "
                f"JOIN grid_cells x ON x.parent_id = a.id AND {live('x')} "
                f"WHERE a.level = 1 AND {live('a')} AND NOT (c.code = ANY(:skip)) "
                "GROUP BY c.code, a.code, a.community_id HAVING count(*) = 2 AND (SELECT count(*) "
                "FROM grid_cells a2 WHERE a2.community_id = a.community_id AND a2.level = 1 "
                f"AND {live('a2')}) = 1 AND EXISTS (SELECT 1 FROM incidents i "
                "JOIN grid_cells y ON y.id = i.l2_cell_id WHERE y.code = max(x.code) "
                "AND i.handling_level = 'grid' AND i.status NOT IN ('void', 'closed', "
                "'evaluated')) ORDER BY c.code LIMIT 1"
            ),
            {"skip": list(skip)},
        ).one()
        cases = conn.execute(
            text(
                "SELECT i.id FROM incidents i JOIN grid_cells y ON y.id = i.l2_cell_id "
                "WHERE y.code = :y AND i.status NOT IN ('void', 'closed', 'evaluated') "
                "ORDER BY i.id"
            ),
            {"y": row.y},
        ).scalars()
        return SplitCase(row.community, row.a, row.x, row.y, list(cases))


def new_l1_code(case: SplitCase) -> str:
    """A level-1 code not used in the community (the highest sequence + 1)."""
    return f"{case.community}{int(case.a[-3:]) + 1:03d}"


def split(fc: dict[str, Any], case: SplitCase) -> dict[str, Any]:
    """A keeps its code on X's ground; Y's ground becomes a new level-1 cell B (recoded)."""
    out = edited(fc)
    b = new_l1_code(case)
    feature(out, case.a)["geometry"] = feature(out, case.x)["geometry"]
    y = feature(out, case.y)
    new_l1 = {
        "type": "Feature",
        "properties": {"code": b, "level": 1, "parent_code": case.community, "name": None},
        "geometry": y["geometry"],
    }
    for f in out["features"]:
        props = f["properties"]
        if props["code"].startswith(case.y):
            props["code"] = b + "001" + props["code"][len(case.y) :]
            props["parent_code"] = b if props["level"] == 2 else b + "001"
    out["features"].append(new_l1)
    return out
