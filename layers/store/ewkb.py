"""Hex EWKB of many points at once, for COPY into geometry columns.

Building a million shapely points, setting their SRID and serialising them
costs seconds; the bytes of a 2-D point are a fixed header and two float64s,
so numpy writes them directly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from layers.core.constants import WGS84


def points_ewkb_hex(lon: ArrayLike, lat: ArrayLike, srid: int = WGS84) -> np.ndarray:
    """Hex EWKB (little-endian, with SRID) of each (lon, lat) point, as an object array."""
    xy = np.column_stack([np.asarray(lon, "<f8"), np.asarray(lat, "<f8")])
    header = (
        (b"\x01" + (0x20000001).to_bytes(4, "little") + srid.to_bytes(4, "little")).hex().upper()
    )
    body = xy.tobytes().hex().upper()
    out = np.empty(len(xy), dtype=object)
    out[:] = [header + body[i : i + 32] for i in range(0, len(body), 32)]
    return out
