"""What the self-governance routes take and answer: shifts, patrol reports, coverage, density."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from geo_api.schemas.cases import CRS, Category, Description
from geo_api.schemas.geojson import Out
from layers.core.moments import check_moment

Moment = Annotated[datetime, AfterValidator(check_moment)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class ShiftIn(BaseModel):
    """Book a member on duty at a courtyard's liaison post for ``[start, end)`` (≤ 24 h)."""

    model_config = ConfigDict(extra="forbid")

    courtyard_id: Id
    member_id: Id
    start: Moment
    end: Moment


class MemberIn(BaseModel):
    """Who checks in or out: the member holding the shift (the handheld's user)."""

    model_config = ConfigDict(extra="forbid")

    member_id: Id


class PatrolIn(BaseModel):
    """What the member on duty saw; at the post unless a point (in `crs`) is given."""

    model_config = ConfigDict(extra="forbid")

    member_id: Id
    category: Category
    description: Description
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    crs: CRS = "wgs84"
    urgency: Literal["urgent", "normal"] | None = None


class Contact(Out):
    """A person's name and phone: in clear for dispatchers and admins, masked for other staff."""

    name: str | None
    phone: str | None


class ShiftOut(Out):
    """A shift and its check-in and check-out moments."""

    id: int
    courtyard_id: int
    member_id: int
    start: datetime
    end: datetime
    checked_in_at: datetime | None
    checked_out_at: datetime | None


class RotaShift(ShiftOut):
    """A shift of the rota with who holds it."""

    role: str
    member: Contact


class MyShiftOut(ShiftOut):
    """One of my own shifts (the handheld's rota section): where and as what I serve."""

    courtyard_name: str
    member_role: str


class PatrolOut(Out):
    """The case a patrol report became (read it at `/incidents/{incident_id}`)."""

    incident_id: int
    shift_id: int
    channel: str
    status: str
    category: str
    community_code: str | None
    l1_code: str | None
    assignee_worker_id: int | None


class CourtyardCoverageOut(Out):
    """A courtyard's rota in the week: hours covered (overlaps once), shifts, people."""

    courtyard_id: int
    code: str
    name: str
    community_code: str
    street_code: str
    is_three_nos: bool
    has_property_management: bool
    shifts: int
    people: int
    hours_covered: float
    share_of_week: float
    on_duty_now: bool


class CoverageOut(Out):
    """Every selected courtyard's coverage of one week (Monday 00:00 local, 7 days)."""

    start: datetime
    end: datetime
    week_hours: int
    courtyards: list[CourtyardCoverageOut]
    uncovered_three_nos: int


class AreaDensityOut(Out):
    """Social organisations serving an area per 10,000 residents (national average 7)."""

    code: str
    name: str
    residents: int
    organisations: int
    per_10k: float | None
    below_average: bool


class DensityOut(Out):
    """The density per community or street, and the average it is compared with."""

    level: str
    national_average: float
    areas: list[AreaDensityOut]


class GroupOut(Out):
    """A governing body of the courtyard."""

    id: int
    kind: str
    name: str
    contact: Contact


class MemberOut(Out):
    """A person serving the courtyard, in one role."""

    id: int
    role: str
    group_id: int | None
    building_id: int | None
    unit_no: int | None
    worker_id: int | None
    organisation_id: int | None
    name: str | None
    phone: str | None


class CourtyardPeopleOut(Out):
    """A courtyard's management flags, its groups and its members."""

    id: int
    code: str
    name: str
    is_three_nos: bool
    has_property_management: bool
    has_owners_committee: bool
    groups: list[GroupOut]
    members: list[MemberOut]


class OrganisationOut(Out):
    """A registered social organisation: fields, contact, whom it serves."""

    id: int
    code: str
    name: str
    fields: list[str]
    contact: Contact
    registered_on: date | None
    has_service_area: bool
    communities: list[str]
    courtyard_ids: list[int]


class OfferOut(Out):
    """An enterprise's offer at a courtyard near you (no personal data)."""

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
