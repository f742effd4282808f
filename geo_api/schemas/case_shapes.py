"""Shaping cases for the caller: who sees what (reporter data and phones are staff-only).

Which reporter data a caller sees is decided on the case side
(`grids.cases.access.reporter_of`: clear, masked or none) and only shaped here.
"""

from __future__ import annotations

from typing import Any

from geo_api.auth import Principal
from grids.cases.access import Actor, Reporter
from grids.cases.assign import StationContact, WorkerContact
from grids.grid.locate import Location
from layers.tables.case_scope import Viewer
from layers.tables.incidents import Incident


def actor_of(principal: Principal) -> Actor:
    """The grids-side actor for an authenticated (or anonymous) caller."""
    return Actor(
        name=principal.name,
        role=str(principal.role),
        worker_id=principal.worker_id,
        key_id=principal.key_id,
    )


def viewer_of(principal: Principal) -> Viewer:
    """The caller as a reader of cases (`layers.tables.case_scope`): OGC, Open311, maps use it."""
    return Viewer(str(principal.role), principal.name, principal.worker_id, principal.key_id)


def _area(prefix: str, loc: Location) -> dict[str, Any] | None:
    area_id = getattr(loc, f"{prefix}_id")
    if area_id is None:
        return None
    return {
        "id": area_id,
        "code": getattr(loc, f"{prefix}_code"),
        "name": getattr(loc, f"{prefix}_name"),
    }


def location_out(loc: Location) -> dict[str, Any]:
    """The chain of a location as JSON."""
    return {
        "lon": loc.lon,
        "lat": loc.lat,
        "method": loc.method,
        "distance_m": None if loc.distance_m is None else round(loc.distance_m, 2),
        "revision_id": loc.revision_id,
        **{name: _area(name, loc) for name in ("street", "community", "l1", "l2", "l3")},
    }


def worker_out(worker: WorkerContact | None, *, staff: bool) -> dict[str, Any] | None:
    """A worker card: everything for staff, the name only for residents."""
    if worker is None:
        return None
    if not staff:
        return {"name": worker.name}
    return {
        "id": worker.id,
        "code": worker.code,
        "name": worker.name,
        "phone": worker.phone,
        "level": worker.level,
        "on_duty": worker.on_duty,
    }


def station_out(station: StationContact | None) -> dict[str, Any] | None:
    """A service station card (public information)."""
    if station is None:
        return None
    return {
        "id": station.id,
        "name": station.name,
        "address": station.address,
        "phone": station.phone,
        "opening_hours": station.opening_hours,
    }


def submitted_reporter(incident: Incident, principal: Principal) -> Reporter | None:
    """The reporter data a staff caller has just sent, echoed in the answer to their report."""
    if not principal.is_staff:
        return None
    return Reporter(incident.reporter_name, incident.reporter_phone, clear=True)


def reporter_out(reporter: Reporter | None) -> dict[str, Any] | None:
    """The reporter card (already masked where the caller may not read it)."""
    if reporter is None:
        return None
    return {"name": reporter.name, "phone": reporter.phone}


def case_out(
    incident: Incident,
    location: Location,
    assignee: WorkerContact | None,
    principal: Principal,
    *,
    duplicates: list[int] | None = None,
    token: str | None = None,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """A case as JSON for this caller; `reporter` as the case side decided they may see it."""
    staff = principal.is_staff
    return {
        "id": incident.id,
        "version": incident.version,
        "status": incident.status,
        "urgency": incident.urgency,
        "category": incident.category_code,
        "channel": incident.channel_code,
        "description": incident.description,
        "address": incident.address,
        "external_id": incident.external_id if staff else None,
        "handling_level": incident.handling_level,
        "escalation_count": incident.escalation_count,
        "unit_id": incident.unit_id if staff else None,
        "supervised_at": incident.supervised_at.isoformat() if incident.supervised_at else None,
        "created_at": incident.created_at.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
        "closed_at": incident.closed_at.isoformat() if incident.closed_at else None,
        "due_at": incident.due_at.isoformat() if incident.due_at else None,
        "deadlines": incident.deadlines or {},
        "location": location_out(location),
        "assignee": worker_out(assignee, staff=staff),
        "assignment_reason": incident.assignment_reason,
        "reporter": reporter_out(reporter) if staff else None,
        "possible_duplicates": duplicates,
        "case_token": token,
    }


def etag(version: int) -> str:
    """The ETag of a case version (what If-Match must echo)."""
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version in an If-Match header (`"3"`, `W/"3"` or `3`), or None when absent/unreadable."""
    if not value:
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    return int(tag) if tag.isdigit() else None
