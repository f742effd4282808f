"""An open-loop load generator at a fixed offered rate (wrk2 is not available here).

wrk runs closed-loop: each connection sends its next request only when the last
answered, so it measures latency at saturation and hides queueing (coordinated
omission).  A target such as "p99 <= 50 ms at 200 req/s" asks for the latency of
requests *sent on a schedule*: request i is due at ``t0 + i / rate`` whether or
not earlier ones have answered, and its latency is counted from that due time, so
a server that falls behind is charged for the wait.

The client is a minimal HTTP/1.1 keep-alive one over asyncio streams (a pool of
connections, a new one opened when all are busy, at most `connections` at once, so
a server that falls behind sees a bounded queue rather than hundreds of sockets
exhausting its database pool — the wait still counts in the latency): a full client such as httpx
costs about a millisecond of CPU per request, which on a loaded 2-core machine
would be measured as the server's latency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Paced:
    """What one fixed-rate run measured (latencies in ms from each request's due time)."""

    offered_per_s: float
    achieved_per_s: float
    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    errors: int
    odd: tuple[tuple[int, int], ...] = ()
    """(status, count) of the answers that were not 2xx, so a reader sees what they were."""

    def line(self, label: str) -> str:
        """One printed line."""
        return (
            f"{label:34} offered {self.offered_per_s:5.0f}/s achieved {self.achieved_per_s:6.1f}/s"
            f"  p50 {self.p50_ms:6.2f}  p95 {self.p95_ms:6.2f}  p99 {self.p99_ms:6.2f}"
            f"  max {self.max_ms:7.2f} ms  non-2xx {self.non_2xx}  errors {self.errors}"
            + (f" ({', '.join(f'{n}x {code}' for code, n in self.odd)})" if self.odd else "")
        )


Request = tuple  # (method, path with query, body bytes[, extra header lines "Name: v\r\n"])


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, host: str, req: Request) -> int:
        method, path, body, *extra = req
        head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n" + "".join(extra)
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return int(status_line.split()[1])


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def _run(
    url: str, rate: float, seconds: float, pick: Callable[[int], Request], connections: int
) -> Paced:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    idle: list[_Conn] = []
    latencies: list[float] = []
    counts = {"errors": 0}
    odd: dict[int, int] = {}  # status → answers, for what was not 2xx
    gate = asyncio.Semaphore(connections)

    async def one(i: int, due: float) -> None:
        async with gate:
            reused = bool(idle)
            conn = idle.pop() if idle else _Conn(*await asyncio.open_connection(host, port))
            try:
                status = await conn.send(f"{host}:{port}", pick(i))
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                conn.writer.close()
                if not reused:
                    counts["errors"] += 1
                    return
                # The server closes keep-alive connections idle for 5 s (uvicorn's
                # default): open a fresh one and send again; the wait still counts.
                conn = _Conn(*await asyncio.open_connection(host, port))
                try:
                    status = await conn.send(f"{host}:{port}", pick(i))
                except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                    counts["errors"] += 1
                    conn.writer.close()
                    return
            latencies.append((time.perf_counter() - due) * 1000.0)
            if not 200 <= status < 300:
                odd[status] = odd.get(status, 0) + 1
            idle.append(conn)

    total = int(rate * seconds)
    tasks = []
    t0 = time.perf_counter() + 0.05
    for i in range(total):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - t0
    for conn in idle:
        conn.writer.close()
    return _paced(rate, total, elapsed, latencies, odd, counts["errors"])


def _paced(
    rate: float,
    total: int,
    elapsed: float,
    latencies: list[float],
    odd: dict[int, int],
    errors: int,
) -> Paced:
    latencies.sort()
    return Paced(
        rate,
        len(latencies) / elapsed,
        total,
        _pct(latencies, 0.50),
        _pct(latencies, 0.95),
        _pct(latencies, 0.99),
        latencies[-1] if latencies else float("nan"),
        sum(odd.values()),
        errors,
        tuple(sorted(odd.items())),
    )


def paced(
    url: str,
    *,
    rate: float,
    seconds: float,
    pick: Callable[[int], Request],
    connections: int = 32,
) -> Paced:
    """Send `rate` requests per second for `seconds`, request i being `pick(i)`."""
    try:
        import uvloop

        return uvloop.run(_run(url, rate, seconds, pick, connections))
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        return asyncio.run(_run(url, rate, seconds, pick, connections))
