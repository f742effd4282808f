"""Bodies and answers of the public service network (`/services/...`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Contact = Field(default=None, max_length=64)
DocId = Annotated[int, Field(ge=1, le=2**62)]
"""A library document id (bigint)."""
PersonId = Field(default=None, ge=1, le=2**31 - 1)


class Named(BaseModel):
    """A code and its name."""

    code: str
    name: str


class ItemOut(BaseModel):
    """One catalogue item and what to bring."""

    code: str
    name: str
    group: Named
    department: Named
    handled_at: list[str]
    bookable: bool
    online: bool
    materials: list[Named]
    time_limit_days: int
    fee_yuan: float
    offered_at: int = Field(description="How many service points offer it.")


class ItemPage(BaseModel):
    """A page of catalogue search results."""

    total: int
    items: list[ItemOut]
    search: str = Field(description="How `q` matched: substring (ILIKE) over a pg_trgm index.")


class CatalogueGroup(BaseModel):
    """Counts of one group of the catalogue."""

    code: str
    name: str
    items: int
    bookable: int
    online: int


class CatalogueSummary(BaseModel):
    """Counts of the whole catalogue."""

    items: int
    bookable: int
    online: int
    groups: list[CatalogueGroup]


class FreeSlot(BaseModel):
    """A slot with places left."""

    starts_at: datetime
    ends_at: datetime
    free: int


class NearPointOut(BaseModel):
    """A service point offering the item, its distance and its next free slots."""

    code: str
    name: str
    kind: str
    address: str | None
    phone: str | None
    opening_hours: str | None
    lon: float
    lat: float
    distance_m: float
    staff: int
    next_free_slots: list[FreeSlot]


class NearestOut(BaseModel):
    """Nearest points with free slots; `distance` says how distance was measured."""

    item: dict[str, Any]
    distance: str
    distance_note: str
    query: dict[str, Any]
    points: list[NearPointOut]
    scanned: int = Field(description="offering points examined, nearest first")
    scan_bound_reached: bool = Field(
        description="true when fewer than `limit` points were found and the scan stopped at "
        "its bound (MAX_SCAN) before examining every offering point"
    )


class BookingIn(BaseModel):
    """A booking: item, station, slot start, what the resident brings or has in the library."""

    model_config = ConfigDict(extra="forbid")

    item: str = Field(max_length=16)
    service_point: str = Field(max_length=24)
    starts_at: AwareDatetime
    materials: list[str] = Field(default_factory=list, max_length=20)
    document_ids: list[DocId] = Field(default_factory=list, max_length=20)
    contact_name: str | None = Contact
    contact_phone: str | None = Field(default=None, max_length=32)
    person_id: int | None = PersonId
    channel: Literal["online", "walk_in"] = Field(
        default="online",
        description="walk_in: station staff put a resident at the window into a slot (offline).",
    )


class RescheduleIn(BaseModel):
    """Move to another slot (and optionally another station offering the item)."""

    model_config = ConfigDict(extra="forbid")

    starts_at: AwareDatetime
    service_point: str | None = Field(default=None, max_length=24)


class AttendanceIn(BaseModel):
    """Did the resident come?"""

    model_config = ConfigDict(extra="forbid")

    kept: bool


class AppointmentOut(BaseModel):
    """An appointment; `appointment_token` only in the booking's answer."""

    id: int
    item: str
    service_point: str
    starts_at: datetime
    ends_at: datetime
    status: str
    version: int
    appointment_token: str | None = Field(
        default=None, description="Keep it: send it back as X-Appointment-Token."
    )


class ProxyIn(BaseModel):
    """A proxy handling request (online by residents, walk_in by station staff)."""

    model_config = ConfigDict(extra="forbid")

    item: str = Field(max_length=16)
    channel: str = Field(default="online", pattern="^(online|walk_in)$")
    document_ids: list[DocId] = Field(default_factory=list, max_length=20)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    crs: str = "wgs84"
    contact_name: str | None = Contact
    contact_phone: str | None = Field(default=None, max_length=32)
    person_id: int | None = PersonId


class ProxyStepIn(BaseModel):
    """One step of a proxy request."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(max_length=20)
    service_point: str | None = Field(default=None, max_length=24)
    materials: list[str] = Field(default_factory=list, max_length=20)
    result: str | None = Field(default=None, max_length=16)
    handover: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, max_length=500)


class ProxyOut(BaseModel):
    """A proxy request with its steps and deadlines; `proxy_token` only when created."""

    id: int
    item: Named | None
    status: str
    channel: str
    department_code: str
    accepting_station: str | None
    result: str | None
    handover: str | None
    due_at: datetime | None
    deadlines: dict[str, Any]
    created_at: datetime
    closed_at: datetime | None
    document_count: int
    events: list[dict[str, Any]]
    proxy_token: str | None = None


class DocumentIn(BaseModel):
    """A document for the library: its kind, type, content (base64) and the consent."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=40)
    media_type: str = Field(max_length=40)
    content_base64: str = Field(max_length=8 * 1024 * 1024)
    consent: bool
    purpose: str = Field(default="reuse_in_service_requests", max_length=100)


class DocumentOut(BaseModel):
    """A stored document's metadata (never its content); `library_token` on upload."""

    id: int
    kind: str
    media_type: str
    size_bytes: int
    stored_at: datetime
    retention_until: datetime
    library_token: str | None = None


class DayView(BaseModel):
    """A station's day."""

    station: Named
    date: date
    appointments: list[dict[str, Any]]
    walk_ins: list[int]
    proxy_tasks: list[dict[str, Any]]


class DepartmentQueue(BaseModel):
    """Requests awaiting a department's decision."""

    department: str
    requests: list[dict[str, Any]]


class ServiceKpis(BaseModel):
    """Appointments kept/missed, proxy on time, district-wide handling, online share."""

    at: datetime
    appointments: dict[str, Any]
    proxy: dict[str, Any]
    online_share: dict[str, Any]


class OutboxRun(BaseModel):
    """What one outbox run sent."""

    sent: int
    failed: int
    sender: str
