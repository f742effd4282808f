"""Plain data handed from `layers` to the `maps` page builders (no database imports here).

The map pages are pure and may not import SQLAlchemy, even transitively, so the
containers they receive (and the query descriptions they show) live here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np

from layers.core.case_states import OPEN_STATUSES


@dataclass(frozen=True)
class CaseFilter:
    """Which incidents count: categories (4-digit codes or 2-digit majors), channels, period."""

    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class HotspotQuery:
    """A hotspot analysis: H3 resolution, filters and the inference used for classes."""

    resolution: int = 9
    filters: CaseFilter = field(default_factory=CaseFilter)
    permutations: int = 999
    inference: str = "analytic"
    fdr: bool = True
    seed: int = 20170


@dataclass(frozen=True)
class ChainCell:
    """One cell of the chain with the name of the worker serving it (if any)."""

    id: int
    level: int
    code: str
    name: str | None
    worker_name: str | None


@dataclass(frozen=True)
class CellChain:
    """Level 1 → 3 cells at a point, with the community and street they belong to."""

    cells: list[ChainCell] = field(default_factory=list)
    community_code: str | None = None
    community_name: str | None = None
    street_code: str | None = None
    street_name: str | None = None

    @property
    def worker_name(self) -> str | None:
        """The level-1 grid worker, who answers for the whole level-1 cell."""
        return self.cells[0].worker_name if self.cells else None


@dataclass(frozen=True)
class NearbyPoint:
    """A service point with its distance from the asking point and whether it is open."""

    code: str
    kind: str
    name: str
    address: str | None
    phone: str | None
    opening_hours: str | None
    open_now: bool | None
    hours_today: list[str] | None
    lon: float
    lat: float
    distance_m: float


@dataclass(frozen=True)
class Outlines:
    """The district's own base map: streets and communities (and their names)."""

    streets: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame


@dataclass(frozen=True)
class CoverageLayers:
    """Views, courtyards by covered share, gap targets and the figures of the coverage map."""

    outlines: Outlines
    views: gpd.GeoDataFrame
    courtyards: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    summary: dict[str, Any]
    areas: list[dict[str, Any]]


@dataclass(frozen=True)
class HotspotLayers:
    """Gi* classes on H3, the emerging-trend outcomes, and incident points for clustering."""

    outlines: Outlines
    hotspots: gpd.GeoDataFrame
    trends: gpd.GeoDataFrame | None
    slices: list[str]
    incidents: np.ndarray  # (n, 2) lat, lon
    query: HotspotQuery
    trends_missing: str | None = None
    """Why there are no trends at all (no case, too few time slices), for the page to say."""


@dataclass(frozen=True)
class WorkloadLayers:
    """Live cells of each level with open cases, overdue cases, households per worker."""

    outlines: Outlines
    levels: dict[int, gpd.GeoDataFrame]
    as_of: datetime


@dataclass(frozen=True)
class NearbyOffer:
    """An offer as a resident sees it: what, who, where (the courtyard) and how far."""

    id: int
    kind: str
    title: str
    description: str | None
    enterprise_name: str
    enterprise_phone: str | None
    available_until: date | None
    courtyard_name: str
    distance_m: float
    lon: float
    lat: float


@dataclass(frozen=True)
class ResidentLayers:
    """What a resident sees at a point: cells and worker names, nearby service points."""

    outlines: Outlines | None
    lon: float
    lat: float
    chain: CellChain | None
    cells: gpd.GeoDataFrame
    points: list[NearbyPoint] = field(default_factory=list)
    offers: list[NearbyOffer] = field(default_factory=list)
    """Enterprise offers at courtyards near the point (public, no personal data)."""


@dataclass(frozen=True)
class QueueFilter:
    """The dispatcher's queue filters."""

    statuses: tuple[str, ...] = ()
    category: str | None = None
    street: str | None = None
    overdue_only: bool = False
    limit: int = 3000


@dataclass(frozen=True)
class DispatchLayers:
    """Open cases (newest first, up to the limit), on-duty level-1 workers, counts."""

    outlines: Outlines
    cases: gpd.GeoDataFrame
    workers: gpd.GeoDataFrame
    total_open: int
    by_status: dict[str, int]
    filters: QueueFilter
    as_of: datetime
    statuses: tuple[str, ...] = field(default=OPEN_STATUSES)


@dataclass(frozen=True)
class SelfGovernanceLayers:
    """Courtyards by rota coverage in a week, communities and streets by organisation density."""

    outlines: Outlines
    courtyards: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    start: datetime
    end: datetime
    national_average: float
    figures: dict[str, Any]
