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
) -> None:
    """Generate and load the demo district; refuses when one is loaded, unless --replace."""
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
