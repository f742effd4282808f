"""Reading cases back: one case with its chain and assignee, its events — if the caller may."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from grids.cases.access import Actor, Reporter, can_see, reporter_of
from grids.cases.assign import WorkerContact, worker_contact
from grids.grid.locate import Location
from layers.core.errors import NotFoundError
from layers.tables.incidents import Incident, IncidentEvent

_CHAIN = text(
    "SELECT ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat, i.locate_method, i.revision_id, "
    "s.id AS street_id, s.code AS street_code, s.name AS street_name, "
    "c.id AS community_id, c.code AS community_code, c.name AS community_name, "
    "g1.id AS l1_id, g1.code AS l1_code, g1.name AS l1_name, "
    "g2.id AS l2_id, g2.code AS l2_code, g2.name AS l2_name, "
    "g3.id AS l3_id, g3.code AS l3_code, g3.name AS l3_name "
    "FROM incidents i LEFT JOIN streets s ON s.id = i.street_id "
    "LEFT JOIN communities c ON c.id = i.community_id "
    "LEFT JOIN grid_cells g1 ON g1.id = i.l1_cell_id "
    "LEFT JOIN grid_cells g2 ON g2.id = i.l2_cell_id "
    "LEFT JOIN grid_cells g3 ON g3.id = i.l3_cell_id WHERE i.id = :id"
)


@dataclass(frozen=True)
class CaseView:
    """A case as stored, where it was located, who has it, and its reporter for the caller."""

    incident: Incident
    location: Location
    assignee: WorkerContact | None
    reporter: Reporter | None = None


def view_of(
    *,
    session: Session,
    incident: Incident,
    actor: Actor | None = None,
    now: datetime | None = None,
    face: str = "case",
) -> CaseView:
    """The view of a case the caller already may see; with `actor`, its reporter for them.

    A reporter shown in clear is an audited read (`face` says where it was shown).
    """
    reporter = None
    if actor is not None:
        reporter = reporter_of(session=session, incident=incident, actor=actor, now=now, face=face)
    return CaseView(
        incident,
        location_of_incident(session=session, incident=incident),
        worker_contact(session=session, worker_id=incident.assignee_worker_id),
        reporter,
    )


def location_of_incident(*, session: Session, incident: Incident) -> Location:
    """The chain a case was filed under (its stored cells, not today's grid)."""
    r = session.execute(_CHAIN, {"id": incident.id}).one()
    values = r._asdict()
    return Location(
        method=values.pop("locate_method") or "covers",
        distance_m=None,
        **values,
    )


def visible_case(
    *, session: Session, incident_id: int, actor: Actor, token: str | None = None
) -> Incident:
    """The case, or 404 when it does not exist or the caller may not see it."""
    incident = session.get(Incident, incident_id)
    if incident is None or not can_see(
        session=session, incident=incident, actor=actor, token=token
    ):
        raise NotFoundError(f"no case {incident_id}", code="incident_not_found")
    return incident


def get_case(
    *,
    session: Session,
    incident_id: int,
    actor: Actor,
    token: str | None = None,
    now: datetime | None = None,
) -> CaseView:
    """One case with its chain and reporter for the caller, for GET /incidents/{id}."""
    incident = visible_case(session=session, incident_id=incident_id, actor=actor, token=token)
    return view_of(session=session, incident=incident, actor=actor, now=now, face="rest.case")


def case_events(
    *, session: Session, incident_id: int, actor: Actor, token: str | None = None
) -> list[IncidentEvent]:
    """A case's audit trail, oldest first."""
    visible_case(session=session, incident_id=incident_id, actor=actor, token=token)
    return list(
        session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.at, IncidentEvent.id)
        )
    )
