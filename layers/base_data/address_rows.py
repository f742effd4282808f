"""`--class addresses`: standard addresses with their entrance points, from civil affairs' files.

A row names the address in full (`address`) or by its parts (road, number,
栋, 单元) and carries the entrance point (`lon`/`lat`, WGS 84; a GeoPackage's or
Shapefile's point geometry is read into them).  The text is normalised as
everywhere (`address_text`: full-width, 幢→栋, 三→3, old road names), so the
standard form is one spelling.  Rejected: ``unparseable_address``,
``missing_field`` (no point), ``bad_point`` (not a coordinate),
``outside_district``, ``duplicate_in_file``.  A known address (same standard
text) is not moved: the statement is kept in `base_provenance`, merged.
A new one is linked to the building whose footprint covers its point, and to
that building's courtyard (else the courtyard covering the point).
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import Connection, text

from layers.base_data.address_text import normalise, parse, standard_text
from layers.base_data.checks import Record, RowRejectedError, reported_at
from layers.base_data.import_book import ImportBook
from layers.base_data.matching import AddressBook
from layers.store.copy import copy_rows

_IN_DISTRICT = (
    "SELECT EXISTS (SELECT 1 FROM districts d"
    " WHERE ST_Covers(d.geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)))"
)


def _text(rec: dict[str, str]) -> str:
    if rec.get("address"):
        return rec["address"]
    parts = [rec.get("road", ""), rec.get("number", "") and f"{rec['number']}号"]
    parts += [rec.get("building_no", "") and f"{rec['building_no']}栋"]
    parts += [rec.get("unit_no", "") and f"{rec['unit_no']}单元"]
    return "".join(p for p in parts if p)


def _point(book: AddressBook, rec: dict[str, str]) -> tuple[float, float]:
    if not rec.get("lon") or not rec.get("lat"):
        raise RowRejectedError("missing_field", "no entrance point (lon/lat)")
    try:
        lon, lat = float(rec["lon"]), float(rec["lat"])
    except ValueError as exc:
        raise RowRejectedError(
            "bad_point", f"not a coordinate: {rec['lon']!r}, {rec['lat']!r}"
        ) from exc
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise RowRejectedError("bad_point", f"not a WGS 84 coordinate: {lon}, {lat}")
    assert book.session is not None
    inside = book.inside.get((lon, lat)) if isinstance(book, ImportBook) else None
    if inside is None:
        inside = bool(book.session.execute(text(_IN_DISTRICT), {"x": lon, "y": lat}).scalar_one())
    if not inside:
        raise RowRejectedError("outside_district", f"{lon:.6f}, {lat:.6f} is outside the district")
    return lon, lat


_ALL_IN_DISTRICT = """
SELECT u.i, EXISTS (SELECT 1 FROM districts d
  WHERE ST_Covers(d.geom, ST_SetSRID(ST_MakePoint(u.x, u.y), 4326)))
FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS u(x, y, i)
"""


def points_inside(book: ImportBook, recs: list[dict[str, str]]) -> None:
    """Which rows' points are in the district, for the whole file in one query (`book.inside`).

    Rows whose point does not read as finite numbers are left to `_point` (it names why).
    """
    points = []
    for rec in recs:
        try:
            lon, lat = float(rec.get("lon", "")), float(rec.get("lat", ""))
        except ValueError:
            continue
        if math.isfinite(lon) and math.isfinite(lat):
            points.append((lon, lat))
    if not points or book.session is None:
        return
    found = book.session.execute(
        text(_ALL_IN_DISTRICT), {"xs": [p[0] for p in points], "ys": [p[1] for p in points]}
    ).all()
    book.inside = {points[int(i) - 1]: bool(inside) for i, inside in found}


def address(book: AddressBook, rec: dict[str, str], row: int, now: datetime) -> Record:
    """One address row → its standard form and point, or the reason it is refused."""
    raw = _text(rec)
    if not raw:
        raise RowRejectedError("missing_field", "no address")
    wanted = book.normalised(raw) if isinstance(book, ImportBook) else normalise(raw, book.aliases)
    parts = parse(wanted)
    if parts is None:
        raise RowRejectedError("unparseable_address", f"no road and house number in {raw!r}")
    full = standard_text(parts.road, parts.number, parts.building, parts.unit)
    lon, lat = _point(book, rec)
    when = reported_at(rec, now)
    values = {
        "road": parts.road,
        "number": parts.number,
        "building_no": parts.building,
        "unit_no": parts.unit,
        "full_text": full,
        "lon": lon,
        "lat": lat,
        "reported_at": when,
    }
    attrs = {"full_text": full, "written": raw, "lon": round(lon, 7), "lat": round(lat, 7)}
    return Record(row, values, book.exact.get(full), attrs, key=full)


_COLUMNS = ("road", "number", "building_no", "unit_no", "full_text", "lon", "lat")


def write_addresses(
    conn: Connection, records: list[Record], source: tuple[int, str], import_id: int
) -> tuple[int, int]:
    """Create the new standard addresses (linked to building, courtyard); keep every statement."""
    conn.execute(text("DROP TABLE IF EXISTS tmp_rows"))
    conn.execute(
        text(
            "CREATE TEMP TABLE tmp_rows (row_no int, road text, number int, building_no smallint,"
            " unit_no smallint, full_text text, lon float8, lat float8, reported_at timestamptz,"
            " attrs jsonb, known boolean) ON COMMIT DROP"
        )
    )
    copy_rows(
        conn,
        "tmp_rows",
        ("row_no", *_COLUMNS, "reported_at", "attrs"),
        (
            (r.row, *(r.values[c] for c in _COLUMNS), r.values["reported_at"], r.attrs)
            for r in records
        ),
    )
    conn.execute(
        text(
            "UPDATE tmp_rows t SET known = EXISTS (SELECT 1 FROM addresses a"
            " WHERE a.full_text = t.full_text)"
        )
    )
    row = conn.execute(
        text(
            "SELECT count(*) FILTER (WHERE NOT known), count(*) FILTER (WHERE known) FROM tmp_rows"
        )
    ).one()
    conn.execute(
        text(
            "INSERT INTO addresses (road, number, building_no, unit_no, full_text, building_id,"
            " courtyard_id, geom) SELECT t.road, t.number, t.building_no, t.unit_no, t.full_text,"
            " b.id, coalesce(b.courtyard_id, y.id), p.pt FROM tmp_rows t"
            " CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) AS pt) p"
            " LEFT JOIN LATERAL (SELECT id, courtyard_id FROM buildings WHERE geom && p.pt"
            " AND ST_Covers(geom, p.pt) ORDER BY id LIMIT 1) b ON true"
            " LEFT JOIN LATERAL (SELECT id FROM courtyards WHERE geom && p.pt"
            " AND ST_Covers(geom, p.pt) ORDER BY id LIMIT 1) y ON true"
            " WHERE NOT t.known ORDER BY t.row_no ON CONFLICT (full_text) DO NOTHING"
        )
    )
    conn.execute(
        text(
            "INSERT INTO base_provenance (entity, entity_id, source_id, import_id, attrs,"
            " reported_at) SELECT 'addresses', e.id, :s, :i, t.attrs, t.reported_at"
            " FROM tmp_rows t JOIN addresses e ON e.full_text = t.full_text"
        ),
        {"s": source[0], "i": import_id},
    )
    return int(row[0]), int(row[1])
