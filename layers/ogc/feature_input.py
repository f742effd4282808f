"""Read a GeoJSON feature (or a merge patch) sent by a client into a `RowInput` in WGS-84.

The body's CRS comes from `Content-Crs` (Part 4); axes are swapped for the
latitude-first CRSs and projected coordinates are unprojected with PROJ.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.constants import WGS84
from layers.core.errors import InvalidInputError
from layers.ogc.crs_uris import CRS84, OutputCrs
from layers.ogc.registry import Collection
from layers.ogc.rows import RowInput
from layers.ogc.validate import parse_geojson_geometry
from layers.store.sql import quote_ident


@lru_cache(maxsize=8)
def _to_wgs84(srid: int) -> Transformer:
    return Transformer.from_crs(srid, WGS84, always_xy=True)


def to_storage(geom: BaseGeometry | None, crs: OutputCrs) -> BaseGeometry | None:
    """A geometry given in `crs` as stored: WGS-84, longitude first."""
    if geom is None:
        return None
    if crs.lat_first:
        geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
    if crs.srid != WGS84:
        transformer = _to_wgs84(crs.srid)

        def convert(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

        geom = shapely.transform(geom, convert)
    return geom


def _not_a_feature(why: str) -> InvalidInputError:
    return InvalidInputError(f"the body is not a GeoJSON Feature: {why}", code="invalid_feature")


def feature_to_row(
    feature: Any, crs: OutputCrs, collection: Collection, number: int = 1
) -> RowInput:
    """A client's Feature as a row to validate (problems are collected, not raised)."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _not_a_feature('expected {"type": "Feature", ...}')
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise _not_a_feature("properties must be an object")
    properties = dict(properties)
    geom, problems = parse_geojson_geometry(feature.get("geometry"))
    extra: dict[str, BaseGeometry | None] = {}
    for name in collection.extra_geometries:
        value, found = parse_geojson_geometry(properties.pop(name, None), name)
        problems += found
        extra[name] = to_storage(value, crs)
    return RowInput(number, properties, to_storage(geom, crs), extra, problems)


def current_feature(session: Session, collection: Collection, row_id: int) -> dict[str, Any]:
    """The stored feature's writable properties and geometries, as CRS84 GeoJSON."""
    names = [f.name for f in collection.fields if f.writable]
    geoms = ["geom", *collection.extra_geometries]
    cols = [f"t.{quote_ident(n)}" for n in names] + [
        f"ST_AsBinary(t.{quote_ident(g)}) AS {quote_ident(g)}" for g in geoms
    ]
    row = session.execute(
        text(
            f"SELECT {', '.join(cols)} FROM {quote_ident(collection.table)} t "  # noqa: S608
            "WHERE t.id = :id"
        ),
        {"id": row_id},
    ).one()
    values = row._asdict()
    properties = {n: values[n] for n in names if values[n] is not None}
    for name in collection.extra_geometries:
        if values[name] is not None:
            properties[name] = mapping(shapely.from_wkb(bytes(values[name])))
    geometry = mapping(shapely.from_wkb(bytes(values["geom"])))
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def merge_patch(
    current: dict[str, Any], patch: Any, crs: OutputCrs, collection: Collection
) -> RowInput:
    """RFC 7396 merge of `patch` into the stored feature (patch geometries are in `crs`)."""
    if not isinstance(patch, dict):
        raise _not_a_feature("a merge patch must be an object")
    properties = dict(current["properties"])
    patch_props = patch.get("properties") or {}
    if not isinstance(patch_props, dict):
        raise _not_a_feature("properties must be an object")
    row = feature_to_row(
        {"type": "Feature", "geometry": patch.get("geometry"), "properties": patch_props},
        crs,
        collection,
    )
    for name, value in patch_props.items():
        if value is None:
            properties.pop(name, None)
        elif name not in collection.extra_geometries:
            properties[name] = value
    extra_current = feature_to_row(current, CRS84, collection).extra
    for name in collection.extra_geometries:
        if name not in patch_props:
            row.extra[name] = extra_current.get(name)
    if "geometry" not in patch:
        row.geometry = shapely.geometry.shape(current["geometry"])
    row.properties = properties
    return row
