"""A siting result as an answer: the MCLP sites as GeoJSON view polygons, greedy beside them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import shapely

from layers.analytics.coverage import to_wgs84_geoms
from layers.analytics.coverage_report import Scope
from layers.analytics.siting import SitingRequest, SitingResult
from layers.analytics.siting_solve import Choice


@dataclass(frozen=True, kw_only=True)
class ChoiceSummary:
    """How one method chose: cameras, targets and weight covered, share, time."""

    method: str
    status: str
    cameras: int
    targets_covered: int
    weight_covered: float
    share_of_uncovered_weight: float | None
    seconds: float


@dataclass(frozen=True, kw_only=True)
class GreedySummary(ChoiceSummary):
    """The greedy choice, with where its cameras stand (lon, lat, azimuth)."""

    sites: list[dict[str, float]]


@dataclass(frozen=True, kw_only=True)
class Gain:
    """What the MCLP covers beyond the greedy choice."""

    weight: float
    targets: int


@dataclass(frozen=True, kw_only=True)
class SitingAnswer:
    """A FeatureCollection of the MCLP sites with the scope, optics, targets and both choices."""

    type: str = "FeatureCollection"
    features: list[dict[str, Any]]
    scope: str
    k: int
    optics: dict[str, float | int]
    targets: dict[str, Any]
    candidates: dict[str, Any]
    mclp: ChoiceSummary
    greedy: GreedySummary
    gain_over_greedy: Gain


def _sites(result: SitingResult, choice: Choice, srid: int) -> list[dict[str, Any]]:
    if not choice.picks:
        return []
    views = result.views.iloc[choice.picks]
    points = to_wgs84_geoms(shapely.points(views["x"], views["y"]), srid)
    polys = to_wgs84_geoms(views["visible"].to_numpy(), srid)
    polys = shapely.set_precision(polys, 1e-7, mode="pointwise")
    refs = result.targets["ref"].to_numpy()
    out = []
    for n, (j, (_, row)) in enumerate(zip(choice.picks, views.iterrows(), strict=True)):
        covers = result.cover[:, j].nonzero()[0]
        out.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(polys[n])),
                "properties": {
                    "rank": n + 1,
                    "kind": row["kind"],
                    "lon": round(float(shapely.get_x(points[n])), 7),
                    "lat": round(float(shapely.get_y(points[n])), 7),
                    "azimuth_deg": float(row["azimuth"]),
                    "covers": [str(r) for r in refs[covers]],
                },
            }
        )
    return out


def _summary(choice: Choice, result: SitingResult) -> dict[str, Any]:
    total = result.stats["target_weight"]
    return {
        "method": choice.method,
        "status": choice.status,
        "cameras": len(choice.picks),
        "targets_covered": choice.covered,
        "weight_covered": choice.weight,
        "share_of_uncovered_weight": round(choice.weight / total, 4) if total else None,
        "seconds": round(choice.seconds, 3),
    }


def siting_response(
    result: SitingResult, request: SitingRequest, scope: Scope, srid: int
) -> SitingAnswer:
    """The MCLP sites (view polygons), with greedy and the gain over it."""
    kinds = result.targets["kind"].value_counts().to_dict()
    return SitingAnswer(
        features=_sites(result, result.optimal, srid),
        scope=scope.label,
        k=request.k,
        optics={
            "hfov_deg": request.hfov_deg,
            "range_m": request.range_m,
            "height_m": request.height_m,
            "azimuths": request.azimuths,
        },
        targets={
            "uncovered": len(result.targets),
            "by_kind": {k: int(v) for k, v in kinds.items()},
        },
        candidates=result.stats,
        mclp=ChoiceSummary(**_summary(result.optimal, result)),
        greedy=GreedySummary(**_summary(result.greedy, result), sites=_greedy_points(result, srid)),
        gain_over_greedy=Gain(
            weight=round(result.optimal.weight - result.greedy.weight, 6),
            targets=result.optimal.covered - result.greedy.covered,
        ),
    )


def _greedy_points(result: SitingResult, srid: int) -> list[dict[str, float]]:
    if not result.greedy.picks:
        return []
    views = result.views.iloc[result.greedy.picks]
    pts = to_wgs84_geoms(shapely.points(views["x"], views["y"]), srid)
    az = views["azimuth"].to_numpy(float)
    return [
        {"lon": round(float(x), 7), "lat": round(float(y), 7), "azimuth_deg": float(a)}
        for x, y, a in zip(shapely.get_x(pts), shapely.get_y(pts), az, strict=True)
    ]
