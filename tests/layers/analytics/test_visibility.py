"""Visibility polygons against known answers: what a building hides is not covered."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from layers.analytics.visibility import (
    Cameras,
    Obstacles,
    group_union,
    sector_polygons,
    visibility_polygons,
)


def cams(*rows: tuple[float, float, float, float, float, float]) -> Cameras:
    a = np.array(rows, dtype=float)
    return Cameras(a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4], a[:, 5])


def seen(view, x: float, y: float) -> bool:
    return bool(view.covers(shapely.Point(x, y)))


def test_sector_area_and_orientation() -> None:
    c = cams((0, 0, 90, 60, 10, 5), (0, 0, 0, 360, 10, 5))
    east, full = sector_polygons(c)
    assert east.area == pytest.approx(np.pi * 100 / 6, rel=2e-3)
    assert full.area == pytest.approx(np.pi * 100, rel=2e-3)
    assert seen(east, 9, 0) and not seen(east, -9, 0) and not seen(east, 0, 9)
    assert shapely.is_valid(east) and shapely.is_valid(full)


def test_tall_building_hides_what_lies_behind_it() -> None:
    c = cams((0, 0, 0, 90, 50, 6))
    wall = Obstacles(np.array([shapely.box(-5, 10, 5, 20)]), np.array([30.0]))
    _, (view,) = visibility_polygons(c, wall)
    assert seen(view, 0, 5)  # in front
    assert not seen(view, 0, 15)  # inside the footprint
    assert not seen(view, 0, 30) and not seen(view, 4, 45)  # behind it, up to the range
    assert seen(view, 20, 30)  # beside the shadow
    # the shadow is exact: its edges are the lines of sight through the corners
    assert seen(view, 5 * 4 + 0.05, 40) and not seen(view, 5 * 4 - 0.05, 40)


def test_lower_building_hides_only_its_projected_shadow() -> None:
    # camera 6 m high, building 3 m: the wall's top projects twice as far from the camera
    c = cams((100, 0, 90, 360, 40, 6))
    low = Obstacles(np.array([shapely.box(110, -5, 115, 5)]), np.array([3.0]))
    _, (view,) = visibility_polygons(c, low)
    assert seen(view, 108, 0)
    assert not seen(view, 112, 0) and not seen(view, 125, 0) and not seen(view, 129.5, 0)
    assert seen(view, 130.5, 0) and seen(view, 135, 0)


def test_unknown_height_counts_as_tall() -> None:
    c = cams((0, 0, 0, 90, 50, 6))
    wall = Obstacles(np.array([shapely.box(-5, 10, 5, 20)]), np.array([np.nan]))
    _, (view,) = visibility_polygons(c, wall)
    assert not seen(view, 0, 40)


def test_camera_on_its_own_building_is_not_blinded() -> None:
    # mounted on the wall of a tall building, looking away from it
    c = cams((0, 0.0, 0, 90, 20, 6))
    host = Obstacles(np.array([shapely.box(-10, -10, 10, 0)]), np.array([30.0]))
    _, (view,) = visibility_polygons(c, host)
    assert view.area == pytest.approx(np.pi * 400 / 4, rel=5e-3)


def test_exact_shadows_leave_no_holes_where_rays_would() -> None:
    # a thin pole-like footprint far away: 1° rays at 150 m miss a 1 m object
    c = cams((0, 0, 0, 20, 150, 6))
    pole = Obstacles(np.array([shapely.box(0.3, 100, 1.3, 101)]), np.array([20.0]))
    _, (view,) = visibility_polygons(c, pole)
    assert not seen(view, 1.2, 140)  # hidden behind the pole
    assert seen(view, -1.0, 140)


def test_group_union_per_owner() -> None:
    geoms = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(5, 5, 6, 6)])
    out = group_union(np.array([0, 0, 2]), geoms, 3)
    assert out[0].area == pytest.approx(2.0)
    assert out[1] is None
    assert out[2].area == pytest.approx(1.0)


def test_many_cameras_vectorised_match_one_by_one() -> None:
    rng = np.random.default_rng(3)
    n = 40
    c = Cameras(
        rng.uniform(0, 200, n),
        rng.uniform(0, 200, n),
        rng.uniform(0, 360, n),
        rng.choice([50.0, 70.0, 90.0], n),
        rng.uniform(10, 60, n),
        rng.uniform(3, 9, n),
    )
    boxes = [shapely.box(x, y, x + 12, y + 8) for x, y in rng.uniform(0, 200, (30, 2))]
    obs = Obstacles(np.array(boxes), rng.choice([np.nan, 4.0, 30.0], 30))
    _, together = visibility_polygons(c, obs)
    for i in range(n):
        one = Cameras(
            *(
                np.array([getattr(c, f)[i]])
                for f in ("x", "y", "azimuth_deg", "hfov_deg", "range_m", "height_m")
            )
        )
        _, (alone,) = visibility_polygons(one, obs)
        assert together[i].symmetric_difference(alone).area < 1e-6
