"""Writing checked records: new ones created, known ones merged, every statement kept.

A person is known by the keyed hash of their ID number, a unit by its licence
number, a dwelling by its address and room.  A statement newer than what the
record shows wins the display (`updated_at` / `reported_at`); an older one is
kept in `base_provenance` only, with its source.  Rows go through a temporary
table by COPY, so a file of a million people is a few set-based statements.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from layers.base_data.checks import Record
from layers.base_data.person_batch import PERSON_COLUMNS
from layers.store.copy import copy_rows
from layers.tables.units import KEY_PLACE_CLASSES

_PERSONS_SQL = (
    # The dwelling named by address and room, made when the housing data has not got it yet.
    """INSERT INTO dwellings (address_id, room) SELECT DISTINCT address_id, room FROM tmp_in
    WHERE room IS NOT NULL ON CONFLICT (address_id, room) DO NOTHING""",
    # One pass finds each row's dwelling and whether the person is known (no UPDATE of a
    # million temporary rows); the attributes kept with the statement are built here too.
    """CREATE TEMP TABLE tmp_rows ON COMMIT DROP AS
    SELECT t.*, w.id AS dwelling_id, p.id AS person_id, p.id IS NOT NULL AS known,
      jsonb_strip_nulls(jsonb_build_object('name', t.name, 'id_masked', t.id_masked,
        'phone_masked', t.phone_masked, 'residence_type', t.residence_type, 'flag', t.flag,
        'address', a.full_text)) AS attrs
    FROM tmp_in t LEFT JOIN dwellings w ON w.address_id = t.address_id AND w.room = t.room
    LEFT JOIN persons p ON p.id_hash = t.id_hash LEFT JOIN addresses a ON a.id = t.address_id""",
    "ANALYZE tmp_rows",
    """INSERT INTO persons (id_hash, id_masked, name, sex, birth_year, phone_hash, phone_masked,
      residence_type, dwelling_id, flags, updated_at)
    SELECT id_hash, id_masked, name, sex, birth_year, phone_hash, phone_masked,
      coalesce(residence_type, default_residence), dwelling_id, '{}', reported_at
    FROM tmp_rows WHERE NOT known""",
    # From here on every row knows its person's id: joins on the key, not on the hash.
    """UPDATE tmp_rows t SET person_id = p.id FROM persons p
    WHERE NOT t.known AND p.id_hash = t.id_hash""",
    """UPDATE persons p SET name = t.name, phone_hash = coalesce(t.phone_hash, p.phone_hash),
      phone_masked = coalesce(t.phone_masked, p.phone_masked),
      residence_type = coalesce(t.residence_type, p.residence_type),
      dwelling_id = coalesce(t.dwelling_id, p.dwelling_id), updated_at = t.reported_at
    FROM tmp_rows t WHERE t.known AND p.id = t.person_id AND t.reported_at >= p.updated_at""",
    """UPDATE persons p SET flags = p.flags || jsonb_build_object(t.flag, CAST(:source AS text))
    FROM tmp_rows t WHERE t.flag IS NOT NULL AND p.id = t.person_id""",
    """INSERT INTO base_provenance (entity, entity_id, source_id, import_id, attrs, reported_at)
    SELECT 'persons', t.person_id, :source_id, :import_id, t.attrs, t.reported_at
    FROM tmp_rows t ORDER BY t.person_id""",
)


def _temp(conn: Connection, columns: str, name: str = "tmp_rows") -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {name}"))  # an earlier file in this transaction
    conn.execute(text(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP"))


def _counts(conn: Connection) -> tuple[int, int]:
    row = conn.execute(
        text(
            "SELECT count(*) FILTER (WHERE NOT known), count(*) FILTER (WHERE known) FROM tmp_rows"
        )
    ).one()
    return int(row[0]), int(row[1])


def write_persons(
    conn: Connection, rows: list[tuple[object, ...]], source: tuple[int, str], import_id: int
) -> tuple[int, int]:
    """Create unknown persons, merge known ones (newest wins), keep every statement; counts.

    `rows` are `person_batch.PERSON_COLUMNS` (checked, one per person).
    """
    conn.execute(text("DROP TABLE IF EXISTS tmp_rows"))
    _temp(
        conn,
        "row_no int, id_hash text, id_masked text, name text, sex text, birth_year int,"
        " phone_hash text, phone_masked text, residence_type text, default_residence text,"
        " address_id int, room text, flag text, reported_at timestamptz",
        "tmp_in",
    )
    copy_rows(conn, "tmp_in", PERSON_COLUMNS, rows, plain=True)
    conn.execute(text("ANALYZE tmp_in"))
    params = {"source": source[1], "source_id": source[0], "import_id": import_id}
    for statement in _PERSONS_SQL:
        conn.execute(text(statement), params)
        if statement == "ANALYZE tmp_rows":  # known or not: before the INSERT
            counts = _counts(conn)
    return counts


_DWELLING_COLUMNS = (
    *("row_no", "address_id", "room", "floor", "use", "area_m2", "reported_at", "attrs"),
    *("owner_hash", "tenant_hash"),
)


def write_dwellings(
    conn: Connection, records: list[Record], source: tuple[int, str], import_id: int
) -> tuple[int, int]:
    """Create or update dwellings by address and room (newest wins); keep every statement."""
    _temp(
        conn,
        "row_no int, address_id int, room text, floor int, use text, area_m2 float8,"
        " reported_at timestamptz, attrs jsonb, owner_hash text, tenant_hash text, known boolean",
    )
    copy_rows(
        conn,
        "tmp_rows",
        _DWELLING_COLUMNS,
        (
            (
                r.row,
                r.address_id,
                r.values["room"],
                r.values["floor"],
                r.values["use"],
                r.values["area_m2"],
                r.values["reported_at"],
                r.attrs,
                r.values.get("owner_hash"),
                r.values.get("tenant_hash"),
            )
            for r in records
        ),
    )
    conn.execute(
        text(
            "UPDATE tmp_rows t SET known = EXISTS (SELECT 1 FROM dwellings w"
            " WHERE w.address_id = t.address_id AND w.room = t.room)"
        )
    )
    counts = _counts(conn)
    conn.execute(
        text(
            "INSERT INTO dwellings (address_id, room, floor, use, area_m2)"
            " SELECT address_id, room, floor, use, area_m2 FROM tmp_rows"
            " ON CONFLICT (address_id, room) DO UPDATE SET floor = coalesce(EXCLUDED.floor,"
            " dwellings.floor), use = EXCLUDED.use, area_m2 = coalesce(EXCLUDED.area_m2,"
            " dwellings.area_m2) WHERE (dwellings.floor, dwellings.use, dwellings.area_m2)"
            " IS DISTINCT FROM (coalesce(EXCLUDED.floor, dwellings.floor), EXCLUDED.use,"
            " coalesce(EXCLUDED.area_m2, dwellings.area_m2))"  # an unchanged flat is not rewritten
        )
    )
    _provenance(
        conn,
        "dwellings",
        "JOIN dwellings e ON e.address_id = t.address_id AND e.room = t.room",
        source[0],
        import_id,
    )
    conn.execute(text(_LINKS_SQL), {"s": source[0]})
    return counts


_LINKS_SQL = """
INSERT INTO person_links (person_id, dwelling_id, kind, source_id)
SELECT DISTINCT p.id, w.id, k.kind, CAST(:s AS int) FROM tmp_rows t
JOIN dwellings w ON w.address_id = t.address_id AND w.room = t.room
CROSS JOIN LATERAL (VALUES ('owner', t.owner_hash), ('tenant', t.tenant_hash)) k(kind, h)
JOIN persons p ON p.id_hash = k.h
ON CONFLICT (person_id, dwelling_id, kind) DO NOTHING
"""
"""Owners and tenants a housing file names, linked when the person is known (by ID hash);
links are only added, so the same file again adds nothing."""


def write_units(
    conn: Connection, records: list[Record], source: tuple[int, str], import_id: int
) -> tuple[int, int]:
    """Create or update units by licence number; the point is the address's entrance."""
    _temp(
        conn,
        "row_no int, name text, class text, licence_no text, contact_name text,"
        " contact_phone text, address_id int, reported_at timestamptz, attrs jsonb, known boolean",
    )
    cols = ("name", "class", "licence_no", "contact_name", "contact_phone")
    copy_rows(
        conn,
        "tmp_rows",
        ("row_no", *cols, "address_id", "reported_at", "attrs"),
        (
            (r.row, *(r.values[c] for c in cols), r.address_id, r.values["reported_at"], r.attrs)
            for r in records
        ),
    )
    conn.execute(
        text(
            "UPDATE tmp_rows t SET known = EXISTS (SELECT 1 FROM units u"
            " WHERE u.licence_no = t.licence_no)"
        )
    )
    counts = _counts(conn)
    conn.execute(
        text(
            "INSERT INTO units (name, class, licence_no, contact_name, contact_phone, address_id,"
            " is_key_place, geom) SELECT t.name, t.class, t.licence_no, t.contact_name,"
            " t.contact_phone, t.address_id, t.class = ANY(:key), a.geom FROM tmp_rows t"
            " JOIN addresses a ON a.id = t.address_id ON CONFLICT (licence_no) DO UPDATE SET"
            " name = EXCLUDED.name, class = EXCLUDED.class, address_id = EXCLUDED.address_id,"
            " contact_name = coalesce(EXCLUDED.contact_name, units.contact_name),"
            " contact_phone = coalesce(EXCLUDED.contact_phone, units.contact_phone),"
            " geom = EXCLUDED.geom"
        ),
        {"key": sorted(KEY_PLACE_CLASSES)},
    )
    _provenance(conn, "units", "JOIN units e ON e.licence_no = t.licence_no", source[0], import_id)
    return counts


def _provenance(conn: Connection, entity: str, join: str, source_id: int, import_id: int) -> None:
    conn.execute(
        text(
            "INSERT INTO base_provenance (entity, entity_id, source_id, import_id, attrs,"  # noqa: S608
            " reported_at) SELECT :entity, e.id, :s, :i, t.attrs, t.reported_at"
            f" FROM tmp_rows t {join}"
        ),
        {"entity": entity, "s": source_id, "i": import_id},
    )
