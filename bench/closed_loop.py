"""A closed-loop load of a fixed list of paths: each asked once, by `concurrency` connections.

Why not httpx threads: a full client costs about a millisecond of CPU per request
under the GIL, so against a server that answers from memory in a fraction of
that, the client would be what is measured (and it takes one of the machine's
two cores from the servers).  This reuses `fixed_rate`'s minimal keep-alive
HTTP/1.1 client: every connection takes the next path as soon as its last one
answered, and each latency is that request's own round trip.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from urllib.parse import urlsplit

from fixed_rate import _Conn  # bench/fixed_rate.py, beside this script


async def _run(base: str, paths: list[str], concurrency: int, headers: str) -> dict:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    todo = list(reversed(paths))
    latencies: list[float] = []
    counts = {"bad_status": 0, "errors": 0}

    async def worker() -> None:
        conn = _Conn(*await asyncio.open_connection(host, port))
        while todo:
            path = todo.pop()
            start = time.perf_counter()
            try:
                status = await conn.send(f"{host}:{port}", ("GET", path, b"", headers))
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                counts["errors"] += 1
                conn.writer.close()
                conn = _Conn(*await asyncio.open_connection(host, port))
                continue
            latencies.append(time.perf_counter() - start)
            counts["bad_status"] += status not in (200, 204)
        conn.writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - began
    latencies.sort()
    n = len(latencies)
    return {
        "n": n,
        "errors": counts["errors"] + counts["bad_status"],
        "per_s": n / wall,
        "p50_ms": 1000 * statistics.median(latencies) if n else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (n - 1))] if n else float("nan"),
    }


def closed_loop(base: str, paths: list[str], *, concurrency: int = 8, headers: str = "") -> dict:
    """Ask for every path once; requests/s, p50 and p99 (ms) and the count of failures.

    `headers` are extra header lines (``"Name: value\\r\\n"``) sent with every request.
    """
    return asyncio.run(_run(base, paths, concurrency, headers))
