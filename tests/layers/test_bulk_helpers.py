"""Helpers of the bulk import path: point EWKB by hand, indexes set aside and rebuilt."""

from __future__ import annotations

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.store.ewkb import points_ewkb_hex
from layers.store.table_indexes import rebuild_indexes, set_aside_indexes


def test_points_ewkb_equals_shapely() -> None:
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(-180, 180, 500), rng.uniform(-90, 90, 500)
    ours = points_ewkb_hex(lon, lat)
    theirs = shapely.to_wkb(
        shapely.set_srid(shapely.points(lon, lat), 4326), hex=True, include_srid=True
    )
    assert list(ours) == list(theirs)
    assert shapely.equals(shapely.from_wkb(ours[7]), shapely.Point(lon[7], lat[7]))


def _indexes(session: Session) -> dict[str, str]:
    return dict(
        session.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'incidents'")
        ).all()
    )


def test_indexes_come_back_exactly_and_a_rollback_restores_them(engine) -> None:
    with Session(engine) as session:
        before = _indexes(session)
        aside = set_aside_indexes(session=session, table="incidents")
        assert aside and "pk_incidents" in _indexes(session)  # constraints stay
        assert "ix_incidents_geom" not in _indexes(session)
        rebuild_indexes(session=session, definitions=aside)
        assert _indexes(session) == before
        set_aside_indexes(session=session, table="incidents")
        session.rollback()
    with Session(engine) as session:
        assert _indexes(session) == before
