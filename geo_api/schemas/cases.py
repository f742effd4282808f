"""Request and response models of locate, intake, transitions, dispatch and KPIs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from grids.cases import fields
from grids.cases.intake import NewCase
from layers.core.geojson_input import LAT_RANGE, LON_RANGE

CRS = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]


class Area(BaseModel):
    """One level of the chain: street, community or grid cell."""

    id: int
    code: str
    name: str | None = None


class WorkerOut(BaseModel):
    """A grid worker; residents get the name only."""

    name: str
    id: int | None = None
    code: str | None = None
    phone: str | None = None
    level: int | None = None
    on_duty: bool | None = None


class StationOut(BaseModel):
    """The community's service station."""

    id: int
    name: str
    address: str | None = None
    phone: str | None = None
    opening_hours: str | None = None


class LocationOut(BaseModel):
    """Where a point belongs (WGS-84 lon/lat) and how that was decided."""

    lon: float
    lat: float
    method: Literal["covers", "nearest", "community_fallback", "street_fallback"]
    distance_m: float | None = None
    revision_id: int | None = None
    street: Area | None = None
    community: Area | None = None
    l1: Area | None = None
    l2: Area | None = None
    l3: Area | None = None


class LocateOut(LocationOut):
    """GET /locate: the chain, the responsible level-1 worker and the service station."""

    worker: WorkerOut | None = None
    service_station: StationOut | None = None


Lon = Annotated[float, Field(strict=True, ge=LON_RANGE[0], le=LON_RANGE[1], allow_inf_nan=False)]
Lat = Annotated[float, Field(strict=True, ge=LAT_RANGE[0], le=LAT_RANGE[1], allow_inf_nan=False)]
"""Degrees as JSON numbers (strict: "104.1" as a string is refused), finite, in range."""


class LonLat(BaseModel):
    """A point as two numbers in the declared CRS."""

    model_config = ConfigDict(extra="forbid")

    lon: Lon
    lat: Lat


class PointIn(BaseModel):
    """A GeoJSON Point (RFC 7946) in the declared CRS: numbers only, longitude first."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Point"]
    coordinates: (
        tuple[Lon, Lat] | tuple[Lon, Lat, Annotated[float, Field(strict=True, allow_inf_nan=False)]]
    )
    bbox: list[Annotated[float, Field(strict=True, allow_inf_nan=False)]] | None = None


# The same rules `wangge incidents import` applies to its rows (grids.cases.fields).
Category = fields.CATEGORY.field()
Channel = fields.CHANNEL.field()
Description = fields.DESCRIPTION.field()
Address = fields.ADDRESS.field()
ReporterName = fields.REPORTER_NAME.field()
ReporterPhone = fields.REPORTER_PHONE.field()
ExternalId = fields.EXTERNAL_ID.field()


class IncidentIn(BaseModel):
    """A reported problem: where (lon/lat or GeoJSON Point, in `crs`), what, which channel."""

    model_config = ConfigDict(extra="forbid")

    location: LonLat | PointIn | None = Field(
        default=None, description="The point; leave it out to be located by `address`."
    )
    crs: CRS = "wgs84"
    category: Category
    channel: Channel
    description: Description
    address: Address | None = None
    reporter_name: ReporterName | None = None
    reporter_phone: ReporterPhone | None = None
    external_id: ExternalId | None = None
    urgency: Literal["urgent", "normal"] | None = None

    def lon_lat(self) -> tuple[float | None, float | None]:
        """The point as two floats, whichever of the two shapes the caller sent (None: none)."""
        loc = self.location
        if loc is None:
            return None, None
        if isinstance(loc, LonLat):
            return float(loc.lon), float(loc.lat)
        return float(loc.coordinates[0]), float(loc.coordinates[1])

    def to_new_case(self) -> NewCase:
        """The domain's `NewCase`: the one place the body's field names meet the domain's.

        The body says `category`/`channel` (the API's words), the domain says
        `category_code`/`channel_code`; every door that takes this body maps it here.
        """
        lon, lat = self.lon_lat()
        return NewCase(
            lon=lon,
            lat=lat,
            crs=self.crs,
            category_code=self.category,
            channel_code=self.channel,
            description=self.description,
            address=self.address,
            reporter_name=self.reporter_name,
            reporter_phone=self.reporter_phone,
            external_id=self.external_id,
            urgency=self.urgency,
        )


class Reporter(BaseModel):
    """Who reported: staff only; masked (`张*`, `138****5678`) unless the role may read it.

    In clear for dispatchers, admins and the assigned grid worker of a call-back
    category (each such read is audited); masked for planners and other grid workers.
    """

    name: str | None = Field(default=None, description="In clear or masked (`张*`).")
    phone: str | None = Field(default=None, description="In clear or masked (`138****5678`).")


class IncidentOut(BaseModel):
    """A case as the caller may see it (no reporter data for residents)."""

    id: int
    version: int
    status: str
    urgency: str
    category: str
    channel: str
    description: str
    address: str | None = None
    external_id: str | None = None
    handling_level: str
    escalation_count: int
    unit_id: int | None = Field(default=None, description="The platform unit whose queue holds it.")
    supervised_at: datetime | None = Field(
        default=None, description="Under supervision (督办) since."
    )
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    due_at: datetime | None = None
    deadlines: dict[str, Any]
    location: LocationOut
    assignee: WorkerOut | None = None
    assignment_reason: (
        Literal["responsible", "substitute", "nearest_on_duty", "none", "dispatcher"] | None
    ) = None
    reporter: Reporter | None = None
    possible_duplicates: list[int] | None = None
    case_token: str | None = Field(
        default=None, description="Only in the answer to the report: lets the reporter look it up."
    )


class TransitionIn(BaseModel):
    """An action on a case, with the version the caller saw (or send If-Match)."""

    model_config = ConfigDict(extra="forbid")

    action: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None
    version: int | None = Field(default=None, ge=1)
    data: dict[str, Any] = Field(default_factory=dict)


class EventOut(BaseModel):
    """One audit event of a case (actor names are for staff)."""

    id: int
    at: datetime
    action: str
    role: str
    actor: str | None = None
    from_status: str | None = None
    to_status: str | None = None
    reason: str | None = None
    data: dict[str, Any] | None = None


class NearestWorkerOut(WorkerOut):
    """A candidate worker with the distance from the case, metres."""

    distance_m: float
    cell_code: str | None = None


class AssignItem(BaseModel):
    """One incident to dispatch to one worker, at the version the dispatcher saw."""

    model_config = ConfigDict(extra="forbid")

    incident_id: int
    worker_id: int
    version: int = Field(ge=1)


class AssignIn(BaseModel):
    """Dispatch one or many incidents; all succeed or none does."""

    model_config = ConfigDict(extra="forbid")

    assignments: list[AssignItem] = Field(min_length=1, max_length=500)
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None


class QueueItem(BaseModel):
    """A row of the dispatch queue."""

    id: int
    version: int
    status: str
    urgency: str
    category: str
    handling_level: str
    due_at: datetime | None
    overdue: bool
    created_at: datetime
    lon: float
    lat: float
    street_code: str | None = None
    community_code: str | None = None
    l1_code: str | None = None
    assignee_worker_id: int | None = None
    unit_code: str | None = None
    supervised_at: datetime | None = None
    description: str


class QueuePage(BaseModel):
    """One page of the queue, sorted by deadline."""

    total: int
    limit: int
    offset: int
    items: list[QueueItem]
