"""`wangge base import SOURCE FILE --class …`: a department's file into the base-data centre."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from geo_api.settings import Settings
    from layers.base_data.importing import ImportResult

app = typer.Typer(help="The base-data centre (一标三实): departments' files.", no_args_is_help=True)


class BaseClassOption(StrEnum):
    """The classes a file may hold."""

    persons = "persons"
    dwellings = "dwellings"
    units = "units"
    addresses = "addresses"


FILE_HELP = "CSV (UTF-8/GB18030), XLSX; addresses also GeoPackage, Shapefile (.shp or zipped)."


@app.command("import")
def import_(
    source: str = typer.Argument(
        ..., help="The supplying source's code (police, civil_affairs, …)."
    ),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help=FILE_HELP),
    base_class: BaseClassOption = typer.Option(..., "--class", help="What the file holds."),
    rejects: Path = typer.Option(
        None, help="Where the rejected rows go (row, reason, detail) [default: FILE.rejects.csv]."
    ),
    skip_rejects: bool = typer.Option(
        False, "--skip-rejects", help="Import the good rows even when some are rejected."
    ),
) -> None:
    """Import one file, all or nothing; the same file twice imports nothing new."""
    from geo_api.settings import Settings
    from layers.base_data.importing import FileRejectedError
    from layers.base_data.rejects import rejects_csv
    from layers.core.errors import WanggeError
    from layers.store.db import make_engine, resolve_database_url

    settings = Settings()
    engine = make_engine(resolve_database_url(settings.db, start=True), pool_size=1)
    rejects = rejects or file.with_name(file.name + ".rejects.csv")
    try:
        result = _import(engine, settings, source, file, base_class, skip_rejects)
    except FileRejectedError as exc:
        rejects.write_bytes(rejects_csv(exc.result.rejects))
        typer.secho(f"{exc.message} (see {rejects})", fg="red", err=True)
        raise typer.Exit(2) from exc
    except WanggeError as exc:  # an unreadable file, an unknown source: nothing was written
        typer.secho(f"{exc.message} ({exc.code})", fg="red", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    if result.already:
        typer.echo(f"{file.name} was imported before from {source}: nothing new")
        return
    if result.rejects:
        rejects.write_bytes(rejects_csv(result.rejects))
    _summary(result)


def _import(
    engine: Engine,
    settings: Settings,
    source: str,
    file: Path,
    base_class: BaseClassOption,
    skip_rejects: bool,
) -> ImportResult:
    """The import in one transaction; persons also recount the grid cells' figures."""
    from grids.base_data.cell_figures import refresh_cell_figures
    from layers.base_data.importing import import_file
    from layers.core.now import system_clock
    from layers.core.roles import Role
    from layers.store.db import make_sessionmaker, transaction

    with transaction(make_sessionmaker(engine)) as session:
        result = import_file(
            session=session,
            source=source,
            base_class=base_class.value,
            name=_name(file),
            data=_content(file),
            actor="wangge base import",
            role=Role.ADMIN,
            now=system_clock(),
            skip_rejects=skip_rejects,
        )
        if base_class is BaseClassOption.persons and not result.already:
            cells = refresh_cell_figures(
                session=session, tolerance_m=settings.cases.locate_tolerance_m
            )
            typer.echo(f"  grid cells recounted: {cells:,} changed")
    return result


def _name(file: Path) -> str:
    """A Shapefile is read as the zip of its parts (`.shp`, `.shx`, `.dbf`, `.prj`, …)."""
    return file.name + ".zip" if file.suffix.lower() == ".shp" else file.name


def _content(file: Path) -> bytes:
    """The file's bytes; for a `.shp`, a zip of it and its sibling parts (the hash covers all)."""
    if file.suffix.lower() != ".shp":
        return file.read_bytes()
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for part in sorted(file.parent.glob(file.stem + ".*")):
            if part.suffix.lower() in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                info = zipfile.ZipInfo(part.name, date_time=(1980, 1, 1, 0, 0, 0))
                z.writestr(info, part.read_bytes())
    return out.getvalue()


def _summary(result: ImportResult) -> None:
    """Rows/s per stage, then what the file gave."""
    for stage, seconds in result.stages.items():
        typer.echo(
            f"  {stage:<16} {result.rows / max(seconds, 1e-9):>12,.0f} rows/s ({seconds:.2f} s)"
        )
    typer.echo(
        f"{result.rows:,} rows ({result.encoding}): {result.created:,} created, "
        f"{result.merged:,} merged, {len(result.rejects):,} rejected"
    )
