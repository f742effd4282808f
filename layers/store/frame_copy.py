"""COPY a whole pandas DataFrame in one go: the bulk path of case imports.

Columns are written as CSV by pandas with the same NULL marker as
`layers.store.copy`; geometries must already be hex EWKB text, dicts JSON text.
Formatting runs in a thread, a chunk ahead of the COPY, so Python formats
while PostgreSQL inserts (psycopg2 releases the GIL while it sends).
"""

from __future__ import annotations

import io
import queue
import threading

import pandas as pd
from sqlalchemy import Connection

from layers.store.copy import NULL
from layers.store.driver import psycopg_connection
from layers.store.sql import quote_ident

CHUNK_ROWS = 50_000


class _Chunks(io.RawIOBase):
    """A readable stream over CSV chunks made by a background thread."""

    def __init__(self, frame: pd.DataFrame, rows: int) -> None:
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=2)
        self._pending = b""
        self._thread = threading.Thread(target=self._produce, args=(frame, rows), daemon=True)
        self._thread.start()

    def _produce(self, frame: pd.DataFrame, rows: int) -> None:
        try:
            for start in range(0, len(frame), rows):
                part = frame.iloc[start : start + rows]
                text = part.to_csv(index=False, header=False, na_rep=NULL, lineterminator="\n")
                self._queue.put(text.encode())
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


def copy_frame(conn: Connection, table: str, frame: pd.DataFrame) -> int:
    """COPY every row of `frame` into `table` (column names = frame columns); returns the count."""
    cols = ", ".join(quote_ident(c) for c in frame.columns)
    with psycopg_connection(conn).cursor() as cur:
        cur.copy_expert(
            f"COPY {quote_ident(table)} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')",
            _Chunks(frame, CHUNK_ROWS),
            size=1 << 20,
        )
    return len(frame)
