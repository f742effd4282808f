"""What residents get: service points near them and the grid serving them; the grid at a time."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from geo_api.schemas.geojson import CodedFeature, FeatureCollection, IdFeature, Out


class NearbyQuery(Out):
    """The asking point in WGS-84 and the search radius."""

    lon: float
    lat: float
    crs: str
    radius_m: float


class CodeName(Out):
    """A street or community."""

    code: str | None
    name: str | None


class ServingCell(Out):
    """A cell of the chain and the name of its grid worker."""

    level: int
    code: str
    name: str | None
    worker_name: str | None


class ServingGrid(Out):
    """The street, community and cells serving the point, and its grid worker's name."""

    street: CodeName
    community: CodeName
    cells: list[ServingCell]
    worker_name: str | None


class Nearby(FeatureCollection[IdFeature]):
    """Service points nearest first (distance in metres, open now), the query, the grid."""

    query: NearbyQuery
    grid: ServingGrid | None


class GridCells(Out):
    """Cells valid at a time: code, name, level, parent, community, validity, figures."""

    type: Literal["FeatureCollection"]
    at: str = Field(description="The time asked for (ISO).")
    features: list[CodedFeature]
