"""What the safety platform's routes take and answer: units, departments, transfers, joint duty."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from geo_api.schemas.cases import IncidentOut

Code = Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_]+$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class UnitOut(BaseModel):
    """A platform unit and its queue's figures."""

    id: int
    code: str
    name: str
    level: Literal["community", "street", "district"]
    parent_code: str | None = None
    opens_at: str
    closes_at: str
    open_now: bool
    """At work now: a working day of the district's calendar, within its own hours."""
    open_cases: int
    overdue: int
    supervised: int
    staff: int


class StaffIn(BaseModel):
    """Post a dispatcher's key or a worker at a unit (exactly one of them)."""

    model_config = ConfigDict(extra="forbid")

    key_id: int | None = Field(default=None, ge=1)
    worker_id: int | None = Field(default=None, ge=1)


class DepartmentStaffIn(BaseModel):
    """A department key to join a department."""

    model_config = ConfigDict(extra="forbid")

    key_id: int = Field(ge=1)


class StaffOut(BaseModel):
    """Where a key or worker now works."""

    unit: str | None = None
    department: str | None = None
    key_id: int | None = None
    worker_id: int | None = None


class DepartmentOut(BaseModel):
    """A department, what it answers for, its office contact and limits."""

    code: str
    name: str
    kind: Literal["safety", "base_data"]
    categories: list[str]
    contact_name: str | None = None
    contact_phone: str | None = None
    sign_days: float
    handle_days: float


class NoticeOut(BaseModel):
    """A notice to a unit or a department."""

    id: int
    incident_id: int
    kind: str
    at: datetime
    body: str
    data: dict[str, Any] | None = None
    read_at: datetime | None = None
    unit_code: str | None = None
    department_code: str | None = None


class TransferIn(BaseModel):
    """Transfer a case to a lead department and any supporting ones, at the version you saw."""

    model_config = ConfigDict(extra="forbid")

    lead: Code
    support: list[Code] = Field(default_factory=list, max_length=8)
    instruction: Text
    version: int = Field(ge=1)


class PartOut(BaseModel):
    """One department's part of a case."""

    id: int
    version: int
    department: str
    department_name: str
    part: Literal["lead", "support"]
    status: str
    instruction: str
    sent_at: datetime
    sign_due_at: datetime
    due_at: datetime
    signed_at: datetime | None = None
    ended_at: datetime | None = None
    reason: str | None = None
    on_time: bool | None = None


class TransferOut(BaseModel):
    """The case after a transfer or a department's step, and its parts."""

    incident: IncidentOut
    parts: list[PartOut]


class StepIn(BaseModel):
    """A department's step on its part, at the part's version."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["sign", "start", "return", "finish"]
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        default=None, description="Why it is returned, or what was done (finish)."
    )
    version: int = Field(ge=1)


class DepartmentQueueItem(BaseModel):
    """A row of a department's queue (no reporter data)."""

    transfer_id: int
    version: int
    part: str
    status: str
    instruction: str
    sent_at: datetime
    sign_due_at: datetime
    due_at: datetime
    overdue: bool
    signed_at: datetime | None = None
    incident_id: int
    case_status: str
    category: str
    urgency: str
    handling_level: str
    unit_code: str | None = None
    supervised_at: datetime | None = None
    description: str
    address: str | None = None


class DepartmentQueue(BaseModel):
    """One page of a department's queue, soonest deadline first."""

    total: int
    limit: int
    offset: int
    items: list[DepartmentQueueItem]


class ShiftIn(BaseModel):
    """A department's liaison on duty at a centre for a day."""

    model_config = ConfigDict(extra="forbid")

    unit: Code
    department: Code
    day: date
    liaison_name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    liaison_phone: Annotated[str, StringConstraints(max_length=32)] | None = None


class ShiftOut(BaseModel):
    """A liaison on the rota."""

    id: int
    day: date
    unit: str
    department: str
    department_name: str
    liaison_name: str
    liaison_phone: str | None = None


class JointTaskIn(BaseModel):
    """Call a joint task on a case (the departments involved: given, or its open parts')."""

    model_config = ConfigDict(extra="forbid")

    instruction: Text
    departments: list[Code] = Field(default_factory=list, max_length=20)
    version: int = Field(ge=1)


class JointMember(BaseModel):
    """A liaison taking part."""

    id: int
    department: str
    liaison_name: str
    liaison_phone: str | None = None


class JointTaskOut(BaseModel):
    """The joint task created."""

    task_id: int
    unit: str
    members: list[JointMember]
    case_version: int


class DepartmentKPI(BaseModel):
    """A department's figures over a period."""

    department: str
    name: str
    received: int
    finished: int
    on_time: int
    returned: int
    rework: int
    open: int
    on_time_rate: float | None = None
    return_rate: float | None = None
    rework_rate: float | None = None


class LevelKPIs(BaseModel):
    """Where closed cases were resolved (小事不出社、大事不出街)."""

    closed: int
    closed_at: dict[str, int]
    share: dict[str, float | None]
