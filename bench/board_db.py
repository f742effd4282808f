"""Shared by the board benchmarks: a fresh demo database with its keys, dropped afterwards."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from geo_api.migrate import grant_service_role, upgrade
from layers.demo.build import Progress
from layers.demo.load import DemoOptions, load_demo
from layers.store.db import make_engine, make_sessionmaker, resolve_database_url
from layers.store.db_admin import create_database, drop_database
from layers.store.settings import DatabaseSettings


@contextmanager
def demo_database(scale: float, label: str) -> Iterator[tuple[str, dict[str, str]]]:
    """(database URL, demo keys by role) of a new database holding the demo at `scale`."""
    server = resolve_database_url(DatabaseSettings(), start=True)
    name = f"wangge_bench_{label}_{os.getpid()}"
    drop_database(server, name)
    url = create_database(server, name)
    try:
        upgrade(url)
        grant_service_role(url, DatabaseSettings(database_url=url))
        keys_path = Path(tempfile.mkdtemp()) / "keys.json"
        engine = make_engine(url, pool_size=1)
        with make_sessionmaker(engine)() as session:
            load_demo(
                session=session,
                options=DemoOptions(seed=7, scale=scale, now=datetime.now(UTC)),
                keys_path=keys_path,
                report=Progress(lambda _m: None),
            )
        engine.dispose()
        keys = json.loads(keys_path.read_text())
        keys_path.unlink()
        yield url, keys
    finally:
        drop_database(server, name)


def inside_points(db_url: str) -> list[tuple[float, float]]:
    """A point inside each level-3 cell, where residents tap: a fixed lattice of points
    reached outside the scaled-down district, and those reports were 422 ``outside_district``."""
    engine = make_engine(db_url, pool_size=1)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid_cells"
                " WHERE level = 3 ORDER BY id) s"
            )
        ).all()
    engine.dispose()
    return [(float(x), float(y)) for x, y in rows]
