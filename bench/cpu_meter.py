"""CPU time spent per request by the server and by its database backends (Linux /proc).

Why: on the shared 2-core machine the latency and rate figures mostly measure the
other helpers' load (load averages of 10-20 were seen); the CPU a request costs
is far steadier, since time spent waiting for a core is not counted.  The server's
share is the uvicorn supervisor and its workers (utime + stime); the database's
is every backend connected to the benchmark's database, found in
``pg_stat_activity`` (the meter's own backend excluded).  ``cores / cpu`` is then
the rate the two would sustain with the cores to themselves (the load generator
aside), an upper bound stated as such.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from layers.store.db import make_engine

_TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


def _cpu_ms(pid: int) -> float:
    """utime + stime of `pid` in ms (0 if it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * _TICK_MS


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@dataclass(frozen=True)
class Cost:
    """CPU ms per request of the server and of the database over one run."""

    server_ms: float
    database_ms: float

    def line(self, label: str, cores: int) -> str:
        """One printed line, with the rate `cores` idle cores would allow."""
        total = self.server_ms + self.database_ms
        bound = cores * 1000.0 / total if total > 0 else float("nan")
        return (
            f"{label:34} cpu/request server {self.server_ms:5.2f} ms + database "
            f"{self.database_ms:5.2f} ms = {total:5.2f} ms -> at most {bound:5.0f} req/s "
            f"on {cores} idle cores"
        )


class CpuMeter:
    """Snapshots of the server's and the database backends' CPU time."""

    def __init__(self, server_pid: int, database_url: str) -> None:
        self.server_pid = server_pid
        self.engine = make_engine(database_url, pool_size=1)

    def _backends(self) -> list[int]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()"
                    )
                ).scalars()
            )

    def snapshot(self) -> tuple[float, dict[int, float]]:
        """(server ms, {backend pid: ms})."""
        server = sum(_cpu_ms(p) for p in [self.server_pid, *_children(self.server_pid)])
        return server, {p: _cpu_ms(p) for p in self._backends()}

    def cost(self, before: tuple[float, dict[int, float]], requests: int) -> Cost:  # after the run
        """Per-request CPU since `before` over `requests` requests."""
        server, backends = self.snapshot()
        database = sum(ms - before[1].get(pid, 0.0) for pid, ms in backends.items())
        n = max(requests, 1)
        return Cost((server - before[0]) / n, database / n)

    def close(self) -> None:
        """Release the meter's connection."""
        self.engine.dispose()
