"""The duty rota at the liaison posts: book a shift, check in, check out.

A grid worker keeps the rota of their own community only (others' courtyards answer
404, as cases outside their cells do).  Overlap is refused by the database
(`OVERLAP_CONSTRAINT`), not by a read-then-write check here, so two concurrent
bookings of one person cannot both succeed; this module only turns the refusal
into a 409 ``shift_overlap`` naming the shift in the way.  Every write is audited
in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grids.cases.access import Actor
from layers.core.errors import ConflictError, NotFoundError, UnprocessableError
from layers.core.roles import FIELD_WORK
from layers.tables.audit import record
from layers.tables.courtyard_members import CourtyardMember
from layers.tables.courtyard_shifts import (
    OVERLAP_CONSTRAINT,
    PERSON_OVERLAP_CONSTRAINT,
    CourtyardShift,
)
from layers.tables.courtyards import Courtyard

MAX_SHIFT = timedelta(hours=24)
EARLY_CHECK_IN = timedelta(minutes=30)
"""How long before its start a shift may be checked in (arriving early is fine)."""


@dataclass(frozen=True)
class NewShift:
    """A member on duty at a courtyard's liaison post for ``[start, end)``."""

    courtyard_id: int
    member_id: int
    start: datetime
    end: datetime


def check_scope(session: Session, actor: Actor, courtyard_id: int) -> None:
    """404 ``courtyard_not_found`` for an unknown courtyard, or one outside a grid worker's
    own community: field staff keep the rota of their community only (and do not learn
    of others' through the error)."""
    yard = session.get(Courtyard, courtyard_id)
    if yard is None:
        raise NotFoundError("no such courtyard", code="courtyard_not_found")
    if actor.role in FIELD_WORK:
        own = session.execute(
            text("SELECT community_id FROM workers WHERE id = :w"), {"w": actor.worker_id}
        ).scalar()
        if own != yard.community_id:
            raise NotFoundError("no such courtyard", code="courtyard_not_found")


def _check_shift(session: Session, shift: NewShift, actor: Actor) -> None:
    """404 for an unknown courtyard or member, 422 for a member elsewhere or a bad period."""
    check_scope(session, actor, shift.courtyard_id)
    member = session.get(CourtyardMember, shift.member_id)
    if member is None:
        raise NotFoundError("no such member", code="member_not_found")
    if member.courtyard_id != shift.courtyard_id:
        raise UnprocessableError(
            "the member does not serve this courtyard", code="member_not_in_courtyard"
        )
    if shift.end <= shift.start:
        raise UnprocessableError("a shift ends after it starts", code="invalid_period")
    if shift.end - shift.start > MAX_SHIFT:
        raise UnprocessableError("a shift lasts at most 24 hours", code="shift_too_long")


def add_shift(*, session: Session, shift: NewShift, actor: Actor, now: datetime) -> CourtyardShift:
    """Book the shift; 409 ``shift_overlap`` when the member is already on duty then."""
    _check_shift(session, shift, actor)
    row = CourtyardShift(
        courtyard_id=shift.courtyard_id,
        member_id=shift.member_id,
        during=Range(shift.start, shift.end, bounds="[)"),
        created_by=actor.name,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        if not any(c in str(exc.orig) for c in (OVERLAP_CONSTRAINT, PERSON_OVERLAP_CONSTRAINT)):
            raise
        raise ConflictError(
            "this person is already on duty during that time",
            code="shift_overlap",
            conflicting_shift_ids=_overlapping(session, shift),
        ) from None
    _audit(session, actor, "courtyard_shift.create", row, now, {"member_id": shift.member_id})
    return row


def _overlapping(session: Session, shift: NewShift) -> list[int]:
    """The person's shifts, in any courtyard, that overlap the refused one (what is in the way)."""
    rows = session.execute(
        text(
            "SELECT s.id FROM courtyard_shifts s JOIN courtyard_members m"
            " ON coalesce('p' || m.person_id, 'm' || m.id) = s.person_key"
            " WHERE m.id = :m AND s.during && tstzrange(:s, :e, '[)') ORDER BY s.id"
        ),
        {"m": shift.member_id, "s": shift.start, "e": shift.end},
    )
    return [r.id for r in rows]


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    row: CourtyardShift,
    now: datetime,
    data: dict[str, object],
) -> None:
    record(
        session=session,
        actor=actor.name,
        role=actor.role,
        action=action,
        entity="courtyard_shifts",
        entity_id=row.id,
        data={"courtyard_id": row.courtyard_id, **data},
        at=now,
    )


def own_shift(session: Session, shift_id: int, member_id: int, actor: Actor) -> CourtyardShift:
    """The shift, locked, when `member_id` holds it (404 / 409 ``not_your_shift`` else)."""
    row = session.scalars(
        select(CourtyardShift).where(CourtyardShift.id == shift_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise NotFoundError("no such shift", code="shift_not_found")
    check_scope(session, actor, row.courtyard_id)
    if row.member_id != member_id:
        raise ConflictError("this shift is someone else's", code="not_your_shift")
    return row


def check_in(
    *, session: Session, shift_id: int, member_id: int, actor: Actor, now: datetime
) -> CourtyardShift:
    """Mark the member arrived at the post (from 30 min before the start until its end)."""
    row = own_shift(session, shift_id, member_id, actor)
    if row.checked_in_at is not None:
        raise ConflictError("the shift is already checked in", code="already_checked_in")
    start, end = row.during.lower, row.during.upper
    assert start is not None and end is not None  # the table's CHECK: bounded shifts
    if not start - EARLY_CHECK_IN <= now < end:
        raise ConflictError(
            "check in during the shift (or up to 30 minutes before it)",
            code="outside_shift",
            start=start.isoformat(),
            end=end.isoformat(),
        )
    row.checked_in_at = now
    _audit(session, actor, "courtyard_shift.check_in", row, now, {"member_id": member_id})
    session.flush()
    return row


def check_out(
    *, session: Session, shift_id: int, member_id: int, actor: Actor, now: datetime
) -> CourtyardShift:
    """Mark the member gone from the post; only after checking in, once."""
    row = own_shift(session, shift_id, member_id, actor)
    if row.checked_in_at is None:
        raise ConflictError("check in before checking out", code="not_checked_in")
    if row.checked_out_at is not None:
        raise ConflictError("the shift is already checked out", code="already_checked_out")
    row.checked_out_at = max(now, row.checked_in_at)
    _audit(session, actor, "courtyard_shift.check_out", row, now, {"member_id": member_id})
    session.flush()
    return row


MY_WINDOW = (timedelta(hours=12), timedelta(hours=36))
"""The handheld lists the shifts meeting ``[now - 12 h, now + 36 h)``: last night's, today's,
tomorrow's."""
_MINE_SQL = text(
    """
    SELECT s.id, s.courtyard_id, y.name AS courtyard_name, s.member_id,
           m.role AS member_role, lower(s.during) AS start, upper(s.during) AS "end",
           s.checked_in_at, s.checked_out_at
    FROM courtyard_shifts s JOIN courtyard_members m ON m.id = s.member_id
    JOIN courtyards y ON y.id = s.courtyard_id
    WHERE m.worker_id = :w AND s.during && tstzrange(:start, :end, '[)')
    ORDER BY lower(s.during), s.id
    """
)


def my_shifts(*, session: Session, worker_id: int, now: datetime) -> list[dict[str, object]]:
    """The shifts a grid worker holds as a courtyard member (楼栋长, 单元长 … linked to them
    by `courtyard_members.worker_id`) around `now`: what their handheld checks in and out.

    Only their own records, so nothing of anyone else's is read (no audit needed)."""
    before, after = MY_WINDOW
    rows = session.execute(
        _MINE_SQL, {"w": worker_id, "start": now - before, "end": now + after}
    ).mappings()
    return [dict(r) for r in rows]
