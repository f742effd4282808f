"""The live grid of a draft's scope, for the editor's side-by-side comparison.

The draft holds its own copy of the cells; what it is compared with is what the
service locates against now: the live cells of the same communities, with the
households and population stored on them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.planning.drafts import scope_community_ids
from layers.tables.grid_cells import GridRevision, live

_LIVE = text(
    "SELECT g.code, g.level, g.households, g.population, ST_AsGeoJSON(g.geom, 7)::json AS geometry"  # noqa: S608 - the live-grid condition
    f" FROM grid_cells g WHERE {live('g')} AND g.community_id = ANY(:c) ORDER BY g.level, g.code"
)


def live_cells(*, session: Session, revision: GridRevision) -> dict[str, Any]:
    """The scope's live cells as GeoJSON (code, level, households, population)."""
    ids = scope_community_ids(session=session, scope=revision.scope, code=revision.scope_code or "")
    rows = session.execute(_LIVE, {"c": ids}).mappings()
    features = [
        {
            "type": "Feature",
            "properties": {k: r[k] for k in ("code", "level", "households", "population")},
            "geometry": r["geometry"],
        }
        for r in rows
    ]
    return {"type": "FeatureCollection", "features": features}
