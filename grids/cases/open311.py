"""The case side of Open311 GeoReport v2: services are categories, requests are incidents.

Only the public fields of a case leave through here (no reporter data, no
workers, ever); ``service_request_id`` is the incident id.  What a caller reads
follows FixMyStreet's practice and the case access rule (`layers.tables.case_scope`):
the cases their role may see come in full (description, address, exact point);
any other case is listed only when its category and channel are public, and then
generalised: the category's name for a description, the street and community for
an address, the point snapped to a `precision_m` grid.  Disputes, security,
personal matters and petitions are never public.  Posted requests come in
through one intake channel (`CaseSettings.open311_channel`, ``resident_app`` by
default) and the normal intake (`grids.cases.intake.report_case`).  An
``address_string`` without coordinates is matched against courtyard, then
community names (the longest name contained in the address wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.base_data.geocode import geocode
from grids.cases.access import Actor, actor_scope, token_hash
from grids.cases.intake import ADDRESS_MIN_SCORE, IntakeResult, NewCase, report_case
from layers.core.constants import UTM48N
from layers.core.errors import InvalidInputError, NotFoundError
from layers.tables.case_scope import public_cases_sql
from layers.tables.clocks import LOCAL_TZ

CLOSED = ("closed", "evaluated", "void")
MAX_SPAN = timedelta(days=90)
MAX_REQUESTS = 1000
"""GET requests answers at most this many, newest first."""
CENTRE = "成华区网格化服务管理中心"


def _w3c(moment: datetime | None) -> str | None:
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if moment else None


def services(*, session: Session) -> list[dict[str, Any]]:
    """Every category as an Open311 service."""
    rows = session.execute(
        text("SELECT code, name, name_en, major_name, domain FROM categories ORDER BY code")
    ).all()
    return [
        {
            "service_code": r.code,
            "service_name": r.name,
            "description": f"{r.major_name} / {r.name} ({r.name_en})",
            "metadata": False,
            "type": "realtime",
            "keywords": ",".join((r.major_name, r.name_en, r.domain)),
            "group": r.major_name,
        }
        for r in rows
    ]


def service_definition(*, session: Session, service_code: str) -> dict[str, Any]:
    """A service's definition: ours take no extra attributes."""
    found = session.execute(
        text("SELECT 1 FROM categories WHERE code = :c"), {"c": service_code}
    ).scalar()
    if found is None:
        raise NotFoundError(f"no service {service_code!r}", code="unknown_service")
    return {"service_code": service_code, "attributes": []}


_REQUESTS = (
    "WITH picked AS (SELECT i.*, ({rows}) AS full_view FROM incidents i "
    "WHERE ({where}) AND (({rows}) OR {public}) "
    "ORDER BY i.created_at DESC, i.id DESC LIMIT :limit) "
    "SELECT i.id, i.status, i.category_code, c.name AS service_name, i.description, "
    "i.handling_level, i.created_at, i.updated_at, i.due_at, i.address, i.full_view, "
    "ST_X(p.pt) AS lon, ST_Y(p.pt) AS lat, s.name AS street, m.name AS community "
    "FROM picked i JOIN categories c ON c.code = i.category_code "
    "CROSS JOIN LATERAL (SELECT CASE WHEN i.full_view THEN i.geom ELSE ST_Transform("
    "ST_SnapToGrid(ST_Transform(i.geom, CAST(:srid AS integer)), :grid), 4326) END AS pt) p "
    "LEFT JOIN streets s ON s.id = i.street_id LEFT JOIN communities m ON m.id = i.community_id "
    "ORDER BY i.created_at DESC, i.id DESC"
)


@dataclass(frozen=True)
class RequestQuery:
    """GET requests parameters, parsed."""

    ids: list[int] | None = None
    codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] | None = None


def find_requests(
    *,
    session: Session,
    query: RequestQuery,
    actor: Actor,
    now: datetime,
    precision_m: float = 50.0,
    metric_srid: int = UTM48N,
) -> list[dict[str, Any]]:
    """Requests by id (overrides the rest), else by service, period (≤ 90 days) and status.

    The actor's own cases (their role's scope) in full; other cases only when public,
    generalised, with the point snapped to `precision_m` metres in `metric_srid`.
    """
    rows_sql, params = actor_scope(session=session, actor=actor).rows_sql("i")
    params.update(limit=MAX_REQUESTS, srid=metric_srid, grid=float(precision_m))
    if query.ids is not None:
        where = "i.id = ANY(:ids)"
        params["ids"] = query.ids
    else:
        end = query.end or now
        start = query.start or end - MAX_SPAN
        if end <= start or end - start > MAX_SPAN:
            raise InvalidInputError(
                "start_date/end_date must be in order and at most 90 days apart",
                code="invalid_period",
            )
        clauses = ["i.created_at >= :start", "i.created_at < :end"]
        params.update(start=start, end=end)
        if query.codes:
            clauses.append("i.category_code = ANY(:codes)")
            params["codes"] = query.codes
        if query.statuses and set(query.statuses) != {"open", "closed"}:
            clauses.append(("" if "closed" in query.statuses else "NOT ") + "i.status = ANY(:c)")
            params["c"] = list(CLOSED)
        where = " AND ".join(clauses)
    sql = _REQUESTS.format(where=where, rows=rows_sql, public=public_cases_sql("i"))
    rows = session.execute(text(sql), params).all()
    return [_request(r) for r in rows]


def _request(r: Any) -> dict[str, Any]:
    """One request as GeoReport v2 writes it; generalised unless the caller may see the case."""
    agency = {"street": r.street, "district": CENTRE}.get(r.handling_level, r.community)
    full = bool(r.full_view)
    area = "".join(p for p in (r.street, r.community) if p)
    return {
        "service_request_id": str(r.id),
        "status": "closed" if r.status in CLOSED else "open",
        "status_notes": r.status,
        "service_name": r.service_name,
        "service_code": r.category_code,
        "description": r.description if full else r.service_name,
        "agency_responsible": agency or CENTRE,
        "service_notice": "",
        "requested_datetime": _w3c(r.created_at),
        "updated_datetime": _w3c(r.updated_at),
        "expected_datetime": _w3c(r.due_at),
        "address": (r.address or "") if full else area,
        "address_id": "",
        "zipcode": "",
        "lat": float(r.lat),
        "long": float(r.lon),
        "media_url": "",
    }


def request_by_token(*, session: Session, token: str) -> dict[str, str]:
    """The request id a token stands for (404 for an unknown token)."""
    found = session.execute(
        text("SELECT id FROM incidents WHERE access_token_hash = :h"), {"h": token_hash(token)}
    ).scalar()
    if found is None:
        raise NotFoundError("unknown token", code="unknown_token")
    return {"service_request_id": str(found), "token": token}


@dataclass(frozen=True)
class Open311Post:
    """The fields of a POST requests call we use (coordinates are WGS-84)."""

    service_code: str
    lat: float | None = None
    lon: float | None = None
    address_string: str | None = None
    description: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None


def geocode_address(*, session: Session, address: str) -> tuple[float, float] | None:
    """A point for an address naming a courtyard or a community, else None."""
    for table in ("courtyards", "communities"):
        row = session.execute(
            text(
                f"SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(geom) AS p, "  # noqa: S608 - fixed names
                f"name FROM {table} WHERE strpos(:a, name) > 0 "
                "ORDER BY length(name) DESC, id LIMIT 1) t"
            ),
            {"a": address},
        ).first()
        if row is not None:
            return float(row.lon), float(row.lat)
    return None


def post_request(
    *,
    session: Session,
    post: Open311Post,
    actor: Actor,
    channel: str,
    idempotency_key: str | None = None,
    tolerance_m: float,
    client: str | None = None,
    now: datetime,
) -> IntakeResult:
    """Take an Open311 POST in as a case through `channel` (`client`: the caller's address)."""
    lon, lat = post.lon, post.lat
    located_by = None
    if lon is None or lat is None:
        if not post.address_string:
            raise InvalidInputError(
                "send lat and long, or an address_string", code="missing_location"
            )
        hits = geocode(session=session, q=post.address_string, limit=1, tolerance_m=tolerance_m)
        if hits and hits[0].score >= ADDRESS_MIN_SCORE:  # a standard address first
            hit = hits[0]
            located_by = {"method": "address", "address_id": hit.address_id, "score": hit.score}
            found: tuple[float, float] | None = (hit.lon, hit.lat)
        else:
            found = geocode_address(session=session, address=post.address_string)
        if found is None:
            raise InvalidInputError(
                "the address_string names no known courtyard or community; send lat/long",
                code="address_not_found",
            )
        lon, lat = found
    name = "".join(p for p in (post.last_name, post.first_name) if p) or None
    name_row = session.execute(
        text("SELECT name FROM categories WHERE code = :c"), {"c": post.service_code}
    ).scalar()
    case = NewCase(
        lon=lon,
        lat=lat,
        crs="wgs84",
        category_code=post.service_code,
        channel_code=channel,
        description=(post.description or "").strip() or (name_row or post.service_code),
        address=post.address_string,
        reporter_name=name,
        reporter_phone=post.phone,
        located_by=located_by,
    )
    return report_case(
        session=session,
        case=case,
        actor=actor,
        idempotency_key=idempotency_key,
        tolerance_m=tolerance_m,
        client=client,
        now=now,
    )
