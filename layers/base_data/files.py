"""Reading the departments' files: CSV in UTF-8 or GB18030 (detected), XLSX, and their mapping.

Departments export from Excel and from old systems: a CSV is UTF-8 (often with a
BOM) or GB18030 (GBK's superset), never announced; an XLSX is read with the
standard library (`layers.base_data.xlsx`).  Which header means which field is
not code but a small TOML file per deployment (`mappings.toml`).
"""

from __future__ import annotations

import csv
import io
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from layers.base_data.xlsx import read_xlsx
from layers.core.errors import InvalidInputError

DEFAULT_MAPPINGS = Path(__file__).with_name("mappings.toml")


class MappingSettings(BaseSettings):
    """Where the column mappings are (`WANGGE_BASE_MAPPINGS`)."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_", extra="ignore")

    base_mappings: Path = Field(default=DEFAULT_MAPPINGS, description="The mappings TOML file.")


@dataclass(frozen=True)
class Mapping:
    """Header → field, and per field the words → codes."""

    columns: dict[str, str]
    values: dict[str, dict[str, str]] = field(default_factory=dict)


def mapping_for(source: str, base_class: str, path: Path | None = None) -> Mapping:
    """The source's own mapping of the class, else the default one."""
    doc = tomllib.loads((path or MappingSettings().base_mappings).read_text("utf-8"))
    table = doc.get(source, {}).get(base_class) or doc.get("default", {}).get(base_class)
    if table is None:
        raise InvalidInputError(f"no column mapping for {source}.{base_class}", code="no_mapping")
    return Mapping(dict(table["columns"]), {k: dict(v) for k, v in table.get("values", {}).items()})


def decode(data: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-8 (BOM or not) when it decodes, else GB18030."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            "the file is neither UTF-8 nor GB18030 text", code="bad_encoding"
        ) from exc


SPATIAL = (".gpkg", ".shp.zip", ".zip", ".geojson")
"""Files read with GDAL (pyogrio): a GeoPackage, a zipped Shapefile, GeoJSON."""


def _cell(value: object) -> str:
    """An attribute as text: empty for none/NaN, `140` (not `140.0`) for a whole number."""
    if value is None or value != value:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_spatial(name: str, data: bytes) -> tuple[list[str], list[list[str]]]:
    """The attributes and the point (as `lon`, `lat` in WGS 84) of every feature.

    A feature without a point geometry gets empty `lon`/`lat` (its row is then
    refused with a reason, like any row without a point).
    """
    import pyogrio  # GDAL: loaded only for the files that need it

    suffix = ".zip" if name.lower().endswith(".zip") else Path(name).suffix.lower()
    with tempfile.TemporaryDirectory() as tmp:  # GDAL picks the driver by the file's extension
        path = Path(tmp) / f"file{suffix}"
        path.write_bytes(data)
        try:
            frame = pyogrio.read_dataframe(path)
        except Exception as exc:  # GDAL says "not recognised" in many ways
            raise InvalidInputError(
                "GDAL cannot read the file", code="bad_file", detail=str(exc)
            ) from exc
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    rows = []
    for values, geom in zip(frame[columns].itertuples(index=False), frame.geometry, strict=True):
        point = geom is not None and not geom.is_empty and geom.geom_type == "Point"
        cells = [_cell(v) for v in values]
        rows.append([*cells, repr(geom.x) if point else "", repr(geom.y) if point else ""])
    return [*columns, "lon", "lat"], rows


def read_table(name: str, data: bytes) -> tuple[list[str], list[list[str]], str]:
    """Header, rows (as strings) and the encoding of a CSV, XLSX or spatial file."""
    if name.lower().endswith(SPATIAL):
        header, rows = read_spatial(name, data)
        return header, rows, "gdal"
    if name.lower().endswith(".xlsx"):
        header, *rows = read_xlsx(data)
        return header, rows, "xlsx"
    text, encoding = decode(data)
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration as exc:
        raise InvalidInputError("the file is empty", code="empty_file") from exc
    return header, [row for row in reader if any(cell.strip() for cell in row)], encoding


def mapped_rows(header: list[str], rows: list[list[str]], mapping: Mapping) -> list[dict[str, str]]:
    """Each row as field → value (words mapped to codes; unmapped columns dropped)."""
    fields = [mapping.columns.get(h) for h in header]
    if not any(fields):
        raise InvalidInputError(
            "no column of the file is in the mapping", code="no_mapped_columns", header=header
        )
    out = []
    for row in rows:
        rec: dict[str, str] = {}
        for name, cell in zip(fields, row, strict=False):
            if name is not None and cell.strip():
                value = cell.strip()
                rec[name] = mapping.values.get(name, {}).get(value, value)
        out.append(rec)
    return out
