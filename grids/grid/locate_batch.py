"""Locate a batch of points and answer a GeoJSON FeatureCollection (``POST /locate``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sqlalchemy.orm import Session

from grids.grid.locate import point_to_cells
from layers.core.crs import to_wgs84

LAYERS = ("street", "community", "l1", "l2", "l3")


@dataclass(frozen=True)
class LocatedBatch:
    """Every point of a batch as a GeoJSON Feature with its chain, and how many per method."""

    features: list[dict[str, Any]]
    counts: dict[str, int]

    def as_geojson(self) -> dict[str, Any]:
        """The FeatureCollection ``POST /locate`` answers (with ``counts`` per method)."""
        return {"type": "FeatureCollection", "features": self.features, "counts": self.counts}


def locate_batch(
    *,
    session: Session,
    lons: ArrayLike,
    lats: ArrayLike,
    ids: list[Any] | None = None,
    properties: list[dict[str, Any]] | None = None,
    crs: str = "wgs84",
    at: datetime | None = None,
    tolerance_m: float | None = None,
) -> LocatedBatch:
    """Every point with its chain codes and names; ``method`` "outside"/"invalid" where none."""
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    xs, ys = to_wgs84(lons, lats, crs)
    xs, ys = np.atleast_1d(xs), np.atleast_1d(ys)
    valid = np.isfinite(xs) & np.isfinite(ys) & (np.abs(xs) <= 180) & (np.abs(ys) <= 90)
    chains = point_to_cells(
        np.where(valid, xs, np.nan),
        np.where(valid, ys, np.nan),
        session=session,
        at=at,
        tolerance_m=tolerance_m,
    )
    methods = np.where(valid, chains.method_names(), "invalid")
    columns = {
        f"{layer}_{what}": getattr(chains, what + "s")(layer)
        for layer in LAYERS
        for what in ("code", "name")
    }
    distance = chains.distance_m
    features = []
    for i in range(len(xs)):
        located = {key: values[i] for key, values in columns.items()}
        props = {
            **(properties[i] if properties else {}),
            "method": str(methods[i]),
            "distance_m": None if np.isnan(distance[i]) else round(float(distance[i]), 2),
            **located,
        }
        feature: dict[str, Any] = {
            "type": "Feature",
            "geometry": (
                {"type": "Point", "coordinates": [float(xs[i]), float(ys[i])]} if valid[i] else None
            ),
            "properties": props,
        }
        if ids is not None and ids[i] is not None:
            feature["id"] = ids[i]
        features.append(feature)
    counts = {str(m): int(n) for m, n in zip(*np.unique(methods, return_counts=True), strict=True)}
    return LocatedBatch(features=features, counts=counts)
