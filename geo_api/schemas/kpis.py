"""`GET /analytics/kpis`: on-time rates and resolution levels, per street and community."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from geo_api.schemas.geojson import Out


class Metrics(Out):
    """Counts and rates of an area's cases (a rate is None without cases to rate)."""

    cases: int
    closed: int
    on_time_acceptance: float | None
    on_time_dispatch: float | None
    on_time_handling: float | None
    on_time_closure: float | None
    rework_rate: float | None
    resolved_at_community: float | None
    resolved_at_street: float | None
    resolved_at_district: float | None


class Named(Out):
    """An area's code and name."""

    code: str | None = None
    name: str | None = None


class AreaMetrics(Metrics, Named):
    """A street or community: its code and name, then its figures (in that order)."""


class StreetMetrics(AreaMetrics):
    """A street with its communities."""

    communities: list[AreaMetrics] = Field(default_factory=list)


class KPIs(Out):
    """The period, the filter, the whole area's figures and every street's."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    street: str | None
    community: str | None
    overall: Metrics
    streets: list[StreetMetrics]
