"""`wangge serve` for real: a uvicorn process that answers /health and prints where to go."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import DemoDatabase
from tests.live_server import wait_healthy


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_health_and_prints_urls(test_db: DemoDatabase, tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGGE_")}
    env |= {
        "WANGGE_DATABASE_URL": test_db.url,
        "WANGGE_HOME": str(tmp_path),
        "WANGGE_SERVICE_PASSWORD": os.environ["WANGGE_SERVICE_PASSWORD"],  # serve as the role
    }
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "geo_api.cli", "serve", "--port", str(port), "--workers", "2"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        try:
            resp = wait_healthy(f"http://127.0.0.1:{port}", proc)
        except RuntimeError as exc:
            raise AssertionError(f"{exc}\n{log.read_text()}") from exc
        assert resp.json()["database"] == "ok"
        printed = log.read_text()
        assert f"http://127.0.0.1:{port}/docs" in printed
        assert "demo-keys.json" in printed
        assert test_db.url.split("@")[0].split(":")[-1] not in printed, "password printed"
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)
