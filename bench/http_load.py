"""Shared by the HTTP benchmarks: start the service, drive it with wrk, read the numbers."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from layers.store.db import resolve_database_url
from layers.store.settings import DatabaseSettings

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int


def demo_loaded() -> bool:
    """True when the private cluster holds the demo district (the benchmarks need it)."""
    from sqlalchemy import text

    from layers.store.db import make_engine

    engine = make_engine(resolve_database_url(DatabaseSettings(), start=True), pool_size=1)
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT to_regclass('districts') IS NOT NULL")).scalar()
            return bool(
                found and conn.execute(text("SELECT EXISTS (SELECT 1 FROM districts)")).scalar()
            )
    finally:
        engine.dispose()


def skip_unless_ready(need_wrk: bool) -> None:
    """Exit 0 with a note when the demo is not loaded (or wrk is missing): nothing to measure."""
    if not demo_loaded():
        print("skipped: load the demo district first (wangge demo load)")
        raise SystemExit(0)
    if need_wrk and shutil.which("wrk") is None:
        print("skipped: the HTTP benchmarks need wrk (apt-get install -y wrk)")
        raise SystemExit(0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`uvicorn geo_api.app:create_app` with N workers on the private cluster's database."""

    def __init__(self, workers: int, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "WANGGE_DATABASE_URL": resolve_database_url(DatabaseSettings(), start=True),
            "WANGGE_DB_POOL_SIZE": "8",
            **(extra_env or {}),
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "geo_api.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
        )

    def wait(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if (
                    httpx.get(self.url + "/locate?lon=104.1&lat=30.68", timeout=2).status_code
                    == 200
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError("the server did not come up")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 1e-3, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, *, seconds: int, connections: int, threads: int = 1, script: str = "") -> Load:
    """Run wrk with --latency (and an optional Lua script); parse its report."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    if script:
        cmd += ["-s", fh.name]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    os.unlink(fh.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Load(
        rps,
        p50,
        p99,
        total,
        int(non.group(1)) if non else 0,
        sum(int(g) for g in errs.groups()) if errs else 0,
    )
