"""GeoJSON (RFC 7946) answers: the shapes every map-facing route shares.

Geometries stay plain JSON objects (points, polygons, multipolygons alike) and
a route's properties are typed by its own schema where they are fixed; the
collection's foreign members (`numberMatched`, a query echo) are declared by
the route's subclass.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

Geometry = dict[str, Any]
"""A GeoJSON geometry object in EPSG:4326 (type + coordinates)."""

Number = int | float
"""A JSON number as computed: an int stays an int (a plain `float` would answer `3.0`)."""


class Out(BaseModel):
    """A response body: a key the route answers that the model does not declare is an error.

    Answers are checked against their model in the tests and the fuzz run, so a
    model that drifts from what the route answers fails loudly instead of
    silently dropping a member.
    """

    model_config = ConfigDict(extra="forbid")


class Feature(Out):
    """A GeoJSON Feature with free-form properties (members in the order answered)."""

    type: Literal["Feature"]
    geometry: Geometry | None
    properties: dict[str, Any]


class IdFeature(Out):
    """A Feature with an `id` (a cell or point code) before its geometry."""

    type: Literal["Feature"]
    id: str | int
    geometry: Geometry | None
    properties: dict[str, Any]


F = TypeVar("F", bound=BaseModel)


class FeatureCollection(Out, Generic[F]):
    """A GeoJSON FeatureCollection of `F`; subclasses add foreign members."""

    type: Literal["FeatureCollection"]
    features: list[F]


class CodedFeature(Out):
    """A Feature answered properties first, then geometry (grid cells)."""

    type: Literal["Feature"]
    id: str | int
    properties: dict[str, Any]
    geometry: Geometry | None
