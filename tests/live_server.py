"""Serve an app with uvicorn in a thread of the test process, on a free local port."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


STARTUP_S = 180.0
"""How long a server process may take to answer /health: on two cores shared with the
rest of the suite, importing the app alone has taken over 30 s."""


def wait_healthy(
    base: str, proc: subprocess.Popen, deadline_s: float = STARTUP_S
) -> httpx.Response:
    """Poll `base`/health until it answers 200; fail at once if the process exits."""
    deadline = time.monotonic() + deadline_s
    last: str = "no answer"
    while time.monotonic() < deadline:
        try:
            resp = httpx.get(f"{base}/health", timeout=2)
            if resp.status_code == 200:
                return resp
            last = f"{resp.status_code} {resp.text[:200]}"
        except httpx.TransportError as exc:
            last = repr(exc)
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}) before it was healthy")
        time.sleep(0.2)
    raise RuntimeError(f"the server was not healthy within {deadline_s:.0f} s: {last}")


@contextmanager
def serve_in_thread(app: FastAPI, **config: object) -> Iterator[str]:
    """Yield the base URL while uvicorn serves `app` (lifespan on, uvicorn's logging)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", **config)  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
