"""What the staff analytics answer: hotspots, trends, camera coverage and siting.

Per-cell and per-target statistics come from data frames and stay free-form
properties; the figures around them are typed.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from geo_api.schemas.geojson import Feature, FeatureCollection, IdFeature, Number, Out
from layers.analytics.coverage_figures import AreaCoverage, CoverageSummary
from layers.analytics.siting_response import ChoiceSummary, Gain, GreedySummary


class Hotspots(FeatureCollection[IdFeature]):
    """H3 cells with count, Gi* z, p (analytic and permutation), q and class."""

    resolution: int
    inference: str
    permutations: int
    fdr: bool
    classes: dict[str, int] = Field(description="Cells per class.")
    incidents: int


class Trends(FeatureCollection[IdFeature]):
    """H3 cells with their emerging hot spot category, trend z/p and Gi bins per slice."""

    resolution: int
    interval: str
    slices: list[str] = Field(description="Start of each time slice (ISO, local time).")
    categories: dict[str, int] = Field(description="Cells per category.")


class Coverage(Out):
    """GET /analytics/coverage: the figures and the per-area table."""

    summary: CoverageSummary
    areas: list[AreaCoverage]


class CoverageGaps(FeatureCollection[Feature]):
    """Uncovered targets with kind, ref, name, reason, community and street ids."""

    numberMatched: int  # noqa: N815 - the OGC/GeoJSON member name


class Sites(FeatureCollection[Feature]):
    """Chosen camera sites: view polygons with rank, kind, lon, lat, azimuth, covered refs."""

    scope: str
    k: int
    optics: dict[str, Number]
    targets: dict[str, Any] = Field(description="`uncovered` and `by_kind`.")
    candidates: dict[str, Any]
    mclp: ChoiceSummary
    greedy: GreedySummary
    gain_over_greedy: Gain
