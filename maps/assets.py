"""Where each front-end asset of the map pages is served: local URLs only, never a CDN.

`maps/static/vendor.txt` pins the npm packages (fetched by `scripts/fetch-assets.sh`
into `maps/static/vendor/`); Folium's own asset names map onto files in them.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Served under /static by the service."""
VENDOR_DIR = STATIC_DIR / "vendor"
MANIFEST = STATIC_DIR / "vendor.txt"

# Folium's asset name -> (npm package, path inside it); own files are under wangge/.
_FILES = {
    "leaflet": ("leaflet", "dist/leaflet.js"),
    "leaflet_css": ("leaflet", "dist/leaflet.css"),
    "jquery": ("jquery", "dist/jquery.min.js"),
    "bootstrap": ("bootstrap", "dist/js/bootstrap.bundle.min.js"),
    "bootstrap_css": ("bootstrap", "dist/css/bootstrap.min.css"),
    "awesome_markers": ("leaflet.awesome-markers", "dist/leaflet.awesome-markers.js"),
    "awesome_markers_css": ("leaflet.awesome-markers", "dist/leaflet.awesome-markers.css"),
    "awesome_markers_font_css": ("@fortawesome/fontawesome-free", "css/all.min.css"),
    "markerclusterjs": ("leaflet.markercluster", "dist/leaflet.markercluster.js"),
    "markerclustercss": ("leaflet.markercluster", "dist/MarkerCluster.css"),
    "markerclusterdefaultcss": ("leaflet.markercluster", "dist/MarkerCluster.Default.css"),
    "echarts": ("echarts", "dist/echarts.min.js"),
    "geoman": ("@geoman-io/leaflet-geoman-free", "dist/leaflet-geoman.min.js"),
    "geoman_css": ("@geoman-io/leaflet-geoman-free", "dist/leaflet-geoman.css"),
}
_OWN = {
    "awesome_rotate_css": "wangge/awesome-rotate.css",
    "wangge_css": "wangge/wangge.css",
    "wangge_js": "wangge/wangge.js",
    "wangge_basemap_js": "wangge/basemap.js",
    "wangge_faces_css": "wangge/faces.css",
    "wangge_report_js": "wangge/report.js",
    "wangge_address_js": "wangge/address-search.js",
    "wangge_status_js": "wangge/case-status.js",
    "wangge_mycase_js": "wangge/mycase.js",
    "wangge_handheld_js": "wangge/handheld.js",
    "wangge_here_js": "wangge/records-here.js",
    "wangge_handheld_rota_js": "wangge/handheld-rota.js",
    "wangge_board_js": "wangge/board.js",
    "wangge_board_dots_js": "wangge/board-dots.js",
    "wangge_board_css": "wangge/board.css",
    "wangge_board_actions_js": "wangge/board-actions.js",
    "wangge_dashboard_js": "wangge/dashboard.js",
    "wangge_dashboard_css": "wangge/dashboard.css",
    "wangge_planning_editor_js": "wangge/planning-editor.js",
    "wangge_planning_editor_css": "wangge/planning-editor.css",
    "wangge_planning_draw_js": "wangge/planning-editor-draw.js",
    "wangge_planning_panels_js": "wangge/planning-editor-panels.js",
}
DROPPED = frozenset({"glyphicons_css"})
"""Folium assets no page uses (Bootstrap 3 glyphicons): left out rather than fetched."""


def pinned_versions(manifest: Path = MANIFEST) -> dict[str, str]:
    """npm package -> pinned version, from the manifest."""
    out = {}
    for line in manifest.read_text().splitlines():
        parts = line.split()
        if parts and not parts[0].startswith("#"):
            out[parts[0]] = parts[1]
    return out


def asset_urls(static_url: str = "/static") -> dict[str, str]:
    """Folium asset name -> URL under `static_url`."""
    base = static_url.rstrip("/")
    versions = pinned_versions()
    urls = {
        name: f"{base}/vendor/{pkg}@{versions[pkg]}/{path}" for name, (pkg, path) in _FILES.items()
    }
    urls.update({name: f"{base}/{path}" for name, path in _OWN.items()})
    return urls


def missing_assets() -> list[str]:
    """Asset files not on disk (run `make setup`, which runs scripts/fetch-assets.sh)."""
    prefix = "/static/"
    return [
        url
        for url in asset_urls(prefix).values()
        if not (STATIC_DIR / url.removeprefix(prefix)).is_file()
    ]
