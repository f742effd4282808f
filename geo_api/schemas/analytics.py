"""What the staff analytics answer: hotspots, trends, camera coverage and siting.

Per-cell and per-target statistics come from data frames and stay free-form
properties; the figures around them are typed.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from geo_api.schemas.geojson import Feature, FeatureCollection, IdFeature, Number, Out
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


class Counted(Out):
    """Targets of a kind: how many, how many seen, the share (None without targets)."""

    total: int
    covered: int
    share: float | None


class Cameras(Out):
    """Cameras in scope and how many are online."""

    total: int
    online: int
    online_share: float | None


class CourtyardFigures(Out):
    """Courtyards: count, mean covered share of their area, entrances seen."""

    count: int
    mean_covered_share: float | None
    entrances: int
    entrances_seen: int


class Gaps(Out):
    """Uncovered targets, by reason."""

    total: int
    by_reason: dict[str, int]


class NationalTarget(Out):
    """A national target share, the actual share and whether it is met."""

    target: Number
    actual: float | None
    met: bool


class NationalTargets(Out):
    """The two national targets the report checks."""

    key_public_places_covered: NationalTarget
    cameras_online: NationalTarget


class CoverageSummary(Out):
    """The figures of a coverage report for its scope."""

    scope: str
    cameras: Cameras
    targets: dict[str, Counted] = Field(description="Per target kind.")
    all_targets: Counted
    courtyards: CourtyardFigures
    gaps: Gaps
    national_targets: NationalTargets


class AreaCoverage(Out):
    """One street or community of the per-area table."""

    level: str
    code: str
    name: str
    targets: int
    covered: int
    share: float
    by_kind: dict[str, dict[str, int]]
    cameras: int
    cameras_online: int


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
