"""`copy_frame`, the imports' bulk path: what goes in is what PostgreSQL holds.

Arrow formats the CSV now; these rows are the cases where CSV is easy to get
wrong (NULL against empty text, quotes, commas and newlines inside a value,
nullable integers, zoned times) and a column Arrow cannot type, which must take
the pandas path and give the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import Connection, create_engine, text

from layers.store.frame_copy import _as_arrow, copy_frame

ROWS = [
    ("plain", 1, 104.0712345, datetime(2026, 3, 1, 8, 30, tzinfo=UTC), True),
    ("", None, None, None, False),
    (None, 3, 1e-7, datetime(2026, 3, 1, 16, 30, tzinfo=timezone(timedelta(hours=8))), None),
    ('a "quoted", comma\nand a newline 新', -4, -30.5, None, True),
]
EXPECTED = [
    ("plain", 1, 104.0712345, datetime(2026, 3, 1, 8, 30, tzinfo=UTC), True),
    ("", None, None, None, False),
    (None, 3, 1e-7, datetime(2026, 3, 1, 8, 30, tzinfo=UTC), None),
    ('a "quoted", comma\nand a newline 新', -4, -30.5, None, True),
]


@pytest.fixture
def conn(empty_db: str) -> Iterator[Connection]:
    engine = create_engine(empty_db)
    with engine.begin() as connection:
        connection.execute(text("SET TIME ZONE 'UTC'"))
        connection.execute(
            text("CREATE TABLE t (s text, n int, x float8, at timestamptz, b boolean, o text)")
        )
        yield connection
    engine.dispose()


def _frame(other: list[object]) -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=["s", "n", "x", "at", "b"])
    frame["n"] = frame["n"].astype("Int64")
    frame["o"] = other
    return frame


def _stored(conn: Connection) -> list[tuple]:
    rows = conn.execute(text("SELECT s, n, x, at, b, o FROM t ORDER BY ctid")).all()
    return [tuple(r) for r in rows]


def test_text_nulls_and_times_arrive_as_they_were(conn: Connection) -> None:
    frame = _frame(["{}", None, "", "x"])
    assert _as_arrow(frame) is not None  # the Arrow path
    assert copy_frame(conn, "t", frame) == 4
    stored = _stored(conn)
    assert [r[:5] for r in stored] == EXPECTED
    assert [r[5] for r in stored] == ["{}", None, "", "x"]


def test_a_column_arrow_cannot_type_takes_the_pandas_path_with_the_same_rows(
    conn: Connection,
) -> None:
    frame = _frame([1, "one", None, 2.5])
    assert _as_arrow(frame) is None  # the pandas path
    assert copy_frame(conn, "t", frame) == 4
    stored = _stored(conn)
    assert [r[:5] for r in stored] == EXPECTED
    assert [r[5] for r in stored] == ["1", "one", None, "2.5"]
