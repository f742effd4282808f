"""`wangge export` and `wangge import`: the district's layers to and from GIS files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from layers.core.errors import UnprocessableError
from layers.core.roles import Role
from layers.ogc.collection_ids import COLLECTION_IDS

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

_NAMED = {"wgs84": "CRS84", "cgcs2000": "EPSG:4490", "gcj02": "CRS84", "bd09": "CRS84"}
"""Files are always x/y (lon/lat); GCJ-02 and BD-09 are WGS-84 shifted by `layers.core.crs`."""


def _sessions() -> tuple[Engine, sessionmaker[Session]]:
    from geo_api.settings import Settings
    from layers.store.db import make_engine, make_sessionmaker, resolve_database_url

    settings = Settings()
    engine = make_engine(resolve_database_url(settings.db, start=True), pool_size=1)
    return engine, make_sessionmaker(engine)


def export(
    collection: str = typer.Argument(..., help=f"One of: {', '.join(COLLECTION_IDS)}."),
    output: Path = typer.Option(..., "-o", "--output", help="File to write."),
    fmt: str = typer.Option(
        None, "--format", help="gpkg|shp|fgb|parquet|csv|geojson [default: from the suffix]."
    ),
    crs: str = typer.Option(
        "wgs84", help="wgs84, cgcs2000, gcj02, bd09, or EPSG:4326/4490/32648/3857."
    ),
    bbox: str = typer.Option(None, help="minlon,minlat,maxlon,maxlat (WGS-84)."),
    cql: str = typer.Option(None, "--filter", help="CQL2 text filter."),
    role: str = typer.Option(
        Role.PLANNER,
        help="Export as this role (admin/dispatcher include reporter contacts, audited; "
        "a grid_worker, bound to no worker here, gets no cases).",
    ),
) -> None:
    """Export a collection to a GIS file (Chinese text intact; Shapefiles get a UTF-8 .cpg).

    Progress goes to stderr (every 5,000 rows read, then the writing), the summary to stdout.
    """
    from layers.ogc.case_rows import audit_personal_read
    from layers.ogc.file_export import export_to_file, file_format
    from layers.ogc.params import parse_items_query
    from layers.ogc.registry import get_collection
    from layers.tables.case_scope import Viewer

    file_fmt = file_format(fmt or output.suffix.lstrip(".") or "gpkg")
    shift = crs.lower() if crs.lower() in ("gcj02", "bd09") else None
    params = {"bbox": bbox or "", "filter": cql or "", "crs": _NAMED.get(crs.lower(), crs)}
    chosen = get_collection(collection, role)
    q = parse_items_query({k: v for k, v in params.items() if v}, chosen, role)
    engine, sessions = _sessions()
    try:
        with sessions() as session:
            ids: list[int] = []
            n = export_to_file(
                session=session,
                collection=chosen,
                q=q,
                role=role,
                fmt=file_fmt,
                path=output,
                shift_to=shift,
                exported_ids=ids,
                report=lambda line: typer.echo(line, err=True),
            )
            audit_personal_read(
                session=session,
                collection=chosen,
                fields=chosen.visible_fields(role),
                ids=ids,
                viewer=Viewer(role, "cli"),
                face=f"cli.export.{file_fmt.suffix.lstrip('.')}",
                now=None,
            )
            session.commit()
    finally:
        engine.dispose()
    typer.echo(f"wrote {n:,} {collection} features to {output}")


def import_(
    collection: str = typer.Argument(..., help="service_points, courtyards, buildings, cameras."),
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="File to read."),
    crs: str = typer.Option(
        None, help="Coordinates are lon/lat in wgs84|cgcs2000|gcj02|bd09 (overrides the file)."
    ),
    replace: bool = typer.Option(False, "--replace", help="Make the collection equal the file."),
    append: bool = typer.Option(False, "--append", help="Add the file's rows (the default)."),
    encoding: str = typer.Option(None, help="Text encoding of legacy files, e.g. GBK."),
    layer: str = typer.Option(None, help="Layer of a multi-layer file."),
    report_file: Path = typer.Option(None, "--report", help="Write the bad-row report (JSON)."),
) -> None:
    """Import a GIS file atomically: all rows valid, or nothing written and every bad row listed."""
    from layers.ogc.file_import import import_file
    from layers.store.db import transaction

    if replace and append:
        raise typer.BadParameter("use --replace or --append, not both")
    engine, sessions = _sessions()
    try:
        with transaction(sessions) as session:
            result = import_file(
                session=session,
                collection_id=collection,
                path=path,
                mode="replace" if replace else "append",
                crs=crs,
                encoding=encoding,
                layer=layer,
                actor="cli import",
                report=typer.echo,
            )
    except UnprocessableError as exc:
        _print_problems(exc.details.get("rows", []), report_file)
        raise
    finally:
        engine.dispose()
    typer.echo(
        f"imported {path.name} into {collection}: {result.inserted:,} inserted, "
        f"{result.updated:,} updated, {result.deleted:,} deleted"
    )


def _print_problems(rows: list[dict], report_file: Path | None) -> None:
    for row in rows:
        reasons = "; ".join(f"{p['field']} {p['reason']}" for p in row["problems"])
        typer.secho(f"row {row['row']}: {reasons}", fg="red", err=True)
    if report_file is not None:
        report_file.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
