"""The full district once per run: the published figures of Chenghua, reproduced."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo_api.migrate import upgrade
from layers.demo.counts import SEED_FIGURES, counts_for
from layers.demo.load import DemoOptions, load_demo
from layers.store.db import make_engine, make_sessionmaker
from tests.conftest import TEST_NOW
from tests.layers.demo_checks import assert_counts, assert_nesting, assert_sums_up, quiet


@pytest.mark.slow
def test_full_scale_reproduces_the_seed(empty_db: str, tmp_path: Path) -> None:
    upgrade(empty_db)
    engine = make_engine(empty_db, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            load_demo(
                session=session,
                options=DemoOptions(scale=1.0, now=TEST_NOW),
                keys_path=tmp_path / "keys.json",
                report=quiet(),
            )
        want = counts_for(1.0)
        assert want.l1 == SEED_FIGURES["l1"] == 1794
        assert want.households == 350_000 and want.residents == 940_800
        assert want.cameras >= 5000
        assert_counts(engine, want, tolerance=0.05)
        assert_sums_up(engine, want)
        assert_nesting(engine)
    finally:
        engine.dispose()
