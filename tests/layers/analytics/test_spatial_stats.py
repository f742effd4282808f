"""Gi*, FDR and Mann-Kendall against known answers (no database)."""

from __future__ import annotations

import h3
import numpy as np
import pytest
from scipy import stats

from layers.analytics.hotspots import aggregate, hotspot_table
from layers.analytics.spatial_stats import bh_adjust, gi_bins, gi_star, h3_graph, mann_kendall
from layers.core.map_types import HotspotQuery

CENTRE = h3.latlng_to_cell(30.67, 104.10, 9)
AREA = sorted(h3.grid_disk(CENTRE, 12))


def test_bh_adjust_matches_the_step_up_procedure() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.20])
    # sorted: .005 .01 .03 .04 .2 -> *5/rank: .025 .025 .05 .05 .2 -> monotone from the top
    assert bh_adjust(p) == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.2])
    assert bh_adjust(np.array([np.nan, 0.5]))[0] == 1.0


def _hand_written_bh(p: np.ndarray) -> np.ndarray:
    """The step-up adjustment wangge computed itself before using SciPy's."""
    m = len(p)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.empty(m)
    q[order] = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    return q


def test_bh_adjust_is_scipys_and_agrees_with_the_old_one_to_2e16() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        p = rng.uniform(0, 1, int(rng.integers(1, 3000))) ** 3
        p[rng.integers(0, len(p), len(p) // 10)] = p[0]  # ties
        q = bh_adjust(p)
        np.testing.assert_array_equal(q, stats.false_discovery_control(p, method="bh"))
        assert np.abs(q - _hand_written_bh(p)).max() <= 2.3e-16
    assert bh_adjust(np.array([])).shape == (0,)


def test_gi_bins_confidence_and_sign() -> None:
    z = np.array([4.0, -3.0, 1.9, 0.1])
    p = np.array([1e-5, 0.003, 0.06, 0.9])
    assert gi_bins(z, p, fdr=False).tolist() == [3, -3, 1, 0]


def test_uniform_field_has_no_hot_cell_after_fdr() -> None:
    flat = hotspot_table(np.full(len(AREA), 30.0), AREA, HotspotQuery(permutations=0))
    assert (flat["gi_bin"] == 0).all()
    # Poisson noise on a uniform intensity: without FDR ~5 % of cells look significant
    rng = np.random.default_rng(11)
    with_fdr, without, clean_fields = 0, 0, 0
    for _ in range(20):
        counts = rng.poisson(30, len(AREA)).astype(float)
        fdr = hotspot_table(counts, AREA, HotspotQuery(permutations=0))
        raw = hotspot_table(counts, AREA, HotspotQuery(permutations=0, fdr=False))
        with_fdr += int((fdr["gi_bin"] > 0).sum())
        without += int((raw["gi_bin"] > 0).sum())
        clean_fields += int((fdr["gi_bin"] > 0).sum() == 0)
    assert without > 200
    assert with_fdr <= 6 and clean_fields >= 16


def test_synthetic_cluster_is_found_hot() -> None:
    rng = np.random.default_rng(12)
    lat0, lon0 = h3.cell_to_latlng(CENTRE)
    # a uniform background of points over the area, plus a tight cluster of 600 cases
    background = np.array([h3.cell_to_latlng(c) for c in AREA for _ in range(30)])
    hot_lat = lat0 + 0.012 + rng.normal(0, 0.0012, 600)
    hot_lon = lon0 - 0.01 + rng.normal(0, 0.0012, 600)
    lat = np.r_[background[:, 0], hot_lat]
    lon = np.r_[background[:, 1], hot_lon]
    cells, counts, _ = aggregate(lon, lat, 9, AREA)
    assert len(cells) >= len(AREA) and counts.sum() == len(lat)
    table = hotspot_table(counts, cells, HotspotQuery(permutations=99, seed=1))
    target = h3.latlng_to_cell(lat0 + 0.012, lon0 - 0.01, 9)
    row = table.set_index("cell").loc[target]
    assert row["gi_bin"] == 3 and row["class"] == "hot_99"
    assert row["p_fdr"] < 0.01 and row["z"] > 3
    assert 0 < row["p_sim"] <= 2 / 100  # two-sided pseudo p from 99 permutations
    far = table.set_index("cell").loc[AREA[0]]
    assert far["gi_bin"] <= 0


def test_gi_star_degenerate_input_is_not_significant() -> None:
    graph = h3_graph(AREA[:20])
    gi = gi_star(np.zeros(20), graph)
    assert np.isnan(gi.z).all() and (gi.p_norm == 1).all()


def test_mann_kendall_agrees_with_kendalls_tau() -> None:
    rng = np.random.default_rng(5)
    series = np.vstack([np.arange(12) + rng.normal(0, 2, 12), rng.normal(0, 1, 12)])
    mk = mann_kendall(series)
    for row, tau_mk, p in zip(series, mk.tau, mk.p, strict=True):
        tau = stats.kendalltau(np.arange(12), row, method="asymptotic")
        assert tau_mk == pytest.approx(tau.statistic)
        # the continuity correction makes ours a little more conservative
        assert tau.pvalue <= p <= tau.pvalue + 0.1
    assert mk.z[0] > 2 and mk.p[0] < 0.05 and mk.s[0] > 0


def test_mann_kendall_ties_and_flat() -> None:
    mk = mann_kendall(np.array([[1, 1, 1, 1, 1], [1, 2, 2, 3, 3]], dtype=float))
    assert mk.z[0] == 0 and mk.p[0] == 1
    assert mk.s[1] == 8 and mk.z[1] > 0
