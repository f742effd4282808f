"""The figures of a coverage report, typed: what the API, the map and the CLI read.

Plain dataclasses (no pandas): the report computes them once; the HTTP layer
uses them as its response members, the map page reads them as a dict
(`dataclasses.asdict`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class Counted:
    """Targets of a kind: how many, how many seen, the share (None without targets)."""

    total: int
    covered: int
    share: float | None


@dataclass(frozen=True, kw_only=True)
class Cameras:
    """Cameras in scope and how many are online."""

    total: int
    online: int
    online_share: float | None


@dataclass(frozen=True, kw_only=True)
class CourtyardFigures:
    """Courtyards: count, mean covered share of their area, entrances seen."""

    count: int
    mean_covered_share: float | None
    entrances: int
    entrances_seen: int


@dataclass(frozen=True, kw_only=True)
class Gaps:
    """Uncovered targets, by reason."""

    total: int
    by_reason: dict[str, int]


@dataclass(frozen=True, kw_only=True)
class NationalTarget:
    """A national target share, the actual share and whether it is met."""

    target: float
    actual: float | None
    met: bool


@dataclass(frozen=True, kw_only=True)
class NationalTargets:
    """The two national targets the report checks."""

    key_public_places_covered: NationalTarget
    cameras_online: NationalTarget


@dataclass(frozen=True, kw_only=True)
class CoverageSummary:
    """The figures of a coverage report for its scope."""

    scope: str
    cameras: Cameras
    targets: dict[str, Counted]
    all_targets: Counted
    courtyards: CourtyardFigures
    gaps: Gaps
    national_targets: NationalTargets


@dataclass(frozen=True, kw_only=True)
class AreaCoverage:
    """One street or community of the per-area table."""

    level: str
    code: str
    name: str
    targets: int
    covered: int
    share: float
    by_kind: dict[str, dict[str, int]] = field(metadata={"doc": "total and covered per kind"})
    cameras: int
    cameras_online: int
