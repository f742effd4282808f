"""What `wangge serve` prints first: the URLs a person opens, and where the keys are."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from geo_api.access import api_routes

ENTRY_POINTS = (
    ("/docs", "API documentation (try it out)"),
    ("/health", "health check"),
    ("/maps/residents", "resident map (public)"),
    ("/report", "report a problem on the map (residents, public)"),
    ("/services/catalogue", "public service catalogue (public)"),
    ("/services/desk", "station desk: the day's appointments, proxy tasks (staff)"),
    ("/maps/coverage", "camera coverage and gaps (staff)"),
    ("/maps/hotspots", "incident hotspots and trends (staff)"),
    ("/maps/workload", "grid workload (staff)"),
    ("/maps/dispatch", "dispatcher map (dispatcher)"),
    ("/board", "live dispatch board (dispatcher)"),
    ("/dashboard", "leader's dashboard: the KPIs as charts (dispatcher, planner, admin)"),
    ("/handheld", "grid worker's handheld page (grid worker)"),
    ("/maps/self-governance", "courtyard duty rota and social organisations (staff)"),
    ("/ogc", "OGC API - Features landing page (QGIS, GDAL: OAPIF:<url>)"),
    ("/open311/v2/discovery.json", "Open311 GeoReport v2 discovery"),
    ("/dispatch/queue", "dispatch queue (dispatcher)"),
    ("/planning/revisions", "planning revisions (planner)"),
)


def banner(app: FastAPI, base_url: str, keys_file: Path) -> str:
    """A short block of text listing the entry points this build of the app offers."""
    paths = {route.path for route in api_routes(app.routes)} | {"/docs"}
    lines = ["", "wangge is up. Open:"]
    for path, what in ENTRY_POINTS:
        if path in paths or path.replace(".json", ".{fmt}") in paths:
            lines.append(f"  {base_url}{path:<30}  {what}")
    if keys_file.exists():
        lines.append(f"Staff API keys (Authorization: Bearer <key>): {keys_file}")
    else:
        lines.append("No demo keys yet: `wangge demo load` writes them to " + str(keys_file))
    lines.append("Stop with Ctrl-C; the database keeps running (`wangge db stop`).")
    return "\n".join(lines) + "\n"
