"""Coordinate conversion at the edge: WGS-84, CGCS2000, GCJ-02 and BD-09.

Everything inside wangge is stored in WGS-84 (EPSG:4326, degrees, lon/lat order);
inputs in another CRS are converted here, once, on the way in, and outputs on the
way out.  All converters are vectorised: ``f(lon, lat)`` takes degrees as scalars,
lists or arrays (broadcast together) and returns a ``(lon, lat)`` tuple of float64
arrays of the broadcast shape (0-d for scalar input), in degrees.

- GCJ-02 (Amap, Tencent, most Chinese phone apps) uses the well-known public
  forward formula on the Krasovsky ellipsoid.  Like every app, points outside
  the rough bounding box of China (72.004–137.8347 E, 0.8293–55.8271 N) are
  returned unchanged, in both directions.
- BD-09 (Baidu) is GCJ-02 plus Baidu's own published polar-coordinate shift,
  applied everywhere.
- The inverses (GCJ-02 → WGS-84, BD-09 → GCJ-02) have no closed form; a one-step
  inverse is ~0.8 m off in Chengdu, so they iterate the forward formula to a
  fixed point (1e-10°, well under 1 mm).
- CGCS2000 (EPSG:4490) ↔ WGS-84 goes through PROJ, which knows no published
  transformation between them and applies a null ("ballpark") one.  That is
  expected: the two frames differ by centimetres.

A coordinate that is NaN or infinite comes back as NaN in both outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar, overload

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

from layers.core.constants import CGCS2000, UTM48N, WGS84
from layers.core.errors import InvalidInputError

FloatArray = NDArray[np.float64]
LonLat = tuple[FloatArray, FloatArray]
G = TypeVar("G", bound=shapely.Geometry)

SUPPORTED_CRS = ("wgs84", "cgcs2000", "gcj02", "bd09")
"""CRS names accepted by `to_wgs84`, `from_wgs84` and `transform_geometry`."""

_ALIASES = {"epsg:4326": "wgs84", "epsg:4490": "cgcs2000"}
_KRASOVSKY_A = 6378245.0  # semi-major axis, metres
_KRASOVSKY_EE = 0.00669342162296594323  # first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_CHINA_BOX = (72.004, 137.8347, 0.8293, 55.8271)  # lon min/max, lat min/max
_TOL_DEG = 1e-10  # ~0.01 mm
_MAX_ITER = 30  # converges in 3–5 steps inside China; bounds the border cases


class UnknownCRSError(InvalidInputError, ValueError):
    """A CRS name that is not one of `SUPPORTED_CRS`."""

    code = "unknown_crs"

    def __init__(self, crs: object) -> None:
        supported = ", ".join(SUPPORTED_CRS)
        super().__init__(
            f"unknown CRS {crs!r}; supported: {supported} (also epsg:4326, epsg:4490)",
            crs=str(crs),
            supported=list(SUPPORTED_CRS),
        )


def _prepare(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray, tuple[int, ...]]:
    """Broadcast to flat float64 copies; non-finite pairs become NaN in both."""
    lon_b, lat_b = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    x, y = np.array(lon_b).ravel(), np.array(lat_b).ravel()
    bad = ~(np.isfinite(x) & np.isfinite(y))
    x[bad] = np.nan
    y[bad] = np.nan
    return x, y, lon_b.shape


def _gcj_forward(lon: FloatArray, lat: FloatArray) -> LonLat:
    """WGS-84 → GCJ-02 on flat arrays (the public formula)."""
    x, y = lon - 105.0, lat - 35.0
    sx, sxy = np.sqrt(np.abs(x)), x * y
    common = (20.0 * np.sin(6.0 * np.pi * x) + 20.0 * np.sin(2.0 * np.pi * x)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * sxy + 0.2 * sx + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * sxy + 0.1 * sx + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad) ** 2
    dlat = (dlat * 180.0) / (
        (_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * np.sqrt(magic)) * np.pi
    )
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / np.sqrt(magic) * np.cos(rad) * np.pi)
    lon_min, lon_max, lat_min, lat_max = _CHINA_BOX
    inside = (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)
    # Outside the box the point is returned unchanged; NaN stays NaN either way.
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def _bd_forward(lon: FloatArray, lat: FloatArray) -> LonLat:
    """GCJ-02 → BD-09 on flat arrays (Baidu's published formula)."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(
    forward: Callable[[FloatArray, FloatArray], LonLat], tx: FloatArray, ty: FloatArray
) -> LonLat:
    """Solve ``forward(x, y) == (tx, ty)`` by fixed-point iteration, starting at the target.

    The first step is the usual one-step inverse; later steps only touch the points
    whose residual is still above the tolerance, so NaN input (never "active")
    and border cases (bounded by ``_MAX_ITER``) cannot hang it.
    """
    x, y = tx.copy(), ty.copy()
    active = np.flatnonzero(np.isfinite(tx) & np.isfinite(ty))
    for _ in range(_MAX_ITER):
        if active.size == 0:
            break
        fx, fy = forward(x[active], y[active])
        ex, ey = tx[active] - fx, ty[active] - fy
        x[active] += ex
        y[active] += ey
        active = active[(np.abs(ex) > _TOL_DEG) | (np.abs(ey) > _TOL_DEG)]
    return x, y


def _public(
    fn: Callable[[FloatArray, FloatArray], LonLat], lon: ArrayLike, lat: ArrayLike
) -> LonLat:
    """Apply a flat-array conversion to any input shape."""
    x, y, shape = _prepare(lon, lat)
    ox, oy = fn(x, y)
    return ox.reshape(shape), oy.reshape(shape)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS-84 lon/lat (degrees) to GCJ-02 lon/lat (degrees).

    Notes
    -----
    Points outside China's rough bounding box are returned unchanged.
    """
    return _public(_gcj_forward, lon, lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 lon/lat (degrees) to WGS-84 lon/lat (degrees), iteratively.

    Notes
    -----
    Fixed-point iteration of the forward formula to 1e-10°: well under 1 mm inside
    China.  Points outside China's rough bounding box are returned unchanged.
    """
    return _public(lambda x, y: _invert(_gcj_forward, x, y), lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 lon/lat (degrees) to BD-09 lon/lat (degrees)."""
    return _public(_bd_forward, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert BD-09 lon/lat (degrees) to GCJ-02 lon/lat (degrees), iteratively (< 1 mm)."""
    return _public(lambda x, y: _invert(_bd_forward, x, y), lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS-84 lon/lat (degrees) to BD-09 lon/lat (degrees) through GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert BD-09 lon/lat (degrees) to WGS-84 lon/lat (degrees) through GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


@lru_cache(maxsize=16)
def _transformer(src: int, dst: int) -> Transformer:
    """Cached lon/lat-ordered PROJ transformer (thread-safe since pyproj 3.1)."""
    return Transformer.from_crs(src, dst, always_xy=True)


def _proj(src: int, dst: int, x: ArrayLike, y: ArrayLike) -> LonLat:
    """Run a cached PROJ transform and return float64 arrays."""
    fx, fy, shape = _prepare(x, y)
    ox, oy = (np.asarray(v, dtype=np.float64) for v in _transformer(src, dst).transform(fx, fy))
    return ox.reshape(shape), oy.reshape(shape)


def cgcs2000_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert CGCS2000 (EPSG:4490) lon/lat to WGS-84 (EPSG:4326) lon/lat, degrees.

    Notes
    -----
    PROJ applies a null (ballpark) transformation: the frames differ by centimetres.
    """
    return _proj(CGCS2000, WGS84, lon, lat)


def wgs84_to_cgcs2000(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS-84 (EPSG:4326) lon/lat to CGCS2000 (EPSG:4490) lon/lat, degrees (null op)."""
    return _proj(WGS84, CGCS2000, lon, lat)


def to_metric(lon: ArrayLike, lat: ArrayLike, srid: int = UTM48N) -> LonLat:
    """Project WGS-84 lon/lat (degrees) to the metric CRS `srid` (x/y in metres)."""
    return _proj(WGS84, srid, lon, lat)


def from_metric(x: ArrayLike, y: ArrayLike, srid: int = UTM48N) -> LonLat:
    """Unproject metric x/y (metres, CRS `srid`) to WGS-84 lon/lat (degrees)."""
    return _proj(srid, WGS84, x, y)


def _normalise(crs: str) -> str:
    """Canonical name for a CRS name or alias, case-insensitive."""
    name = crs.strip().lower() if isinstance(crs, str) else ""
    name = _ALIASES.get(name, name)
    if name not in SUPPORTED_CRS:
        raise UnknownCRSError(crs)
    return name


def _same(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """WGS-84 to WGS-84: a float64 copy, non-finite pairs made NaN like everywhere else."""
    return _public(lambda x, y: (x, y), lon, lat)


_TO_WGS84 = {
    "wgs84": _same,
    "cgcs2000": cgcs2000_to_wgs84,
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}
_FROM_WGS84 = {
    "wgs84": _same,
    "cgcs2000": wgs84_to_cgcs2000,
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
}


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> LonLat:
    """Convert lon/lat (degrees) in `crs` (a `SUPPORTED_CRS` name or EPSG alias) to WGS-84.

    Raises `UnknownCRSError` for any other `crs`.
    """
    return _TO_WGS84[_normalise(crs)](lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> LonLat:
    """Convert WGS-84 lon/lat (degrees) to `crs` (a `SUPPORTED_CRS` name or EPSG alias).

    Raises `UnknownCRSError` for any other `crs`.
    """
    return _FROM_WGS84[_normalise(crs)](lon, lat)


@overload
def transform_geometry(geom: G, from_crs: str, to_crs: str) -> G: ...
@overload
def transform_geometry(
    geom: NDArray[np.object_], from_crs: str, to_crs: str
) -> NDArray[np.object_]: ...
def transform_geometry(
    geom: G | NDArray[np.object_], from_crs: str, to_crs: str
) -> G | NDArray[np.object_]:
    """Convert a shapely geometry's lon/lat coordinates from `from_crs` to `to_crs`.

    Parameters
    ----------
    geom : shapely.Geometry or array of them
        Geometry with lon/lat coordinates in degrees.
    from_crs, to_crs : str
        Names from `SUPPORTED_CRS` (or their EPSG aliases); converted through WGS-84.
        Only x/y are converted; a z coordinate is dropped.

    Raises
    ------
    UnknownCRSError
        If either CRS is not supported.
    """
    src, dst = _normalise(from_crs), _normalise(to_crs)
    if src == dst:
        return geom

    def convert(coords: FloatArray) -> FloatArray:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], src)
        return np.column_stack(from_wgs84(lon, lat, dst))

    return shapely.transform(geom, convert)
