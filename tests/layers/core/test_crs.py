"""Tests for layers.core.crs: accuracy of the GCJ-02/BD-09 inverses, reference pairs, edges."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from layers.core import crs
from layers.core.errors import InvalidInputError

EARTH_RADIUS_M = 6371008.8
MM = 1e-3  # metres
N_POINTS = 100_000
SICHUAN = {"lon": (97.3, 108.5), "lat": (26.0, 34.3)}
CHENGHUA = {"lon": (104.03, 104.20), "lat": (30.60, 30.75)}  # Chenghua district, Chengdu


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in metres between lon/lat points in degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(h))


@pytest.fixture(scope="module")
def sichuan() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20240601)
    return rng.uniform(*SICHUAN["lon"], N_POINTS), rng.uniform(*SICHUAN["lat"], N_POINTS)


@pytest.fixture(scope="module")
def chenghua() -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(np.linspace(*CHENGHUA["lon"], 60), np.linspace(*CHENGHUA["lat"], 60))
    return lon.ravel(), lat.ravel()


# --- round trips ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
        (crs.wgs84_to_bd09, crs.bd09_to_wgs84),
        (crs.gcj02_to_bd09, crs.bd09_to_gcj02),
    ],
    ids=["wgs84-gcj02", "wgs84-bd09", "gcj02-bd09"],
)
def test_round_trip_within_a_millimetre_across_sichuan(sichuan, forward, inverse):
    lon, lat = sichuan
    back_lon, back_lat = inverse(*forward(lon, lat))
    assert haversine_m(lon, lat, back_lon, back_lat).max() <= MM


def test_inverse_then_forward_reproduces_gcj02_input(sichuan):
    g_lon, g_lat = sichuan  # read as GCJ-02 this time
    again = crs.wgs84_to_gcj02(*crs.gcj02_to_wgs84(g_lon, g_lat))
    assert haversine_m(g_lon, g_lat, *again).max() <= MM


# --- published / hand-checked reference pairs ----------------------------------------
# Expected digits were computed with a separate scalar (math-module) transcription of the
# public formula.  The widely cited Tiananmen pair (116.40366, 39.91064) is itself
# rounded; the formula gives 116.403672, 39.910634 (about 1 m from the rounded figure).


@pytest.mark.parametrize(
    ("wgs", "gcj"),
    [
        ((116.397428, 39.90923), (116.403672, 39.910634)),  # Tiananmen, Beijing
        ((104.065735, 30.657441), (104.068242, 30.655019)),  # Tianfu Square, Chengdu
        ((104.10, 30.67), (104.102543, 30.667607)),  # Chenghua, Chengdu
    ],
)
def test_wgs84_gcj02_reference_pairs(wgs, gcj):
    np.testing.assert_allclose(crs.wgs84_to_gcj02(*wgs), gcj, rtol=0, atol=1e-6)
    np.testing.assert_allclose(crs.gcj02_to_wgs84(*gcj), wgs, rtol=0, atol=1e-6)


def test_tiananmen_close_to_the_widely_cited_rounded_pair():
    np.testing.assert_allclose(
        crs.wgs84_to_gcj02(116.397428, 39.90923), (116.40366, 39.91064), rtol=0, atol=2e-5
    )


@pytest.mark.parametrize(
    ("gcj", "bd"),
    [
        ((116.404, 39.915), (116.410369, 39.921337)),  # Baidu's documented example
        ((104.068242, 30.655019), (104.074739, 30.661049)),  # Tianfu Square, Chengdu
    ],
)
def test_gcj02_bd09_reference_pairs(gcj, bd):
    np.testing.assert_allclose(crs.gcj02_to_bd09(*gcj), bd, rtol=0, atol=1e-6)
    np.testing.assert_allclose(crs.bd09_to_gcj02(*bd), gcj, rtol=0, atol=1e-6)


def test_baidu_documented_example_to_five_decimals():
    np.testing.assert_allclose(
        crs.gcj02_to_bd09(116.404, 39.915), (116.41036, 39.92134), rtol=0, atol=1e-5
    )


# --- why the inverse iterates -----------------------------------------------------------


def test_gcj02_offset_in_chenghua_is_about_360_m(chenghua):
    lon, lat = chenghua
    offset = haversine_m(lon, lat, *crs.wgs84_to_gcj02(lon, lat))
    assert 300 <= offset.min() and offset.max() <= 400
    assert abs(float(np.median(offset)) - 360) < 10


def test_one_step_inverse_is_not_enough_but_iteration_is(chenghua):
    lon, lat = chenghua
    g_lon, g_lat = crs.wgs84_to_gcj02(lon, lat)
    shifted_lon, shifted_lat = crs.wgs84_to_gcj02(g_lon, g_lat)
    one_step = (2 * g_lon - shifted_lon, 2 * g_lat - shifted_lat)  # subtract the offset at g
    assert haversine_m(lon, lat, *one_step).max() > 0.5
    assert haversine_m(lon, lat, *crs.gcj02_to_wgs84(g_lon, g_lat)).max() <= MM


# --- behaviour at the edges --------------------------------------------------------------


def test_outside_china_gcj02_leaves_points_unchanged():
    # Paris: like every app, the public formula only shifts points inside China's box.
    paris = (2.3522, 48.8566)
    for convert in (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84):
        lon, lat = convert(*paris)
        assert (float(lon), float(lat)) == paris


def test_unknown_crs_raises_with_code_and_supported_list():
    with pytest.raises(crs.UnknownCRSError) as excinfo:
        crs.to_wgs84(104.1, 30.67, "mars")
    err = excinfo.value
    assert err.code == "unknown_crs"
    assert isinstance(err, ValueError)
    assert isinstance(err, InvalidInputError)
    assert all(name in str(err) for name in crs.SUPPORTED_CRS)
    with pytest.raises(crs.UnknownCRSError):
        crs.from_wgs84(104.1, 30.67, "epsg:3857")
    with pytest.raises(crs.UnknownCRSError):
        crs.transform_geometry(shapely.Point(104.1, 30.67), "wgs84", None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("alias", "name"),
    [("WGS84", "wgs84"), ("EPSG:4326", "wgs84"), ("epsg:4490", "cgcs2000"), (" GCJ02 ", "gcj02")],
)
def test_crs_names_are_case_insensitive_and_accept_epsg(alias, name):
    p = (104.1, 30.67)
    np.testing.assert_array_equal(crs.to_wgs84(*p, alias), crs.to_wgs84(*p, name))
    np.testing.assert_array_equal(crs.from_wgs84(*p, alias), crs.from_wgs84(*p, name))


@pytest.mark.parametrize("name", crs.SUPPORTED_CRS)
def test_dispatcher_round_trip(name, sichuan):
    lon, lat = sichuan[0][:1000], sichuan[1][:1000]
    back = crs.to_wgs84(*crs.from_wgs84(lon, lat, name), name)
    assert haversine_m(lon, lat, *back).max() <= MM


def test_dispatcher_matches_named_functions():
    p = (104.1, 30.67)
    np.testing.assert_array_equal(crs.to_wgs84(*p, "gcj02"), crs.gcj02_to_wgs84(*p))
    np.testing.assert_array_equal(crs.to_wgs84(*p, "bd09"), crs.bd09_to_wgs84(*p))
    np.testing.assert_array_equal(crs.from_wgs84(*p, "bd09"), crs.wgs84_to_bd09(*p))
    np.testing.assert_array_equal(crs.from_wgs84(*p, "wgs84"), p)


@pytest.mark.parametrize(
    "convert", [crs.gcj02_to_wgs84, crs.bd09_to_gcj02, crs.bd09_to_wgs84, crs.wgs84_to_gcj02]
)
def test_nan_and_inf_become_nan_without_hanging(convert):
    lon = np.array([np.nan, 104.1, np.inf, 104.2])
    lat = np.array([30.6, np.nan, 30.7, 30.7])
    out_lon, out_lat = convert(lon, lat)
    assert np.isnan(out_lon[:3]).all() and np.isnan(out_lat[:3]).all()
    np.testing.assert_array_equal(
        (out_lon[3], out_lat[3]), [v[0] for v in convert([104.2], [30.7])]
    )


def test_scalar_list_and_shaped_input():
    lon, lat = crs.gcj02_to_wgs84(104.1, 30.67)
    assert lon.shape == () and lat.dtype == np.float64
    assert isinstance(float(lon), float)
    np.testing.assert_array_equal(crs.gcj02_to_wgs84([104.1], [30.67]), [[lon], [lat]])
    grid = np.full((3, 4), 104.1)
    out_lon, out_lat = crs.wgs84_to_bd09(grid, 30.67)  # broadcasts a scalar latitude
    assert out_lon.shape == out_lat.shape == (3, 4)


def test_inputs_are_not_modified():
    lon, lat = np.array([104.1, np.inf]), np.array([30.67, 30.0])
    crs.gcj02_to_wgs84(lon, lat)
    np.testing.assert_array_equal(lon, [104.1, np.inf])


def test_cgcs2000_round_trip_within_a_centimetre(sichuan):
    lon, lat = sichuan
    c_lon, c_lat = crs.wgs84_to_cgcs2000(lon, lat)
    assert haversine_m(lon, lat, c_lon, c_lat).max() <= 0.01  # a null/ballpark op in PROJ
    assert haversine_m(lon, lat, *crs.cgcs2000_to_wgs84(c_lon, c_lat)).max() <= 0.01


def test_metric_round_trip(sichuan):
    lon, lat = sichuan[0][:1000], sichuan[1][:1000]
    x, y = crs.to_metric(104.1, 30.67)
    assert 400_000 < float(x) < 430_000 and 3_380_000 < float(y) < 3_400_000  # UTM 48N
    back = crs.from_metric(*crs.to_metric(lon, lat))
    assert haversine_m(lon, lat, *back).max() <= MM
    x2, _ = crs.to_metric(104.1, 30.67, srid=4544)  # CGCS2000 3° GK, CM 105°E
    assert abs(float(x2) - 500_000) < 100_000


def test_transform_geometry_converts_every_vertex_and_round_trips():
    poly = shapely.Polygon([(104.09, 30.66), (104.11, 30.66), (104.11, 30.68), (104.09, 30.66)])
    gcj = crs.transform_geometry(poly, "wgs84", "gcj02")
    coords = shapely.get_coordinates(poly)
    np.testing.assert_array_equal(
        shapely.get_coordinates(gcj), np.column_stack(crs.wgs84_to_gcj02(*coords.T))
    )
    back = crs.transform_geometry(crs.transform_geometry(gcj, "gcj02", "bd09"), "BD09", "wgs84")
    err = haversine_m(*coords.T, *shapely.get_coordinates(back).T)
    assert err.max() <= MM
    assert crs.transform_geometry(poly, "wgs84", "EPSG:4326") is poly


def test_constants():
    assert crs.SUPPORTED_CRS == ("wgs84", "cgcs2000", "gcj02", "bd09")
    assert (crs.WGS84, crs.CGCS2000, crs.UTM48N) == (4326, 4490, 32648)
