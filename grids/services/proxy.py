"""Proxy handling (网下代办): requested online, handled offline by community workers.

requested → accepted (by any station: 全区通办, the accepting station recorded)
→ materials_collected (from the library or checked at the window) → submitted
(to the owning department's queue) → decided (approved / rejected) → closed
(picked up or delivered).  A resident may withdraw before submission.  Each
step has a time limit in working days on the district's calendar (holidays and
调休 included, `layers.tables.clocks`); the running step's deadline is `due_at`,
every step's start, due and end are kept in `deadlines`.  Every step writes a
`proxy_events` row and an audit entry, and a notice to the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from grids.cases.access import Actor
from grids.cases.reference import work_calendar
from grids.services.catalogue import get_item
from grids.services.documents import owned_kinds
from grids.services.outbox import enqueue
from grids.services.points import get_point
from grids.services.tokens import new_token, require
from layers.core.errors import ConflictError, ForbiddenError, NotFoundError, UnprocessableError
from layers.core.roles import SERVICE_STAFF
from layers.tables.audit import record
from layers.tables.clocks import deadline
from layers.tables.proxy_requests import ProxyEvent, ProxyRequest
from layers.tables.service_items import MATERIAL_KINDS, ServiceItem

STEP_DAYS = {"requested": 1, "accepted": 2, "materials_collected": 1, "decided": 3}
"""Working days each step may take; `submitted` takes the item's statutory limit."""
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "accept": (("requested",), "accepted"),
    "collect": (("accepted",), "materials_collected"),
    "submit": (("materials_collected",), "submitted"),
    "decide": (("submitted",), "decided"),
    "hand_over": (("decided",), "closed"),
    "withdraw": (("requested", "accepted", "materials_collected"), "withdrawn"),
}
"""Action → (statuses it may start from, status it leads to)."""
STATIONS = ("service_station", "appointment_point")
"""Service point kinds that accept proxy requests."""


@dataclass(frozen=True)
class NewProxy:
    """What a resident (online) or a station (walk-in) asks to have handled."""

    item: str
    channel: str = "online"
    document_ids: tuple[int, ...] = ()
    library_token: str | None = None
    lon: float | None = None
    lat: float | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    person_id: int | None = None


@dataclass(frozen=True)
class Step:
    """One action on a request, with what it carries."""

    action: str
    service_point: str | None = None
    materials: tuple[str, ...] = ()
    result: str | None = None
    handover: str | None = None
    note: str | None = None


def _home_community(session: Session, lon: float | None, lat: float | None) -> int | None:
    if lon is None or lat is None:
        return None
    return session.execute(
        text(
            "SELECT id FROM communities WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), "
            "4326)) ORDER BY id LIMIT 1"
        ),
        {"x": lon, "y": lat},
    ).scalar()


def _limit_days(status: str, item: ServiceItem) -> int | None:
    return item.time_limit_days if status == "submitted" else STEP_DAYS.get(status)


def _enter(
    session: Session, req: ProxyRequest, item: ServiceItem, status: str, now: datetime
) -> None:
    """Close the running step's clock, start the next one's."""
    deadlines = dict(req.deadlines or {})
    running = deadlines.get(req.status)
    if running is not None and "done_at" not in running:
        running = dict(
            running,
            done_at=now.isoformat(),
            on_time=now <= datetime.fromisoformat(running["due_at"]),
        )
        deadlines[req.status] = running
    days = _limit_days(status, item)
    req.due_at = None
    if days is not None:
        due = deadline(now, days, "working_days", work_calendar(session=session))
        deadlines[status] = {
            "started_at": now.isoformat(),
            "due_at": due.isoformat(),
            "working_days": days,
        }
        req.due_at = due
    req.deadlines, req.status, req.updated_at = deadlines, status, now


def _event(
    session: Session,
    req: ProxyRequest,
    before: str | None,
    actor: Actor,
    note: str | None,
    now: datetime,
) -> None:
    session.add(
        ProxyEvent(
            request_id=req.id,
            at=now,
            from_status=before,
            to_status=req.status,
            actor=actor.name,
            role=actor.role,
            note=note,
            due_at=req.due_at,
        )
    )
    record(
        session=session,
        actor=actor.name,
        role=actor.role,
        action=f"proxy_{req.status}",
        entity="proxy_requests",
        entity_id=req.id,
        data={"from": before, "to": req.status},
        at=now,
    )
    enqueue(
        session=session,
        kind=f"proxy_{req.status}",
        body=f"代办进度：{req.status}",
        due_at=now,
        now=now,
        proxy_request_id=req.id,
    )


def create_request(
    *, session: Session, new: NewProxy, actor: Actor, now: datetime
) -> tuple[ProxyRequest, str]:
    """Open a request (checked first); answers it and the resident's follow token."""
    item = get_item(session=session, code=new.item)
    if new.channel not in ("online", "walk_in"):
        raise UnprocessableError("channel is online or walk_in", code="invalid_channel")
    if new.channel == "walk_in" and actor.role not in SERVICE_STAFF:
        raise ForbiddenError("walk-ins are registered by station staff", code="walk_in_staff_only")
    owned_kinds(session=session, ids=new.document_ids, token=new.library_token)
    token, hashed = new_token()
    req = ProxyRequest(
        item_id=item.id,
        status="requested",
        channel=new.channel,
        access_token_hash=hashed,
        home_community_id=_home_community(session, new.lon, new.lat),
        department_code=item.department_code,
        document_ids=list(new.document_ids),
        contact_name=new.contact_name,
        contact_phone=new.contact_phone,
        person_id=new.person_id,
        deadlines={},
        created_at=now,
        updated_at=now,
    )
    _enter(session, req, item, "requested", now)
    session.add(req)
    session.flush()
    _event(session, req, None, actor, None, now)
    return req, token


def load_request(
    *, session: Session, request_id: int, actor: Actor, token: str | None, lock: bool = False
) -> ProxyRequest:
    """The request if `actor` may see it: service staff, or the resident with its token."""
    req = session.get(ProxyRequest, request_id, with_for_update=lock)
    if req is None:
        raise NotFoundError("no such proxy request", code="unknown_proxy_request")
    if actor.role not in SERVICE_STAFF:
        require(token, req.access_token_hash, what="proxy request", code="unknown_proxy_request")
    return req


def _apply(session: Session, req: ProxyRequest, item: ServiceItem, step: Step) -> None:
    """The step's own checks and fields (before the status moves)."""
    if step.action == "accept":
        point = get_point(session=session, code=step.service_point or "")
        kind = session.execute(
            text("SELECT kind FROM service_points WHERE id = :i"), {"i": point.id}
        ).scalar_one()
        if kind not in STATIONS:
            raise UnprocessableError(f"{point.code} is not a service station", code="not_a_station")
        req.accepting_point_id = point.id
    elif step.action == "collect":
        have = set(step.materials) | set(
            session.scalars(
                text(
                    "SELECT kind FROM resident_documents WHERE id = ANY(:d) AND deleted_at IS NULL"
                ),
                {"d": list(req.document_ids)},
            )
        )
        missing = [m for m in item.materials if m not in have]
        if missing:
            raise UnprocessableError(
                "required materials are missing: " + "、".join(MATERIAL_KINDS[m] for m in missing),
                code="missing_materials",
                missing=missing,
            )
    elif step.action == "decide":
        if step.result not in ("approved", "rejected"):
            raise UnprocessableError("result is approved or rejected", code="invalid_result")
        req.result = step.result
    elif step.action == "hand_over":
        if step.handover not in ("pickup", "delivery"):
            raise UnprocessableError("handover is pickup or delivery", code="invalid_handover")
        req.handover = step.handover


def transition(
    *, session: Session, request_id: int, step: Step, actor: Actor, token: str | None, now: datetime
) -> ProxyRequest:
    """Take one step; 409 `invalid_transition` from the wrong status, nothing written on error."""
    if step.action not in ACTIONS:
        raise UnprocessableError(
            f"unknown action {step.action!r}", code="unknown_action", allowed=list(ACTIONS)
        )
    if step.action != "withdraw" and actor.role not in SERVICE_STAFF:
        raise ForbiddenError("only service staff take this step", code="staff_only")
    req = load_request(session=session, request_id=request_id, actor=actor, token=token, lock=True)
    sources, target = ACTIONS[step.action]
    if req.status not in sources:
        raise ConflictError(
            f"cannot {step.action} a request that is {req.status}",
            code="invalid_transition",
            current=req.status,
        )
    item = session.get(ServiceItem, req.item_id)
    assert item is not None
    _apply(session, req, item, step)
    before = req.status
    _enter(session, req, item, target, now)
    if target in ("closed", "withdrawn"):
        req.closed_at = now
    req.version += 1
    session.flush()
    _event(session, req, before, actor, step.note, now)
    return req


def request_out(session: Session, req: ProxyRequest, *, staff: bool) -> dict[str, Any]:
    """The request and its trail as the API shows it (residents do not see who acted)."""
    item = session.get(ServiceItem, req.item_id)
    point = None
    if req.accepting_point_id is not None:
        point = session.execute(
            text("SELECT code FROM service_points WHERE id = :i"), {"i": req.accepting_point_id}
        ).scalar()
    events = session.scalars(
        select(ProxyEvent).where(ProxyEvent.request_id == req.id).order_by(ProxyEvent.id)
    )
    return {
        "id": req.id,
        "item": {"code": item.code, "name": item.name} if item else None,
        "status": req.status,
        "channel": req.channel,
        "department_code": req.department_code,
        "accepting_station": point,
        "result": req.result,
        "handover": req.handover,
        "due_at": req.due_at,
        "deadlines": req.deadlines,
        "created_at": req.created_at,
        "closed_at": req.closed_at,
        "document_count": len(req.document_ids),
        "events": [
            {
                "at": e.at,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "due_at": e.due_at,
                **({"actor": e.actor, "role": e.role, "note": e.note} if staff else {}),
            }
            for e in events
        ],
    }
