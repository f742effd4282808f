"""The full district once per run: the published figures of Chenghua, reproduced.

The load itself runs in the background from the start of the run
(`tests/full_demo.py`); this test waits for it and checks the district.
"""

from __future__ import annotations

import pytest

from layers.demo.counts import SEED_FIGURES, counts_for
from layers.store.db import make_engine
from tests.full_demo import FullDemoLoad
from tests.layers.demo_checks import assert_counts, assert_nesting, assert_sums_up


@pytest.mark.slow
def test_full_scale_reproduces_the_seed(full_demo_load: FullDemoLoad | None) -> None:
    assert full_demo_load is not None, "the session fixture starts the load for this test"
    full_demo_load.wait()
    engine = make_engine(full_demo_load.url, pool_size=1)
    try:
        want = counts_for(1.0)
        assert want.l1 == SEED_FIGURES["l1"] == 1794
        assert want.households == 350_000 and want.residents == 940_800
        assert want.cameras >= 5000
        assert_counts(engine, want, tolerance=0.05)
        assert_sums_up(engine, want)
        assert_nesting(engine)
    finally:
        engine.dispose()
