"""Migrate a database and load the full-scale demo into it: the background half of the full check.

`python -m tests.layers.full_demo_job URL KEYS_PATH` — run by the session
fixture `full_demo_load` (tests/full_demo.py) while the rest of the suite runs,
because the load is four minutes of one core and most tests leave a core idle.
"""

from __future__ import annotations

import sys
from pathlib import Path

from geo_api.migrate import upgrade
from layers.demo.load import DemoOptions, load_demo
from layers.store.db import make_engine, make_sessionmaker
from tests.conftest import TEST_NOW
from tests.layers.demo_checks import quiet


def main(url: str, keys_path: Path) -> None:
    """Load the district at scale 1.0 (the seed's figures) into `url`."""
    upgrade(url)
    engine = make_engine(url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            load_demo(
                session=session,
                options=DemoOptions(scale=1.0, now=TEST_NOW),
                keys_path=keys_path,
                report=quiet(),
            )
    finally:
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
