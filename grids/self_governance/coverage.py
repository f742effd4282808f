"""The rota read back: a week's shifts and each courtyard's coverage of that week.

A week is Monday 00:00 to the next Monday in the district's local time (UTC+8),
the week a community's rota is planned by.  Coverage (hours someone is on duty,
overlaps counted once) is computed in SQL by `layers.tables.courtyard_shifts`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.access import Actor
from grids.self_governance.people import audit_clear_read, contact, in_clear
from layers.core.errors import UnprocessableError
from layers.tables.clocks import LOCAL_TZ
from layers.tables.courtyard_shifts import CourtyardCoverage, coverage

WEEK_HOURS = 7 * 24


def week_window(week: date | None, now: datetime) -> tuple[datetime, datetime]:
    """``[Monday 00:00, next Monday)`` (UTC) of the week holding `week` (default: `now`'s)."""
    day = week or now.astimezone(LOCAL_TZ).date()
    monday = day - timedelta(days=day.weekday())
    start = datetime.combine(monday, time(0), LOCAL_TZ).astimezone(UTC)
    return start, start + timedelta(days=7)


def week_coverage(
    *,
    session: Session,
    week: date | None,
    now: datetime,
    street: str | None = None,
    community: str | None = None,
    courtyard_id: int | None = None,
    three_nos_only: bool = False,
) -> tuple[datetime, datetime, list[CourtyardCoverage]]:
    """The week's window and every (selected) courtyard's hours covered in it."""
    start, end = week_window(week, now)
    rows = coverage(
        session=session,
        start=start,
        end=end,
        now=now,
        street=street,
        community=community,
        courtyard_id=courtyard_id,
        three_nos_only=three_nos_only,
    )
    return start, end, rows


_SHIFTS_SQL = text(
    """
    SELECT s.id, s.courtyard_id, s.member_id, m.role, m.name, m.phone,
           lower(s.during) AS start, upper(s.during) AS "end",
           s.checked_in_at, s.checked_out_at
    FROM courtyard_shifts s JOIN courtyard_members m ON m.id = s.member_id
    WHERE s.courtyard_id = :yard AND s.during && tstzrange(:start, :end, '[)')
    ORDER BY lower(s.during), s.id
    """
)


def list_shifts(
    *,
    session: Session,
    courtyard_id: int,
    start: datetime,
    end: datetime,
    actor: Actor,
    now: datetime,
) -> list[dict[str, Any]]:
    """A courtyard's shifts meeting ``[start, end)``, who holds them, their check-ins."""
    if end <= start or end - start > timedelta(days=62):
        raise UnprocessableError("ask for a period of up to 62 days", code="invalid_period")
    rows = session.execute(_SHIFTS_SQL, {"yard": courtyard_id, "start": start, "end": end})
    clear = in_clear(actor)
    out = []
    for r in rows.mappings():
        item = {k: v for k, v in r.items() if k not in ("name", "phone")}
        item["member"] = contact(r["name"], r["phone"], clear)
        out.append(item)
    ids = sorted({r["member_id"] for r in out})
    audit_clear_read(session, actor, "courtyard_members", ids, "rota", now)
    return out
