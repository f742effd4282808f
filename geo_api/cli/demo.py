"""`wangge demo load`: the demo district (Chenghua, adcode 510108)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from geo_api.settings import Settings

app = typer.Typer(help="The demo district.", no_args_is_help=True)


def keys_path(settings: Settings) -> Path:
    """Where the demo keys go: `$WANGGE_HOME/demo-keys.json`."""
    return settings.db.home.expanduser().absolute() / "demo-keys.json"


@app.command()
def load(
    seed: int = typer.Option(2017, help="Random seed; the same seed gives the same district."),
    scale: float = typer.Option(
        1.0, min=0.001, max=1.0, help="1 = the published figures; 0.05 for quick tests."
    ),
    replace: bool = typer.Option(False, "--replace", help="Replace a loaded district atomically."),
    if_missing: bool = typer.Option(
        False, "--if-missing", help="Do nothing (exit 0) when a district is already loaded."
    ),
    now: datetime = typer.Option(
        None, help="End of the 11 months of history (ISO time) [default: now]."
    ),
    city: bool = typer.Option(
        False, "--city", help="A city: the five real central districts and generated neighbours."
    ),
    districts: int = typer.Option(20, min=1, max=40, help="With --city: how many districts."),
    years: int = typer.Option(3, min=1, max=10, help="With --city: years of cases."),
    workers: int = typer.Option(2, min=1, max=16, help="With --city: generator processes."),
) -> None:
    """Generate and load the demo district (or, with --city, a city); refuses when one is
    loaded, unless --replace."""
    if city:
        _load_city(districts, years, scale, seed, now, replace, workers)
        return
    from geo_api.settings import Settings
    from layers.demo.build import Progress
    from layers.demo.load import DemoOptions, is_loaded, load_demo
    from layers.store.db import make_engine, make_sessionmaker, resolve_database_url

    settings = Settings()
    url = resolve_database_url(settings.db, start=True)
    engine = make_engine(url, pool_size=1)
    report = Progress(typer.echo)
    try:
        with make_sessionmaker(engine)() as session:
            if if_missing and is_loaded(session.connection()):
                typer.echo("the demo district is already loaded (use --replace to reload it)")
                return
            written = load_demo(
                session=session,
                options=DemoOptions(seed=seed, scale=scale, now=now, replace=replace),
                keys_path=keys_path(settings),
                report=report,
            )
    finally:
        engine.dispose()
    summary = ", ".join(f"{k} {v:,}" for k, v in written.items())
    typer.echo(f"demo district loaded: {summary}")


def _load_city(
    districts: int,
    years: int,
    scale: float,
    seed: int,
    now: datetime | None,
    replace: bool,
    workers: int,
) -> None:
    """`demo load --city`: generate and write the city, printing progress and the time."""
    import time

    from geo_api.settings import Settings
    from layers.demo.build import Progress
    from layers.demo.city_load import CityOptions, load_city
    from layers.store.db import make_engine, make_sessionmaker, resolve_database_url

    started = time.perf_counter()
    settings = Settings()
    engine = make_engine(resolve_database_url(settings.db, start=True), pool_size=1)
    options = CityOptions(districts, years, scale, seed, now, replace, workers)
    try:
        with make_sessionmaker(engine)() as session:
            written = load_city(
                session=session,
                options=options,
                keys_path=keys_path(settings),
                report=Progress(typer.echo),
            )
    finally:
        engine.dispose()
    summary = ", ".join(f"{k} {v:,}" for k, v in written.items())
    typer.echo(f"demo city loaded in {time.perf_counter() - started:.1f} s: {summary}")
