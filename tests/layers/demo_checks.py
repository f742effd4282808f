"""Checks of a loaded demo district, shared by the small-scale and the full-scale tests.

Everything is measured by PostGIS in UTM 48N (EPSG:32648), in metres.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from layers.demo.build import Progress
from layers.demo.counts import DemoCounts
from layers.tables.grid_cells import LIVE

OUTSIDE_TOLERANCE_M = 0.05
MAX_OVERLAP_M2 = 1.0
MAX_GAP_M2 = 1.0
M = "ST_Transform({}, 32648)"


def quiet() -> Progress:
    """A progress reporter that prints nothing."""
    return Progress(lambda _m: None)


def assert_counts(engine: Engine, want: DemoCounts, tolerance: float = 0.0) -> None:
    """Row counts equal `want` (grid levels 2 and 3 within `tolerance`, a fraction)."""
    with engine.connect() as conn:
        got = dict(
            conn.execute(
                text(
                    "SELECT 'streets', count(*) FROM streets UNION ALL "
                    "SELECT 'communities', count(*) FROM communities UNION ALL "
                    "SELECT 'courtyards', count(*) FROM courtyards UNION ALL "
                    "SELECT 'cameras', count(*) FROM cameras UNION ALL "
                    "SELECT 'cases', count(*) FROM incidents UNION ALL "
                    f"SELECT 'l' || level, count(*) FROM grid_cells WHERE {LIVE} GROUP BY level"
                )
            ).all()
        )
        workers = dict(
            conn.execute(text("SELECT level, count(*) FROM workers GROUP BY level")).all()
        )
    for key in ("streets", "communities", "courtyards", "l1", "cameras", "cases"):
        assert got[key] == getattr(want, key), (key, got[key])
    for key in ("l2", "l3"):
        assert abs(got[key] - getattr(want, key)) <= tolerance * getattr(want, key), key
    assert workers == {1: got["l1"], 2: got["l2"], 3: got["l3"]}


def assert_nesting(engine: Engine) -> None:
    """Children inside parents (5 cm), no sibling overlap (< 1 m² per level), no gaps."""
    with engine.connect() as conn:
        _assert_inside_parents(conn)
        _assert_no_overlaps(conn)
        _assert_no_gaps(conn)


def _assert_inside_parents(conn: Connection) -> None:
    """Every cell, community and street within 5 cm of its parent."""
    outside = conn.execute(
        text(f"""
        SELECT count(*) FROM grid_cells c JOIN grid_cells p ON p.id = c.parent_id
        WHERE NOT ST_Covers(ST_Buffer({M.format("p.geom")}, :tol), {M.format("c.geom")})
    """),
        {"tol": OUTSIDE_TOLERANCE_M},
    ).scalar()
    assert outside == 0, f"{outside} cells leave their parent"
    pairs = (
        ("grid_cells c JOIN communities p ON p.id = c.community_id AND c.level = 1",),
        ("communities c JOIN streets p ON p.id = c.street_id",),
        ("streets c JOIN districts p ON p.id = c.district_id",),
    )
    for (join,) in pairs:
        n = conn.execute(
            text(f"""
            SELECT count(*) FROM {join}
            WHERE NOT ST_Covers(ST_Buffer({M.format("p.geom")}, :tol), {M.format("c.geom")})
        """),
            {"tol": OUTSIDE_TOLERANCE_M},
        ).scalar()
        assert n == 0, join


def _assert_no_overlaps(conn: Connection) -> None:
    """Siblings of each level overlap by less than `MAX_OVERLAP_M2` in all."""
    for table, level in (("grid_cells", "a.level"), ("communities", "0"), ("streets", "0")):
        same_level = "a.level = b.level AND" if table == "grid_cells" else ""
        overlaps = conn.execute(
            text(f"""
            SELECT {level}, sum(ST_Area(ST_Intersection(
                {M.format("a.geom")}, {M.format("b.geom")})))
            FROM {table} a JOIN {table} b
              ON {same_level} a.id < b.id AND ST_Intersects(a.geom, b.geom)
            GROUP BY 1
        """)
        ).all()
        for lv, area in overlaps:
            assert area < MAX_OVERLAP_M2, (table, lv, area)


def _assert_no_gaps(conn: Connection) -> None:
    """Children cover their parents, every cell above level 3 has children, streets the district."""
    gaps = conn.execute(
        text(f"""
        WITH kids AS (
          SELECT parent_id AS pid, sum(ST_Area({M.format("geom")})) AS a FROM grid_cells
          WHERE parent_id IS NOT NULL GROUP BY parent_id
          UNION ALL
          SELECT -community_id, sum(ST_Area({M.format("geom")})) FROM grid_cells
          WHERE level = 1 GROUP BY community_id)
        SELECT max(abs(coalesce(p.a, 0) - k.a)) FROM kids k JOIN (
          SELECT id AS pid, ST_Area({M.format("geom")}) AS a FROM grid_cells
          UNION ALL SELECT -id, ST_Area({M.format("geom")}) FROM communities) p USING (pid)
    """)
    ).scalar()
    assert gaps < MAX_GAP_M2, f"largest gap {gaps} m²"
    childless = conn.execute(
        text(
            "SELECT count(*) FROM grid_cells p WHERE p.level < 3 AND NOT EXISTS "
            "(SELECT 1 FROM grid_cells c WHERE c.parent_id = p.id)"
        )
    ).scalar()
    assert childless == 0
    district_gap = conn.execute(
        text(f"""
        SELECT abs((SELECT ST_Area({M.format("geom")}) FROM districts)
                 - (SELECT sum(ST_Area({M.format("geom")})) FROM streets))
    """)
    ).scalar()
    assert district_gap < MAX_GAP_M2


def assert_valid_geometry(engine: Engine) -> None:
    """Every geometry valid, in EPSG:4326, inside the district's lon/lat box."""
    with engine.connect() as conn:
        for table in (
            "districts",
            "streets",
            "communities",
            "grid_cells",
            "courtyards",
            "buildings",
            "cameras",
            "service_points",
            "workers",
            "incidents",
        ):
            bad = conn.execute(
                text(
                    f"SELECT count(*) FILTER (WHERE NOT ST_IsValid(geom) OR ST_SRID(geom) <> 4326"
                    f" OR NOT ST_Within(geom, ST_MakeEnvelope(103.9, 30.5, 104.4, 30.9, 4326)))"
                    f" FROM {table}"
                )
            ).scalar()
            assert bad == 0, table
        area = conn.execute(text("SELECT ST_Area(geom::geography) / 1e6 FROM districts")).scalar()
        assert 107.5 < area < 109.0, area  # published: 108 km²


def assert_sums_up(engine: Engine, want: DemoCounts) -> None:
    """Households and residents: exact totals, buildings → courtyards, cells → parents."""
    with engine.connect() as conn:
        per_level = conn.execute(
            text(
                "SELECT level, sum(households), sum(population) FROM grid_cells "
                f"WHERE {LIVE} GROUP BY level ORDER BY level"
            )
        ).all()
        for _, hh, pop in per_level:
            assert (hh, pop) == (want.households, want.residents)
        parents_off = conn.execute(
            text(
                "SELECT count(*) FROM grid_cells p JOIN (SELECT parent_id, sum(households) h,"
                " sum(population) q FROM grid_cells GROUP BY parent_id) k ON k.parent_id = p.id"
                " WHERE k.h <> p.households OR k.q <> p.population"
            )
        ).scalar()
        assert parents_off == 0
        yards_off = conn.execute(
            text(
                "SELECT count(*) FROM courtyards y JOIN (SELECT courtyard_id, sum(households) h,"
                " sum(population) q FROM buildings GROUP BY courtyard_id) b"
                " ON b.courtyard_id = y.id WHERE b.h <> y.households OR b.q <> y.residents"
            )
        ).scalar()
        assert yards_off == 0
        buildings_total = conn.execute(
            text("SELECT sum(households), sum(population) FROM buildings")
        ).one()
        assert tuple(buildings_total) == (want.households, want.residents)
