"""The live board's reads: the open cases as GeoJSON pages, on-duty workers, what changed since.

The board loads every open case it may see in pages (`board_cases`, no silent
truncation), the on-duty workers with their open load (`board_workers`), and then
follows `board_changes`: the case events and worker positions newer than its
cursor ``"<event id>.<position id>"`` (the SSE event id, so a reconnect sends it
back as ``Last-Event-ID`` and misses nothing).  The cases re-read for the events
pass the same scope as the queue, so a street's dispatcher hears its street only.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.access import Actor, actor_scope, scope_sql
from grids.cases.dispatch import QueueFilter, queue
from layers.core.roles import SYSTEM
from layers.tables.incidents import OPEN_STATUSES, STATUSES, STEP_OF_STATUS

_EVENTS_SQL = (
    "SELECT e.id, e.incident_id, e.action, e.actor, e.role, e.to_status, e.at,"
    " coalesce(({scope}), false) AS visible"
    " FROM incident_events e JOIN incidents i ON i.id = e.incident_id"
    " WHERE e.id > :after ORDER BY e.id LIMIT :n"
)
"""Every event after the cursor (the cursor must pass them all), marked visible or not."""
MAX_CHANGES = 500
"""Events (and positions) one read hands on; the rest follow in the next read."""
EVERYONE = Actor("board feed", SYSTEM)
"""Who the shared reader reads as: every case (each board's scope is applied after)."""
ScopeKey = tuple[str, tuple[tuple[str, Any], ...]]
"""A viewer's scope as a value (its WHERE fragment and binds): boards with equal keys see alike."""
SEES_ALL: ScopeKey = ("TRUE", ())


@dataclass(frozen=True)
class Cursor:
    """Where a board stands: the newest case event and worker position it has seen."""

    event_id: int = 0
    position_id: int = 0

    def __str__(self) -> str:
        return f"{self.event_id}.{self.position_id}"

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        """``"12.34"`` → Cursor(12, 34); anything else → None (start from now)."""
        parts = (value or "").split(".")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            return None
        return cls(int(parts[0]), int(parts[1]))


@dataclass
class Changes:
    """What happened after a cursor: events (each with its case's row, if visible), positions.

    ``cursor`` is the newest of what was read; a follower keeps its own safe cursor
    (`Watermark`), since ids are handed out before commit, not in commit order.
    """

    cursor: Cursor
    events: list[dict[str, Any]] = field(default_factory=list)
    positions: list[dict[str, Any]] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    """Every event id read (also those out of the caller's scope or sent before)."""
    position_ids: list[int] = field(default_factory=list)


GAP_WAIT_S = 15.0
"""How long a missing id below newer ones is waited for before it counts as rolled back."""


@dataclass
class Watermark:
    """The highest id below which a follower has everything: the cursor it may hand out.

    Two transactions take ids 7 and 8; 8 commits first.  A follower that read 8 and
    moved its cursor to 8 would never read 7 when it commits a moment later: the board
    would miss it.  So the cursor stops below the first missing id (the events above
    it are still sent at once, and remembered so they are not sent twice) until the
    id arrives or `GAP_WAIT_S` has passed (a rolled-back transaction leaves a hole).
    """

    mark: int
    sent: set[int] = field(default_factory=set)
    gaps: dict[int, float] = field(default_factory=dict)
    """First missing id of a gap → when it was first noticed (monotonic seconds)."""

    def fresh(self, ids: list[int]) -> set[int]:
        """The ids not sent yet (above the mark); they count as sent from now on."""
        new = {i for i in ids if i > self.mark and i not in self.sent}
        self.sent |= new
        return new

    def advance(self, ids: list[int], now_s: float, wait_s: float = GAP_WAIT_S) -> int:
        """Move the mark over the contiguous ids read (and over gaps waited out)."""
        for i in sorted(set(ids)):
            if i <= self.mark:
                continue
            if i > self.mark + 1:
                first = self.gaps.setdefault(self.mark + 1, now_s)
                if now_s - first < wait_s:
                    break
                self.gaps.pop(self.mark + 1, None)
            self.mark = i
        self.sent = {i for i in self.sent if i > self.mark}
        self.gaps = {g: t for g, t in self.gaps.items() if g > self.mark}
        return self.mark

    @property
    def waiting(self) -> bool:
        """True while ids above the mark were sent (a gap is open below them)."""
        return bool(self.sent)


def cursor_now(*, session: Session) -> Cursor:
    """The newest event and position now (taken before a board's first load)."""
    row = session.execute(
        text(
            "SELECT (SELECT coalesce(max(id), 0) FROM incident_events),"
            " (SELECT coalesce(max(id), 0) FROM worker_positions)"
        )
    ).one()
    return Cursor(int(row[0]), int(row[1]))


def scope_key(*, session: Session, actor: Actor) -> ScopeKey:
    """The actor's case scope as a hashable value, so boards are grouped by what they may see."""
    fragment, params = scope_sql(session=session, actor=actor)
    return fragment, tuple(sorted(params.items()))


def visible_cases(
    *, session: Session, scopes: Collection[ScopeKey], ids: Collection[int]
) -> dict[ScopeKey, frozenset[int]]:
    """Of the cases `ids`, those each scope may see: one query per scope, none for `SEES_ALL`.

    The shared board reader reads every event once (as `EVERYONE`) and hands each board
    the ones its scope lets through, with the same fragment `board_changes` would use.
    """
    found: dict[ScopeKey, frozenset[int]] = {}
    for key in set(scopes):
        fragment, params = key
        if fragment == "TRUE" or not ids:
            found[key] = frozenset(ids)
            continue
        sql = f"SELECT i.id FROM incidents i WHERE i.id = ANY(:ids) AND ({fragment})"  # noqa: S608 - fixed fragments
        rows = session.execute(text(sql), {**dict(params), "ids": list(ids)}).scalars()
        found[key] = frozenset(int(r) for r in rows)
    return found


def home_street(*, session: Session, actor: Actor) -> str | None:
    """The street code of a street (or community) unit's dispatcher: the board's default view."""
    unit = actor_scope(session=session, actor=actor).unit
    if unit is None or unit.street_id is None or unit.level == "district":
        return None
    code = session.execute(
        text("SELECT code FROM streets WHERE id = :id"), {"id": unit.street_id}
    ).scalar()
    return str(code) if code else None


def board_workers(*, session: Session) -> list[dict[str, Any]]:
    """On-duty workers with a position, and their open load (no phone: the map is on a wall)."""
    rows = session.execute(
        text(
            "SELECT w.id, w.code, w.name, w.level, ST_X(w.geom) AS lon, ST_Y(w.geom) AS lat,"
            " w.position_at, (SELECT count(*) FROM incidents i WHERE i.assignee_worker_id = w.id"
            "  AND i.status = ANY(:open)) AS open_cases"
            " FROM workers w WHERE w.on_duty AND w.geom IS NOT NULL ORDER BY w.id"
        ),
        {"open": list(OPEN_STATUSES)},
    ).mappings()
    return [dict(r) for r in rows]


def board_changes(
    *,
    session: Session,
    actor: Actor,
    after: Cursor,
    now: datetime,
    sent: tuple[Collection[int], Collection[int]] = ((), ()),
) -> Changes:
    """Case events (in the actor's scope) and positions after `after`, oldest first.

    At most `MAX_CHANGES` of each are read; those whose ids are in `sent` (events,
    positions) were handed on before and are left out, but their ids are listed.
    """
    scope, params = scope_sql(session=session, actor=actor)
    sql = _EVENTS_SQL.format(scope=scope)  # `scope`: fixed fragments, values bound
    binds = {**params, "after": after.event_id, "n": MAX_CHANGES}
    read = [dict(r) for r in session.execute(text(sql), binds).mappings()]
    events = [e for e in read if e.pop("visible") and e["id"] not in sent[0]]
    if events:
        ids = tuple({e["incident_id"] for e in events})
        rows = queue(
            session=session,
            filters=QueueFilter(statuses=tuple(STATUSES), ids=ids),
            actor=actor,
            limit=len(ids),
            now=now,
        ).rows
        with_alarms(session=session, rows=rows, now=now)
        by_id = {r["id"]: r for r in rows}
        for e in events:
            e["case"] = by_id.get(e["incident_id"])
    positions = [
        dict(r)
        for r in session.execute(
            text(
                "SELECT p.id, p.worker_id, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat, p.at,"
                " w.on_duty, w.name, w.level"
                " FROM worker_positions p JOIN workers w ON w.id = p.worker_id"
                " WHERE p.id > :after ORDER BY p.id LIMIT :n"
            ),
            {"after": after.position_id, "n": MAX_CHANGES},
        ).mappings()
    ]
    cursor = Cursor(
        read[-1]["id"] if read else after.event_id,
        positions[-1]["id"] if positions else after.position_id,
    )
    position_ids = [p["id"] for p in positions]
    positions = [p for p in positions if p["id"] not in sent[1]]
    return Changes(cursor, events, positions, [e["id"] for e in read], position_ids)


def with_alarms(*, session: Session, rows: list[dict[str, Any]], now: datetime) -> None:
    """Give each queue row its running step's ``warn_at`` (80 % of the limit) and ``alarm``.

    ``red`` past the due time, ``amber`` past 80 % of the step's limit (counted in
    the step's own clock, working or calendar time, as the SLA sweep counts it).
    """
    if not rows:
        return
    found = session.execute(
        text(
            "SELECT id, (deadlines -> (CAST(:steps AS jsonb) ->> status)) ->> 'warn_at' AS warn_at"
            " FROM incidents WHERE id = ANY(:ids)"
        ),
        {"steps": json.dumps(STEP_OF_STATUS), "ids": [r["id"] for r in rows]},
    ).all()
    warn = {r.id: datetime.fromisoformat(r.warn_at) if r.warn_at else None for r in found}
    for row in rows:
        w = warn.get(row["id"])
        row["warn_at"] = w
        due = row.get("due_at")
        row["alarm"] = (
            "red" if due is not None and due < now else "amber" if w and w <= now else None
        )
