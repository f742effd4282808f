"""COPY a whole pandas DataFrame in one go: the bulk path of case imports.

Geometries must already be hex EWKB text, dicts JSON text.  Formatting runs in
a thread, a chunk ahead of the COPY, so Python formats while PostgreSQL inserts
(psycopg2 releases the GIL while it sends).

Why Arrow: pandas' CSV writer formats cell by cell in Python and was the
import's bottleneck (≈ 9 s for a million cases, with PostgreSQL waiting);
Arrow's writer formats whole columns in C++ and releases the GIL.  It quotes
every non-empty text and writes NULL as an empty unquoted field, which is what
PostgreSQL's CSV format reads as NULL, so empty strings stay strings.  A frame
Arrow cannot type (mixed Python objects in one column) goes through pandas, with
`layers.store.copy`'s NULL marker.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection

from layers.store.copy import NULL
from layers.store.driver import psycopg_connection
from layers.store.sql import quote_ident

CHUNK_ROWS = 50_000
_ARROW_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed")


class _Chunks(io.RawIOBase):
    """A readable stream over CSV chunks made by a background thread."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=2)
        self._pending = b""
        self._thread = threading.Thread(target=self._produce, args=(chunks,), daemon=True)
        self._thread.start()

    def _produce(self, chunks: Iterator[bytes]) -> None:
        try:
            for chunk in chunks:
                self._queue.put(chunk)
            self._queue.put(None)
        except BaseException as exc:  # handed to the reader, which raises it
            self._queue.put(exc)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._pending:
            item = self._queue.get()
            if item is None:
                self._queue.put(None)
                return b""
            if isinstance(item, BaseException):
                raise item
            self._pending = item
        size = len(self._pending) if size is None or size < 0 else size
        out, self._pending = self._pending[:size], self._pending[size:]
        return out


def _arrow_chunks(table: pa.Table, rows: int) -> Iterator[bytes]:
    for start in range(0, table.num_rows, rows):
        sink = io.BytesIO()
        pa_csv.write_csv(table.slice(start, rows), sink, _ARROW_OPTIONS)
        yield sink.getvalue()


def _pandas_chunks(frame: pd.DataFrame, rows: int) -> Iterator[bytes]:
    for start in range(0, len(frame), rows):
        part = frame.iloc[start : start + rows]
        yield part.to_csv(index=False, header=False, na_rep=NULL, lineterminator="\n").encode()


def _as_arrow(frame: pd.DataFrame) -> pa.Table | None:
    """The frame as an Arrow table, or None when a column mixes types Arrow cannot hold."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        return None


def copy_frame(conn: Connection, table: str, frame: pd.DataFrame) -> int:
    """COPY every row of `frame` into `table` (column names = frame columns); returns the count."""
    cols = ", ".join(quote_ident(c) for c in frame.columns)
    arrow = _as_arrow(frame)
    if arrow is not None:
        chunks, null = _arrow_chunks(arrow, CHUNK_ROWS), ""
    else:
        chunks, null = _pandas_chunks(frame, CHUNK_ROWS), NULL
    with psycopg_connection(conn).cursor() as cur:
        cur.copy_expert(
            f"COPY {quote_ident(table)} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '{null}')",
            _Chunks(chunks),
            size=1 << 20,
        )
    return len(frame)
