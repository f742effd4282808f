"""The CRSs the feature API speaks (OGC API – Features Part 2), by URI, with axis order.

Storage is EPSG:4326 with longitude first, which is what OGC calls CRS84.  The
EPSG definitions of 4326 and 4490 put latitude first, so output (and `bbox`,
`filter` input) in those CRSs swaps the axes; projected CRSs are easting/northing.
"""

from __future__ import annotations

from dataclasses import dataclass

from layers.core.constants import CGCS2000, UTM48N, WEB_MERCATOR, WGS84
from layers.core.errors import InvalidInputError

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG_PREFIX = "http://www.opengis.net/def/crs/EPSG/0/"


@dataclass(frozen=True)
class OutputCrs:
    """A CRS clients may ask for: its URI, PostGIS SRID, axis order and useful precision."""

    uri: str
    srid: int
    lat_first: bool
    decimals: int

    @property
    def geographic(self) -> bool:
        """Degrees (wraps at the antimeridian) rather than metres."""
        return self.srid in (WGS84, CGCS2000)


CRS84 = OutputCrs(CRS84_URI, WGS84, lat_first=False, decimals=7)
SUPPORTED: tuple[OutputCrs, ...] = (
    CRS84,
    OutputCrs(f"{_EPSG_PREFIX}{WGS84}", WGS84, lat_first=True, decimals=7),
    OutputCrs(f"{_EPSG_PREFIX}{CGCS2000}", CGCS2000, lat_first=True, decimals=7),
    OutputCrs(f"{_EPSG_PREFIX}{UTM48N}", UTM48N, lat_first=False, decimals=3),
    OutputCrs(f"{_EPSG_PREFIX}{WEB_MERCATOR}", WEB_MERCATOR, lat_first=False, decimals=3),
)
SUPPORTED_URIS: tuple[str, ...] = tuple(c.uri for c in SUPPORTED)
_BY_URI = {c.uri: c for c in SUPPORTED}


def _canonical(value: str) -> str:
    """Map the spellings clients use (CURIEs, https, `EPSG:n`) to the canonical URI."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.replace("https://", "http://", 1)
    upper = text.upper()
    if upper in {"CRS84", "OGC:CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84"}:
        return CRS84_URI
    for prefix in ("EPSG:", "URN:OGC:DEF:CRS:EPSG::", "URN:OGC:DEF:CRS:EPSG:0:"):
        if upper.startswith(prefix) and text[len(prefix) :].isdigit():
            return _EPSG_PREFIX + text[len(prefix) :]
    return text


def parse_crs(value: str | None, parameter: str = "crs") -> OutputCrs:
    """The supported CRS named by `value` (default CRS84); 400 `invalid_crs` otherwise."""
    if value is None or value == "":
        return CRS84
    found = _BY_URI.get(_canonical(value))
    if found is None:
        raise InvalidInputError(
            f"{parameter}: unsupported CRS {value!r}; supported: {', '.join(SUPPORTED_URIS)}",
            code="invalid_crs",
            parameter=parameter,
            supported=list(SUPPORTED_URIS),
        )
    return found
