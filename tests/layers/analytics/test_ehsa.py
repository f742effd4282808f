"""The 17 outcomes of the emerging hot spot analysis, one known history each."""

from __future__ import annotations

import numpy as np
import pytest

from layers.analytics.ehsa import CATEGORIES, classify_one

A = 0.05


def bins(s: str) -> np.ndarray:
    """'+' hot, '-' cold, '.' not significant, oldest first."""
    return np.array([{"+": 2, "-": -2, ".": 0}[c] for c in s], dtype=np.int8)


@pytest.mark.parametrize(
    ("history", "trend_z", "trend_p", "expected"),
    [
        ("..........", 0.0, 1.0, "no pattern detected"),
        (".........+", 0.0, 1.0, "new hot spot"),
        ("......++++", 2.5, 0.01, "consecutive hot spot"),
        ("++++++++++", 2.5, 0.01, "intensifying hot spot"),
        ("++++++++++", 0.3, 0.70, "persistent hot spot"),
        ("++++++++++", -2.5, 0.01, "diminishing hot spot"),
        ("..+..+...+", 0.0, 1.0, "sporadic hot spot"),
        ("..-......+", 0.0, 1.0, "oscillating hot spot"),
        ("+++++++++.", -1.0, 0.3, "historical hot spot"),
        (".........-", 0.0, 1.0, "new cold spot"),
        ("........--", 0.0, 1.0, "consecutive cold spot"),
        ("----------", -2.5, 0.01, "intensifying cold spot"),
        ("----------", 0.1, 0.9, "persistent cold spot"),
        ("----------", 2.5, 0.01, "diminishing cold spot"),
        ("-...-....-", 0.0, 1.0, "sporadic cold spot"),
        ("+........-", 0.0, 1.0, "oscillating cold spot"),
        ("-------.--", 0.0, 1.0, "persistent cold spot"),
        ("---------.", 0.0, 1.0, "historical cold spot"),
    ],
)
def test_outcomes(history: str, trend_z: float, trend_p: float, expected: str) -> None:
    assert classify_one(bins(history), trend_z, trend_p, A) == expected


def test_seventeen_outcomes() -> None:
    assert len(CATEGORIES) == 17 and len(set(CATEGORIES)) == 17


def test_ninety_percent_threshold_counts_steps() -> None:
    # 9 of 10 hot, final hot: ≥ 90 % -> persistent; 8 of 10: sporadic (an interrupted history)
    assert classify_one(bins("+.++++++++"), 0.0, 1.0, A) == "persistent hot spot"
    assert classify_one(bins("+..+++++++"), 0.0, 1.0, A) == "sporadic hot spot"


def test_significance_of_the_trend_matters() -> None:
    assert classify_one(bins("++++++++++"), 2.5, 0.2, A) == "persistent hot spot"


def test_month_slices_follow_local_calendar() -> None:
    import pandas as pd

    from layers.analytics.trends import slice_edges

    first = pd.Timestamp("2026-01-15T03:00:00Z").timestamp()
    last = pd.Timestamp("2026-03-31T17:00:00Z").timestamp()  # 1 April 01:00 in China
    edges = slice_edges(first, last, "month").tz_convert("Asia/Shanghai")
    assert [e.strftime("%Y-%m-%d") for e in edges] == [
        "2026-01-01",
        "2026-02-01",
        "2026-03-01",
        "2026-04-01",
        "2026-05-01",
    ]
    weeks = slice_edges(first, last, "week").tz_convert("Asia/Shanghai")
    assert all(e.weekday() == 0 and e.hour == 0 for e in weeks)
