"""The tiny city the city-scale tests share: two districts, scale 0.05, one year of cases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from layers.demo.build import Progress
from layers.demo.city_load import CityOptions, load_city
from layers.store.db import make_engine, make_sessionmaker
from layers.store.db_admin import drop_database


@dataclass(frozen=True)
class City:
    """The loaded tiny city: its database, what the loader reported and counted."""

    url: str
    options: CityOptions
    written: dict[str, int]
    lines: list[str]


def load_tiny_city(server_url: str, url: str, options: CityOptions, keys: Path) -> Iterator[City]:
    """Load `options` into the database at `url` (a template copy), drop it afterwards."""
    lines: list[str] = []
    engine = make_engine(url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            written = load_city(
                session=session, options=options, keys_path=keys, report=Progress(lines.append)
            )
    finally:
        engine.dispose()
    yield City(url, options, written, lines)
    drop_database(server_url, make_url(url).database or "")
