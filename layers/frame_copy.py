"""COPY a whole pandas DataFrame in one go: the bulk path of case imports.

Columns are written as CSV by pandas (C speed) with the same NULL marker as
`layers.copy`; geometries must already be hex EWKB text, dicts JSON text.
"""

from __future__ import annotations

import io

import pandas as pd
from sqlalchemy import Connection

from layers.copy import NULL
from layers.sql import quote_ident


def copy_frame(conn: Connection, table: str, frame: pd.DataFrame) -> int:
    """COPY every row of `frame` into `table` (column names = frame columns); returns the count."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep=NULL, lineterminator="\n")
    buffer.seek(0)
    cols = ", ".join(quote_ident(c) for c in frame.columns)
    raw = conn.connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.copy_expert(
            f"COPY {quote_ident(table)} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')",
            buffer,
        )
    return len(frame)


def reserve_ids(conn: Connection, table: str, n: int, column: str = "id") -> list[int]:
    """`n` fresh ids from the table's sequence (safe alongside concurrent inserts)."""
    if n <= 0:
        return []
    raw = conn.connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            (table, column, n),
        )
        return [r[0] for r in cur.fetchall()]
