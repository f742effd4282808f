"""The district's own changes to the working-day calendar (table `calendar_overrides`).

A row says whether people work on one date, whatever the official calendar
says: a local rest day, or a year's schedule the `chinesecalendar` package does
not carry yet.  Admins edit it (``PUT/DELETE /admin/calendar/overrides/{date}``,
``wangge calendar set|unset``); every edit is audited.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Boolean, Date, DateTime, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.core.errors import InvalidInputError
from layers.tables.audit import record
from layers.tables.base import Base
from layers.tables.work_calendar import STATUTORY, WorkCalendar


class CalendarOverride(Base):
    """One date whose working-day status the district sets itself."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working_day: Mapped[bool] = mapped_column(Boolean, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_by: Mapped[str | None] = mapped_column(Text)


def load_calendar(*, session: Session) -> WorkCalendar:
    """The official calendar with this database's overrides on top (one query)."""
    rows = session.execute(select(CalendarOverride.day, CalendarOverride.is_working_day)).all()
    return STATUTORY.with_overrides({r.day: r.is_working_day for r in rows})


def list_overrides(
    *, session: Session, first: date | None = None, last: date | None = None
) -> list[CalendarOverride]:
    """Overrides in [first, last] (either end open), by date."""
    query = select(CalendarOverride).order_by(CalendarOverride.day)
    if first is not None:
        query = query.where(CalendarOverride.day >= first)
    if last is not None:
        query = query.where(CalendarOverride.day <= last)
    return list(session.scalars(query))


def set_override(
    *,
    session: Session,
    day: date,
    is_working_day: bool,
    note: str | None,
    actor: str,
    role: str,
    now: datetime,
) -> CalendarOverride:
    """Create or replace the override of `day` (audited)."""
    row = session.get(CalendarOverride, day, with_for_update=True)
    before = None if row is None else {"is_working_day": row.is_working_day, "note": row.note}
    if row is None:
        row = CalendarOverride(day=day)
        session.add(row)
    row.is_working_day, row.note, row.updated_at, row.updated_by = is_working_day, note, now, actor
    session.flush()
    record(
        session=session,
        actor=actor,
        role=role,
        action="calendar_override_set",
        entity="calendar_overrides",
        entity_id=day.isoformat(),
        data={"before": before, "is_working_day": is_working_day, "note": note},
    )
    return row


def delete_override(*, session: Session, day: date, actor: str, role: str) -> bool:
    """Remove the override of `day`; False when there was none (audited when there was)."""
    row = session.get(CalendarOverride, day, with_for_update=True)
    if row is None:
        return False
    before = {"is_working_day": row.is_working_day, "note": row.note}
    session.delete(row)
    session.flush()
    record(
        session=session,
        actor=actor,
        role=role,
        action="calendar_override_deleted",
        entity="calendar_overrides",
        entity_id=day.isoformat(),
        data={"before": before},
    )
    return True


MAX_DAYS = 366
"""Longest range `calendar_days` answers (one year)."""


def calendar_days(*, session: Session, first: date, last: date) -> list[dict[str, object]]:
    """Every day of [first, last]: working or not, where that comes from, the override's note."""
    if last < first or (last - first).days >= MAX_DAYS:
        raise InvalidInputError(
            f"the range must run forwards and span at most {MAX_DAYS} days",
            code="invalid_date_range",
        )
    calendar = load_calendar(session=session)
    notes = {o.day: o.note for o in list_overrides(session=session, first=first, last=last)}
    out: list[dict[str, object]] = []
    day = first
    while day <= last:
        out.append(
            {
                "date": day.isoformat(),
                "is_working_day": calendar.is_working_day(day),
                "source": calendar.source(day),
                "note": notes.get(day),
            }
        )
        day += timedelta(days=1)
    return out
