"""`wangge maps build NAME -o FILE.html`: write a map page to a file.

The page references its scripts and styles at `--static-url` (default: this
service's `/static`, e.g. http://127.0.0.1:8000/static), so open it while the
service runs, or copy `maps/static/` next to the file and pass `--static-url static`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from geo_api.settings import Settings
    from maps.base import PageOptions

app = typer.Typer(help="Map pages (Folium, offline).", no_args_is_help=True)


class PageName(StrEnum):
    """The five pages."""

    COVERAGE = "coverage"
    HOTSPOTS = "hotspots"
    WORKLOAD = "workload"
    RESIDENTS = "residents"
    DISPATCH = "dispatch"


def _page(name: PageName, session, settings: Settings, options: PageOptions, args: dict) -> str:
    from grids.cases.residents import resident_view
    from layers.analytics.coverage_report import resolve_scope
    from layers.analytics.trends import TrendQuery
    from layers.core.crs import to_wgs84
    from layers.core.map_types import HotspotQuery, QueueFilter
    from layers.core.now import system_clock
    from layers.map_data.dispatch_layers import dispatch_layers
    from layers.map_data.map_layers import (
        coverage_layers,
        hotspot_layers,
        outlines,
        workload_layers,
    )
    from maps import coverage, dispatch, hotspots, residents, workload

    a, now = settings.analytics, system_clock()
    if name is PageName.COVERAGE:
        scope = resolve_scope(session=session, street=args["street"], community=args["community"])
        data = coverage_layers(
            session=session, settings=a, srid=settings.metric_srid, scope=scope, actor="cli"
        )
        return coverage.build_page(data, options)
    if name is PageName.HOTSPOTS:
        query = HotspotQuery(resolution=a.h3_resolution, permutations=a.permutations, seed=a.seed)
        trend = TrendQuery(resolution=a.h3_resolution, interval="month", alpha=a.trend_alpha)
        data = hotspot_layers(
            session=session, query=query, trend=trend, limits=settings.limits, actor="cli"
        )
        return hotspots.build_page(data, options)
    if name is PageName.WORKLOAD:
        return workload.build_page(workload_layers(session=session, now=now), options)
    if name is PageName.DISPATCH:
        data = dispatch_layers(session=session, filters=QueueFilter(), now=now)
        return dispatch.build_page(data, options)
    if args["lon"] is None or args["lat"] is None:
        return residents.locate_page(outlines(session=session), options, "/maps/residents")
    lon, lat = to_wgs84(args["lon"], args["lat"], args["crs"])
    data = resident_view(session=session, lon=float(lon), lat=float(lat), now=now)
    return residents.build_page(data, options)


@app.command()
def build(
    name: PageName = typer.Argument(..., help="Which page."),
    output: Path = typer.Option(..., "-o", "--output", help="HTML file to write."),
    street: str = typer.Option(None, help="coverage: a street code."),
    community: str = typer.Option(None, help="coverage: a community code."),
    lon: float = typer.Option(None, help="residents: longitude."),
    lat: float = typer.Option(None, help="residents: latitude."),
    crs: str = typer.Option("wgs84", help="residents: CRS of lon/lat (wgs84, gcj02, bd09…)."),
    static_url: str = typer.Option(None, help="Where the page loads assets [service /static]."),
) -> None:
    """Build one map page and write it to a file; prints its size."""
    from geo_api.settings import Settings
    from layers.store.db import make_engine, make_sessionmaker, resolve_database_url, transaction
    from maps.base import PageOptions

    settings = Settings()
    options = PageOptions.from_settings(
        settings.maps, static_url or f"{settings.base_url()}/static"
    )
    engine = make_engine(resolve_database_url(settings.db, start=True), pool_size=1)
    args = {"street": street, "community": community, "lon": lon, "lat": lat, "crs": crs}
    try:
        with transaction(make_sessionmaker(engine)) as session:
            html = _page(name, session, settings, options, args)
    finally:
        engine.dispose()
    output.write_text(html, encoding="utf-8")
    typer.echo(f"{name.value}: {output} ({len(html.encode()) / 1e6:.2f} MB)")
