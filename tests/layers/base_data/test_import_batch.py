"""The columnar persons check gives every row the verdict the row-by-row check gives it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from layers.base_data import checks
from layers.base_data.checks import RowRejectedError
from layers.base_data.files import mapped_rows, mapping_for, read_table
from layers.base_data.id_columns import id_problems
from layers.base_data.import_book import ImportBook, same_parse
from layers.base_data.importing import import_file
from layers.base_data.matching import AddressBook
from layers.base_data.person_batch import PERSON_COLUMNS, _Address, check_persons
from layers.base_data.privacy import check_digit, id_problem
from layers.demo.base_files import department_files
from layers.demo.district_files import district_files
from tests.conftest import TEST_NOW, TEST_SEED
from tests.layers.base_data.test_base_import import _bad_file


def _row_by_row(session: Session, recs: list[dict[str, str]]) -> tuple[list, list]:
    """The reference: `checks.person` per row, duplicates as `importing` found them before."""
    book = AddressBook(session)
    seen: dict[str, int] = {}
    good, rejects = [], []
    for row, rec in enumerate(recs, start=2):
        try:
            r = checks.person(book, rec, row, TEST_NOW)
            if r.key in seen:
                raise RowRejectedError("duplicate_in_file", f"the same record as row {seen[r.key]}")
            seen[r.key] = row
            good.append(r)
        except RowRejectedError as exc:
            rejects.append((row, exc.reason, exc.detail))
    return good, rejects


@pytest.fixture(scope="module")
def recs(engine: Engine) -> list[tuple[str, list[dict[str, str]]]]:
    with engine.connect() as c:
        files = department_files(c, seed=TEST_SEED, now_year=TEST_NOW.year, fraction=0.05)
    out = []
    for source, data, name in (
        *((s, f.data, f.name) for s, f in files.items()),
        ("police", _bad_file(engine)[0], "bad.csv"),
    ):
        header, rows, _ = read_table(name, data)
        out.append((source, mapped_rows(header, rows, mapping_for(source, "persons"))))
    return out


def test_columns_and_rows_agree_on_every_row(engine: Engine, recs) -> None:
    resolved, refused = 0, 0
    with Session(engine) as session:
        for _, file_recs in recs:
            want_good, want_rejects = _row_by_row(session, file_recs)
            good, rejects = check_persons(ImportBook(session), file_recs, TEST_NOW)
            assert rejects == want_rejects
            got = [dict(zip(PERSON_COLUMNS, g, strict=True)) for g in good]
            assert [g["row_no"] for g in got] == [r.row for r in want_good]
            for g, r in zip(got, want_good, strict=True):
                assert g["address_id"] == r.address_id
                assert g["reported_at"] == r.values["reported_at"].isoformat()
                for k in (*PERSON_COLUMNS[1:10], "room", "flag"):
                    assert g[k] == r.values[k], k
            book = ImportBook(session)  # rows whose 单元 only the person's known flat tells
            resolved += sum(
                _Address(book).ambiguous(book.locate(file_recs[r.row - 2]["address"]))
                for r in want_good
            )
            refused += sum(1 for r in rejects if r[1] == "ambiguous_address")
    assert resolved > 0 and refused > 0


def test_the_room_cut_matches_like_the_whole_text(engine: Engine, recs) -> None:
    tricky = [
        "崔家店路140号3-2-201",
        "崔家店路１４０号三栋二单元201室",
        "某路1号2栋",
        "1号2栋3单元",
    ]
    with Session(engine) as session:
        book = ImportBook(session)
        texts = {r["address"] for _, f in recs for r in f if r.get("address")} | set(tricky)
        assert all(same_parse(t, book) for t in texts)


def test_id_column_checks_are_the_single_checks() -> None:
    body = "51010819900101123"
    numbers = [
        body + check_digit(body),
        body + ("1" if check_digit(body) != "1" else "2"),
        "51010819900230123" + check_digit("51010819900230123"),
        "51010818700101123" + check_digit("51010818700101123"),
        "51010820000229123" + check_digit("51010820000229123"),
        "51010819000229123" + check_digit("51010819000229123"),
        "5101081990010112",
        "51010819900101123x",
        "５１０１０８１９９００１０１１２３" + check_digit(body),
        "",
    ]
    problems, years, sexes = id_problems(numbers)
    assert problems == [id_problem(n) for n in numbers]
    assert (int(years[0]), str(sexes[0])) == (1990, "M")


def test_the_district_files_import_whole_and_merge(engine: Engine) -> None:
    """Planning's addresses, market's units, housing's dwellings: every row merged, none refused."""
    with Session(engine) as session:
        files = district_files(session.connection(), seed=TEST_SEED, now_year=TEST_NOW.year)
        book = ImportBook(session)
        housing = files[("housing", "dwellings")]
        header, rows, _ = read_table(housing.name, housing.data)
        recs = mapped_rows(header, rows, mapping_for("housing", "dwellings"))
        said = [book.match(r["address"])[0] for r in recs]
        assert [m.address_id if m else None for m in said] == housing.truth
        for (source, base_class), f in files.items():
            result = import_file(
                session=session,
                source=source,
                base_class=base_class,
                name=f.name,
                data=f.data,
                actor="test",
                role="admin",
                now=TEST_NOW,
            )
            assert (result.rejects, result.created) == ([], 0), source
            assert result.merged == result.rows == len(f.truth) > 0, source
        session.rollback()
