"""Shared by the bad-input tests: what "nothing was written" means, as row counts."""

from __future__ import annotations

from sqlalchemy import Engine, text

WRITTEN_TABLES = (
    "incidents",
    "incident_events",
    "idempotency_keys",
    "audit_log",
    "service_points",
    "buildings",
    "courtyards",
    "cameras",
    "grid_revisions",
    "grid_draft_cells",
    "grid_cells",
)


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows of every table a request or an import could write."""
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in WRITTEN_TABLES
        }


def inside_point(engine: Engine) -> tuple[float, float]:
    """A WGS-84 point inside the first community (so only the bad input can fail a request)."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p "
                "FROM communities ORDER BY id LIMIT 1) s"
            )
        ).one()
    return row.x, row.y
