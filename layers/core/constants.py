"""Numbers and names that several rooms must agree on, written down once.

An SRID or a channel name spelled in two places drifts apart silently (a server
LISTENing on one name while the publish NOTIFYs another never hears of a new
grid), so every module reads them from here.  Plain values only: this module
imports nothing, so even the map pages may use it.
"""

from __future__ import annotations

WGS84 = 4326
"""SRID of WGS-84 longitude/latitude: the storage CRS of every geometry."""
CGCS2000 = 4490
"""SRID of CGCS2000 geographic coordinates (China's national frame)."""
UTM48N = 32648
"""SRID of UTM zone 48N: the default metric CRS for Chengdu, used to measure."""
WEB_MERCATOR = 3857
"""SRID of Web Mercator: the vector tiles' CRS (WebMercatorQuad)."""

GRID_PUBLISHED_CHANNEL = "wangge_grid_published"
"""The PostgreSQL NOTIFY channel a grid publish sends the new revision id on; servers LISTEN."""

GRID_NOISE_M = 0.05
"""Grid validation: the widest gap or overlap (m) treated as floating-point noise, not a problem."""
MIN_CELL_AREA_M2 = 100.0
"""Grid validation: a cell smaller than this (m²) is `too_small`."""
MIN_SLIVER_M2 = 1e-4
"""Live grid check: the smallest gap or overlap piece (m²) reported as a sliver."""

ADDRESSES_CHANGED_CHANNEL = "wangge_addresses_changed"
"""NOTIFY channel of every statement that changes `addresses` or `road_aliases` (migration 0026);
servers LISTEN and re-check the geocoder's address book."""

CASE_EVENTS_CHANNEL = "wangge_case_events"
"""NOTIFY channel a trigger on `incident_events` fires per statement, payload = the cases' ids
(comma-separated, or '*' for very many);
servers LISTEN and push the new events to the open case pages (Server-Sent Events)."""
