"""The demo's base records: hashed identities, figures that are sums of records, address text."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sqlalchemy import Engine, text

from layers.base_data.address_text import normalise, parse
from layers.base_data.privacy import check_digit, id_problem, keyed_hash, mask_id
from layers.demo.base_records import birth_years, identities
from layers.tables.persons import RESIDENCE_TYPES
from tests.conftest import TEST_NOW, TEST_SEED


def test_buildings_courtyards_and_cells_count_the_records(engine: Engine) -> None:
    with engine.connect() as c:
        off = c.execute(
            text(
                "SELECT count(*) FROM buildings b LEFT JOIN LATERAL (SELECT count(DISTINCT w.id) hh,"
                " count(p.id) pop FROM addresses a JOIN dwellings w ON w.address_id = a.id"
                " JOIN persons p ON p.dwelling_id = w.id WHERE a.building_id = b.id) r ON true"
                " WHERE (b.households, b.population) <> (r.hh, r.pop)"
            )
        ).scalar()
        assert off == 0
        yards = c.execute(
            text(
                "SELECT count(*) FROM courtyards y WHERE (y.households, y.residents) <>"
                " (SELECT coalesce(sum(households), 0), coalesce(sum(population), 0)"
                " FROM buildings b WHERE b.courtyard_id = y.id)"
            )
        ).scalar()
        assert yards == 0
        people = c.execute(text("SELECT count(*) FROM persons")).scalar()
        assert people == c.execute(text("SELECT sum(population) FROM buildings")).scalar() > 40_000


def test_owners_and_tenants_are_linked_and_the_figures_stay_sums(engine: Engine) -> None:
    """`person_links`: a self-occupied flat's owner and a rented flat's tenant live in it; rented
    and vacant flats have an owner elsewhere; households and population still count persons."""
    with engine.connect() as c:
        wrong = c.execute(
            text(
                "SELECT count(*) FROM dwellings w WHERE EXISTS (SELECT 1 FROM persons p"
                " WHERE p.dwelling_id = w.id) AND w.use IN ('self_occupied', 'rented') AND NOT EXISTS"
                " (SELECT 1 FROM person_links l JOIN persons p ON p.id = l.person_id"
                " WHERE l.dwelling_id = w.id AND p.dwelling_id = w.id AND l.kind ="
                " CASE w.use WHEN 'rented' THEN 'tenant' ELSE 'owner' END)"
            )
        ).scalar()
        unowned = c.execute(
            text(
                "SELECT count(*) FROM dwellings w WHERE w.use IN ('rented', 'vacant') AND"
                " (SELECT count(*) FROM person_links l WHERE l.dwelling_id = w.id"
                " AND l.kind = 'owner') <> 1"
            )
        ).scalar()
        sources = c.execute(
            text("SELECT DISTINCT s.code FROM person_links l JOIN sources s ON s.id = l.source_id")
        ).scalars()
        figures = c.execute(
            text(
                "SELECT (SELECT sum(households) FROM buildings), (SELECT count(DISTINCT dwelling_id)"
                " FROM persons), (SELECT sum(population) FROM buildings), (SELECT count(*) FROM persons)"
            )
        ).one()
    assert wrong == 0 and unowned == 0 and list(sources) == ["housing"]
    assert figures[0] == figures[1] and figures[2] == figures[3]


def test_no_plain_id_number_is_stored(engine: Engine) -> None:
    """The demo's plain ID numbers (regenerated here) appear nowhere; their keyed hashes do."""
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT id, id_hash, id_masked, residence_type, birth_year FROM persons ORDER BY id"
            )
        ).all()
        texts = [
            str(v)
            for table in ("persons", "dwellings", "addresses", "units", "audit_log")
            for v in c.execute(text(f"SELECT t::text FROM {table} t")).scalars()
        ]
    residence = np.array([RESIDENCE_TYPES.index(r.residence_type) for r in rows])
    years = birth_years(TEST_SEED, len(rows), TEST_NOW.year)
    assert (years == np.array([r.birth_year for r in rows])).all()
    numbers = identities(TEST_SEED, residence, years)
    assert [keyed_hash(n) for n in numbers[:200]] == [r.id_hash for r in rows[:200]]
    assert all(mask_id(n) == r.id_masked for n, r in zip(numbers, rows, strict=True))
    runs = {m for t in texts for m in re.findall(r"\d{17}[\dX]", t)}
    assert not runs & set(numbers)


@pytest.mark.parametrize(
    ("raw", "standard"),
    [
        ("成都市成华区猛追湾街道崔家店路140号3栋2单元", "崔家店路140号3栋2单元"),
        ("崔家店路一百四十號三幢二單元", "崔家店路140号3栋2单元"),
        ("四川省成都市成华区崔家店路１４０号３座２单元２０１室", "崔家店路140号3栋2单元"),
        ("崔家店路140号3-2-201", "崔家店路140号3栋2单元"),
        ("老崔家店路140号3号楼2单元", "崔家店路140号3栋2单元"),
        ("二环路东二段12号1栋", "二环路东二段12号1栋"),
    ],
)
def test_address_spellings_meet(raw: str, standard: str) -> None:
    parts = parse(normalise(raw, {"老崔家店路": "崔家店路"}))
    assert parts is not None and parts.standard == standard


def test_id_numbers() -> None:
    body = "51010819900307123"
    good = body + check_digit(body)
    assert id_problem(good) is None and mask_id(good) == "5101**********" + good[-4:]
    wrong = body + ("0" if good[-1] != "0" else "1")
    assert id_problem(wrong) == "id_checksum"
    assert id_problem("510108199002301234") == "id_date"
    assert id_problem("5101081990") == "id_shape"
