"""Benchmark layers.core.crs: the iterative GCJ-02 inverse against the forward formula.

Usage: ``python bench/bench_crs.py [--n 1000000] [--repeat 3] [--seed 42]``

Prints the throughput of ``gcj02_to_wgs84`` on random points in Sichuan, its round-trip
error (max and p99, millimetres), and, measured in the same run, the throughput of the
forward ``wgs84_to_gcj02`` and of a naive one-step inverse as baselines, with the ratio
iterative-inverse time / forward time.  The last line is the same figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np

from layers.core import crs

SICHUAN_LON = (97.3, 108.5)
SICHUAN_LAT = (26.0, 34.3)
EARTH_RADIUS_M = 6371008.8


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in metres between lon/lat points in degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(h))


def one_step_inverse(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The naive inverse every snippet ships: subtract the offset evaluated at the GCJ point."""
    s_lon, s_lat = crs.wgs84_to_gcj02(lon, lat)
    return 2 * lon - s_lon, 2 * lat - s_lat


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """Best wall-clock time in seconds over `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of points")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs; the best counts")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    lon = rng.uniform(*SICHUAN_LON, args.n)
    lat = rng.uniform(*SICHUAN_LAT, args.n)
    g_lon, g_lat = crs.wgs84_to_gcj02(lon, lat)

    t_forward = best_time(lambda: crs.wgs84_to_gcj02(lon, lat), args.repeat)
    t_inverse = best_time(lambda: crs.gcj02_to_wgs84(g_lon, g_lat), args.repeat)
    t_one_step = best_time(lambda: one_step_inverse(g_lon, g_lat), args.repeat)

    err_mm = haversine_m(lon, lat, *crs.gcj02_to_wgs84(g_lon, g_lat)) * 1000
    one_step_mm = haversine_m(lon, lat, *one_step_inverse(g_lon, g_lat)) * 1000

    figures = {
        "n": args.n,
        "inverse_points_per_s": args.n / t_inverse,
        "forward_points_per_s": args.n / t_forward,
        "one_step_points_per_s": args.n / t_one_step,
        "ratio_inverse_over_forward": t_inverse / t_forward,
        "ratio_inverse_over_one_step": t_inverse / t_one_step,
        "max_error_mm": float(err_mm.max()),
        "p99_error_mm": float(np.percentile(err_mm, 99)),
        "one_step_max_error_mm": float(one_step_mm.max()),
    }
    print(f"points: {args.n:,} random in Sichuan, best of {args.repeat} runs")
    print(f"gcj02_to_wgs84 (iterative): {figures['inverse_points_per_s']:,.0f} points/s")
    print(f"wgs84_to_gcj02 (forward):   {figures['forward_points_per_s']:,.0f} points/s")
    print(f"one-step inverse (naive):   {figures['one_step_points_per_s']:,.0f} points/s")
    print(f"ratio iterative / forward:  {figures['ratio_inverse_over_forward']:.2f}x")
    print(f"ratio iterative / one-step: {figures['ratio_inverse_over_one_step']:.2f}x")
    print(
        f"round-trip error wgs84->gcj02->wgs84: max {figures['max_error_mm']:.2e} mm, "
        f"p99 {figures['p99_error_mm']:.2e} mm"
    )
    print(f"one-step inverse max error: {figures['one_step_max_error_mm']:.1f} mm")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
