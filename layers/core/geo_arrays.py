"""Arrays of shapely geometries, typed: the one narrowing of shapely's vectorised answers.

Shapely's stubs type `shapely.points(x, y)` and its kin as "a geometry or an array",
since they cannot tell a 1-d array argument from a scalar one; every caller here passes
arrays, and `geo_array` says so once instead of each caller asserting it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

GeoArray = NDArray[np.object_]
"""A 1-d numpy array of shapely geometries (dtype object)."""


def geo_array(values: object) -> GeoArray:
    """`values`, the answer of a vectorised shapely call on arrays, as the array it is."""
    assert isinstance(values, np.ndarray), f"expected an array of geometries, got {type(values)}"
    return values
