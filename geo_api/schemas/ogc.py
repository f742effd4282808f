"""The JSON documents of OGC API – Features and Tiles under /ogc (for QGIS, GDAL, web maps).

These routes answer pre-serialised bodies (with an ETag and 304) or OGC media
types, so the models describe the answer in the OpenAPI document (and so to
the fuzz run) rather than shape it.  Links and extents are open objects: OGC
lets servers add members to them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Link(BaseModel):
    """An OGC link: href, rel, media type, optional title (`templated` for tile URLs)."""

    model_config = ConfigDict(extra="allow")

    href: str
    rel: str
    type: str
    title: str | None = None


class OGCLanding(BaseModel):
    """The OGC API landing page."""

    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    """The conformance classes the server implements."""

    conformsTo: list[str]  # noqa: N815 - the OGC member name


class CollectionDoc(BaseModel):
    """One collection: ids, CRSs, extent and links to its items, queryables and tiles."""

    model_config = ConfigDict(extra="allow")

    id: str
    title: str
    description: str | None = None
    keywords: list[str]
    itemType: str  # noqa: N815
    crs: list[str]
    storageCrs: str  # noqa: N815
    extent: dict[str, Any]
    links: list[Link]


class Collections(BaseModel):
    """The collections the caller may see."""

    links: list[Link]
    crs: list[str]
    collections: list[CollectionDoc]


class Tileset(BaseModel):
    """The WebMercatorQuad vector tileset of a collection."""

    title: str
    dataType: str  # noqa: N815
    crs: str
    tileMatrixSetURI: str  # noqa: N815
    links: list[Link]


class Tilesets(BaseModel):
    """A collection's tilesets (one)."""

    tilesets: list[Tileset]


class TileJSON(BaseModel):
    """TileJSON 3.0.0 for web maps."""

    model_config = ConfigDict(extra="allow")

    tilejson: str
    name: str
    description: str | None = None
    scheme: str
    tiles: list[str]
    minzoom: int
    maxzoom: int
    bounds: list[float]
    center: list[float]
    vector_layers: list[dict[str, Any]] = Field(description="One layer: id, fields, zooms.")
