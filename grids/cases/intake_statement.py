"""Intake's hot path: a batch of reported points written in one round trip, autocommit.

Why: `report_case` costs about ten round trips (BEGIN, the key claim, the grid
lock, the duty rule, the worker's card, the ORM flushes of the case and its
event, the key update, the duplicates, COMMIT) and an ORM flush; on the shared
2-core machine each round trip costs a millisecond of latency and CPU on both
sides.  Here each point is located in the kept grid snapshot (no PostGIS), the
SLA clocks are computed from the cached reference tables (`prepare`), and a
batch of reports (`geo_api.intake_batcher`) is sent as one simple query of two
statements, which PostgreSQL runs as one implicit transaction:

1. ``pg_advisory_xact_lock_shared`` on the live grid (`grids.grid.live_grid`),
   held to the end of that transaction, as `hold_live_grid` does;
2. ``EXECUTE`` of one prepared statement of data-modifying CTEs over the
   batch's arrays, whose snapshot is taken after the lock is granted: it checks
   that the live grid is still the version each point was located in, claims
   each `Idempotency-Key` (``ON CONFLICT DO NOTHING`` waits for a concurrent
   first request with the same key; of two reports of one batch with one key,
   one takes it), inserts the cases (ids drawn from the sequence, so the key row
   names its case at once), their ``report`` events (one statement trigger: one
   NOTIFY for the board per batch) with the duty rule's choice
   (`grids.cases.duty.RULE_SQL`), and answers each assignee's card and likely
   duplicates (a bounding box in front of the geodesic test, same answer).

Nothing is written for a report whose grid moved on or whose key was taken: the
caller then reads the first answer back (`grids.cases.intake_replay`) or takes
the ordinary path (`report_case`), which reloads the grid, replays, or refuses
another body with the same key.  So every contract of `report_case` holds: one
case per key, the same row, event, SLA fields and token.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from grids.cases.access import Actor, token_hash
from grids.cases.assign import WorkerContact
from grids.cases.duty import PICK_SQL, RULE_SQL
from grids.cases.intake import (
    DUPLICATE_HOURS,
    DUPLICATE_RADIUS_M,
    IntakeResult,
    NewCase,
    check_references,
    first_deadlines,
    idempotency_scope,
)
from grids.grid.live_grid import LIVE_GRID_LOCK
from grids.grid.locate import Location, locate_one, snapshot_for
from layers.tables.incidents import Incident

_BODY = (
    "WITH live AS (SELECT coalesce(max(id), 0) AS v FROM grid_revisions"  # noqa: S608 - constants
    " WHERE status = 'published'), "
    "src AS (SELECT * FROM unnest(CAST(:ord AS int[]), CAST(:version AS int[]),"
    " CAST(:scope AS text[]), CAST(:key AS text[]), CAST(:fingerprint AS text[]),"
    " CAST(:token AS text[]), CAST(:category AS text[]), CAST(:channel AS text[]),"
    " CAST(:urgency AS text[]), CAST(:description AS text[]), CAST(:address AS text[]),"
    " CAST(:reporter_name AS text[]), CAST(:reporter_phone AS text[]),"
    " CAST(:lon AS float8[]), CAST(:lat AS float8[]), CAST(:crs AS text[]),"
    " CAST(:reported_lon AS float8[]), CAST(:reported_lat AS float8[]),"
    " CAST(:revision AS int[]), CAST(:l1 AS int[]), CAST(:l2 AS int[]), CAST(:l3 AS int[]),"
    " CAST(:community AS int[]), CAST(:street AS int[]), CAST(:method AS text[]),"
    " CAST(:code AS text[]), CAST(:due AS timestamptz[]), CAST(:deadlines AS text[]),"
    " CAST(:now AS timestamptz[]), CAST(:key_id AS int[]), CAST(:token_hash AS text[]),"
    " CAST(:actor AS text[]), CAST(:role AS text[]), CAST(:data AS text[]))"
    " AS u(ord, version, scope, key, fingerprint, token, category, channel, urgency,"
    " description, address, reporter_name, reporter_phone, lon, lat, crs, reported_lon,"
    " reported_lat, revision, l1, l2, l3, community, street, method, code, due, deadlines,"
    " now, key_id, token_hash, actor, role, data)), "
    "ids AS (SELECT src.*, nextval('incidents_id_seq') AS id FROM src, live"
    " WHERE live.v = src.version), "
    "claim AS (INSERT INTO idempotency_keys (scope, key, fingerprint, incident_id, case_token)"
    " SELECT scope, key, fingerprint, id, token FROM ids WHERE key IS NOT NULL"
    " ON CONFLICT (scope, key) DO NOTHING RETURNING incident_id), "
    "go AS (SELECT ids.* FROM ids WHERE key IS NULL"
    " OR id IN (SELECT incident_id FROM claim)), "
    "pick AS (SELECT r.id, " + PICK_SQL + " FROM (SELECT go.id, go.code,"
    " go.community AS community_id, ST_SetSRID(ST_MakePoint(go.lon, go.lat), 4326) AS pt"
    " FROM go) r " + RULE_SQL + "), "
    "inc AS (INSERT INTO incidents (id, category_code, channel_code, status, urgency,"
    " description, address, reporter_name, reporter_phone, geom, reported_crs, reported_lon,"
    " reported_lat, revision_id, l1_cell_id, l2_cell_id, l3_cell_id, community_id, street_id,"
    " locate_method, assignee_worker_id, assignment_reason, due_at, deadlines, created_at,"
    " updated_at, reporter_key_id, access_token_hash)"
    " SELECT go.id, go.category, go.channel, 'reported', go.urgency, go.description,"
    " go.address, go.reporter_name, go.reporter_phone,"
    " ST_SetSRID(ST_MakePoint(go.lon, go.lat), 4326), go.crs, go.reported_lon,"
    " go.reported_lat, go.revision, go.l1, go.l2, go.l3, go.community, go.street, go.method,"
    " pick.worker_id, pick.reason, go.due, CAST(go.deadlines AS jsonb), go.now, go.now,"
    " go.key_id, go.token_hash FROM go JOIN pick ON pick.id = go.id"
    " RETURNING id, unit_id, handling_level, escalation_count, version), "
    "ev AS (INSERT INTO incident_events (incident_id, at, actor, role, action, from_status,"
    " to_status, data)"
    " SELECT go.id, go.now, go.actor, go.role, 'report', NULL, 'reported',"
    " CAST(go.data AS jsonb) || jsonb_build_object('assignee_worker_id', pick.worker_id,"
    " 'assignment_reason', pick.reason)"
    " || CASE WHEN pick.responsible_id IS NOT NULL"
    " AND pick.responsible_id IS DISTINCT FROM pick.worker_id"
    " THEN jsonb_build_object('responsible_worker_id', pick.responsible_id)"
    " ELSE '{}'::jsonb END FROM go JOIN pick ON pick.id = go.id) "
    "SELECT src.ord, inc.id, inc.unit_id, inc.handling_level, inc.escalation_count,"
    " inc.version, pick.reason, w.id AS w_id, w.code AS w_code, w.name AS w_name,"
    " w.phone AS w_phone, w.level AS w_level, w.on_duty AS w_on_duty,"
    " ARRAY(SELECT d.id FROM incidents d WHERE d.id <> inc.id AND d.category_code = src.category"
    " AND d.status <> 'void'"
    " AND d.created_at BETWEEN src.now - make_interval(hours => CAST(:hours AS int))"
    " AND src.now"
    " AND d.geom && ST_Expand(ST_SetSRID(ST_MakePoint(src.lon, src.lat), 4326),"
    " CAST(:radius AS float8) * 1.5 / 110000.0 / greatest(cos(radians(src.lat)), 0.01))"
    " AND ST_DWithin(d.geom::geography,"
    " ST_SetSRID(ST_MakePoint(src.lon, src.lat), 4326)::geography, CAST(:radius AS float8))"
    " ORDER BY d.created_at DESC LIMIT 20) AS duplicates"
    " FROM src LEFT JOIN ids ON ids.ord = src.ord LEFT JOIN inc ON inc.id = ids.id"
    " LEFT JOIN pick ON pick.id = inc.id LEFT JOIN workers w ON w.id = pick.worker_id"
)
_NAMES = list(dict.fromkeys(re.findall(r"(?<![:\w]):([a-z_][a-z_0-9]*)", _BODY)))
_PREPARED = "wangge_intake_batch"
_PREPARE = text(
    f"PREPARE {_PREPARED} AS "
    + re.sub(r"(?<![:\w]):([a-z_][a-z_0-9]*)", lambda m: f"${_NAMES.index(m.group(1)) + 1}", _BODY)
)
_WRITE = text(
    "SELECT pg_advisory_xact_lock_shared(:lock); "
    f"EXECUTE {_PREPARED}(" + ", ".join(f":{n}" for n in _NAMES) + ")"
)
"""Prepared once per connection: the statement's planning cost more than running it for a
batch of eight (5-15 ms on the loaded machine); `EXECUTE` reuses the plan."""


@dataclass(frozen=True)
class PreparedCase:
    """A report checked, located and timed in Python: all its one statement still needs."""

    case: NewCase
    actor: Actor
    scope: str
    key: str | None
    location: Location
    version: int
    urgency: str
    deadlines: dict[str, Any]
    due: datetime | None
    token: str
    now: datetime


def fits_one_statement(case: NewCase) -> bool:
    """True for the common report: a point and no external id (those take `report_case`)."""
    return case.lon is not None and case.lat is not None and case.external_id is None


def prepare(
    *,
    session: Session,
    case: NewCase,
    actor: Actor,
    idempotency_key: str | None,
    tolerance_m: float | None,
    now: datetime,
    client: str | None,
) -> PreparedCase:
    """Check, locate (kept grid snapshot) and time a report without writing anything.

    Raises what `report_case` raises for the report (unknown category or channel,
    outside the district, bad coordinates); reads the database only when the
    cached reference tables or grid are stale.
    """
    assert case.lon is not None and case.lat is not None
    now = now.astimezone(UTC)
    urgency = check_references(session, case)
    snap = snapshot_for(session=session)
    location = locate_one(
        session=session,
        lon=case.lon,
        lat=case.lat,
        crs=case.crs,
        tolerance_m=tolerance_m,
        snapshot=snap,
    )
    deadlines, due = first_deadlines(session, case.category_code, urgency, now)
    return PreparedCase(
        case=case,
        actor=actor,
        scope=idempotency_scope(actor, client),
        key=idempotency_key,
        location=location,
        version=snap.version if snap.version is not None else -1,
        urgency=urgency,
        deadlines=deadlines,
        due=due,
        token=secrets.token_urlsafe(24),
        now=now,
    )


def _columns(items: list[PreparedCase]) -> dict[str, list[Any]]:
    """The statement's parameters: one array per column, one element per report."""
    cols: dict[str, list[Any]] = {}

    def put(name: str, value: Any) -> None:
        cols.setdefault(name, []).append(value)

    for i, p in enumerate(items):
        c, loc = p.case, p.location
        for name, value in (
            ("ord", i),
            ("version", p.version),
            ("scope", p.scope),
            ("key", p.key),
            ("fingerprint", c.fingerprint()),
            ("token", p.token),
            ("category", c.category_code),
            ("channel", c.channel_code),
            ("urgency", p.urgency),
            ("description", c.description),
            ("address", c.address),
            ("reporter_name", c.reporter_name),
            ("reporter_phone", c.reporter_phone),
            ("lon", loc.lon),
            ("lat", loc.lat),
            ("crs", c.crs),
            ("reported_lon", c.lon),
            ("reported_lat", c.lat),
            ("revision", loc.revision_id),
            ("l1", loc.l1_id),
            ("l2", loc.l2_id),
            ("l3", loc.l3_id),
            ("community", loc.community_id),
            ("street", loc.street_id),
            ("method", loc.method),
            ("code", loc.l1_code),
            ("due", p.due),
            ("deadlines", json.dumps(p.deadlines)),
            ("now", p.now),
            ("key_id", p.actor.key_id),
            ("token_hash", token_hash(p.token)),
            ("actor", p.actor.name),
            ("role", p.actor.role),
            ("data", json.dumps({"channel": c.channel_code, "locate_method": loc.method})),
        ):
            put(name, value)
    return cols


def write_batch(*, session: Session, items: list[PreparedCase]) -> list[IntakeResult | None]:
    """Write prepared reports in one round trip; None where `report_case` must answer instead.

    `session` is on an autocommit connection (`geo_api.deps.autocommit_session`):
    the statement commits on its own, so every answer returned is durable.  None
    for a report whose key was taken (by an earlier request, or by another report
    of this batch) or whose grid is no longer the live one: nothing was written
    for it.
    """
    if not items:
        return []
    params: dict[str, Any] = {
        "lock": LIVE_GRID_LOCK,
        "hours": DUPLICATE_HOURS,
        "radius": DUPLICATE_RADIUS_M,
        **_columns(items),
    }
    rows = {r.ord: r for r in _execute(session, params)}
    return [_result(items[i], rows.get(i)) for i in range(len(items))]


def _execute(session: Session, params: dict[str, Any]) -> list[Any]:
    """`_WRITE` on the session's connection, preparing it there first when needed.

    A connection that lost the prepared statement (a reset) says so with an error
    before anything ran; it is prepared again and the batch sent once more.
    """
    info = session.connection().connection.info
    if not info.get(_PREPARED):
        session.execute(_PREPARE)
        info[_PREPARED] = True
    try:
        return list(session.execute(_WRITE, params))
    except ProgrammingError as exc:
        if "does not exist" not in str(exc.orig):
            raise
        session.rollback()
        session.execute(_PREPARE)
        return list(session.execute(_WRITE, params))


def _result(p: PreparedCase, row: Any) -> IntakeResult | None:
    """The answer to one written report (None when the statement wrote nothing for it)."""
    if row is None or row.id is None:
        return None
    c, location = p.case, p.location
    incident = Incident(
        id=row.id,
        external_id=None,
        category_code=c.category_code,
        channel_code=c.channel_code,
        status="reported",
        urgency=p.urgency,
        description=c.description,
        address=c.address,
        reporter_name=c.reporter_name,
        reporter_phone=c.reporter_phone,
        reported_crs=c.crs,
        reported_lon=c.lon,
        reported_lat=c.lat,
        revision_id=location.revision_id,
        l1_cell_id=location.l1_id,
        l2_cell_id=location.l2_id,
        l3_cell_id=location.l3_id,
        community_id=location.community_id,
        street_id=location.street_id,
        locate_method=location.method,
        assignee_worker_id=row.w_id,
        assignment_reason=row.reason,
        handling_level=row.handling_level,
        unit_id=row.unit_id,
        supervised_at=None,
        escalation_count=row.escalation_count,
        due_at=p.due,
        deadlines=p.deadlines,
        created_at=p.now,
        updated_at=p.now,
        closed_at=None,
        version=row.version,
        reporter_key_id=p.actor.key_id,
    )
    assignee = (
        WorkerContact(row.w_id, row.w_code, row.w_name, row.w_phone, row.w_level, row.w_on_duty)
        if row.w_id is not None
        else None
    )
    return IntakeResult(incident, location, assignee, list(row.duplicates), p.token)


def report_in_one_statement(
    *,
    session: Session,
    case: NewCase,
    actor: Actor,
    idempotency_key: str | None,
    tolerance_m: float | None,
    now: datetime,
    client: str | None,
) -> IntakeResult | None:
    """One report, prepared and written alone (`write_batch` of one); None as there."""
    prepared = prepare(
        session=session,
        case=case,
        actor=actor,
        idempotency_key=idempotency_key,
        tolerance_m=tolerance_m,
        now=now,
        client=client,
    )
    return write_batch(session=session, items=[prepared])[0]
