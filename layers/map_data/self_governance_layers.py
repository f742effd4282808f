"""The data behind the self-governance map: who is on duty where, where organisations are thin.

Courtyards carry their week's coverage (hours someone is on duty, overlaps once,
from `courtyard_shifts.coverage`) and their management flags; communities and
streets carry social organisations per 10,000 residents.  No personal data: counts only.
"""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core import constants
from layers.core.map_types import SelfGovernanceLayers
from layers.map_data.map_layers import outlines
from layers.tables.courtyard_shifts import coverage
from layers.tables.social_organisations import NATIONAL_AVERAGE, density

WGS84 = f"EPSG:{constants.WGS84}"


def _geoms(session: Session, table: str) -> dict[str, bytes]:
    """WKB of every row of `table` (courtyards or communities) by code."""
    rows = session.execute(
        text(f"SELECT code, ST_AsBinary(geom) AS wkb FROM {table}")  # noqa: S608 - two constants
    )
    return {r.code: bytes(r.wkb) for r in rows}


def _frame(rows: list[dict], wkb: dict[str, bytes]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows)
    if frame.empty:
        return gpd.GeoDataFrame(frame, geometry=[], crs=WGS84)
    geoms = shapely.from_wkb([wkb[c] for c in frame["code"]])
    return gpd.GeoDataFrame(frame, geometry=list(geoms), crs=WGS84)


def _density_rows(session: Session, level: str) -> list[dict]:
    """Organisations per 10,000 residents of every community or street, as plain rows."""
    return [
        {
            "code": a.code,
            "name": a.name,
            "residents": a.residents,
            "organisations": a.organisations,
            "per_10k": a.per_10k,
            "below_average": a.below_average,
        }
        for a in density(session=session, level=level)
    ]


def self_governance_layers(
    *, session: Session, start: datetime, end: datetime, now: datetime
) -> SelfGovernanceLayers:
    """Coverage of ``[start, end)`` per courtyard; organisation density per community, street."""
    week_hours = (end - start).total_seconds() / 3600
    yards = [
        {
            "code": c.code,
            "name": c.name,
            "is_three_nos": c.is_three_nos,
            "hours_covered": c.hours_covered,
            "share": round(c.hours_covered / week_hours, 4) if week_hours else 0.0,
            "shifts": c.shifts,
            "people": c.people,
            "on_duty_now": c.on_duty_now,
        }
        for c in coverage(session=session, start=start, end=end, now=now)
    ]
    areas = {level: _density_rows(session, level) for level in ("community", "street")}
    figures = {
        "courtyards": len(yards),
        "three_nos": sum(1 for y in yards if y["is_three_nos"]),
        "three_nos_uncovered": sum(
            1 for y in yards if y["is_three_nos"] and y["hours_covered"] == 0
        ),
        "communities_below_average": sum(1 for a in areas["community"] if a["below_average"]),
        "streets_below_average": sum(1 for a in areas["street"] if a["below_average"]),
    }
    return SelfGovernanceLayers(
        outlines(session=session),
        _frame(yards, _geoms(session, "courtyards")),
        _frame(areas["community"], _geoms(session, "communities")),
        _frame(areas["street"], _geoms(session, "streets")),
        start,
        end,
        NATIONAL_AVERAGE,
        figures,
    )
