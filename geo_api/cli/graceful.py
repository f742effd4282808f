"""Stop on the first SIGTERM (or Ctrl-C) within a grace period, as a service manager expects.

uvicorn alone waits for in-flight requests without a limit, so one request stuck
on a lock kept `wangge serve` alive after SIGTERM; with several workers its
supervisor could even restart workers the same signal had just stopped and then
wait for them forever.  Here the first stop signal arms a deadline: requests get
`grace_s` to finish (uvicorn's graceful timeout), the shutdown hooks a few
seconds more, and whatever is still running then is ended.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import socket
import sys
import threading
import time
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

logger = logging.getLogger(__name__)

HOOKS_S = 5.0
"""Time the shutdown hooks (background threads, engine) get after the requests' grace."""
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def graceful_config(app: str, *, grace_s: float, **options: object) -> uvicorn.Config:
    """uvicorn's config with the requests' grace period set."""
    return uvicorn.Config(
        app,
        timeout_graceful_shutdown=max(1, math.ceil(grace_s)),
        **options,  # type: ignore[arg-type]
    )


class GracefulServer(uvicorn.Server):
    """One process: uvicorn's server with a hard deadline armed by the first stop signal."""

    def __init__(self, config: uvicorn.Config, grace_s: float) -> None:
        super().__init__(config)
        self.grace_s = grace_s
        self._armed = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """uvicorn's graceful stop, plus a watchdog that ends the process at the deadline."""
        super().handle_exit(sig, frame)
        if not self._armed:
            self._armed = True
            threading.Thread(
                target=_exit_at_deadline, args=(self.grace_s + HOOKS_S,), daemon=True
            ).start()


def _exit_at_deadline(seconds: float) -> None:
    time.sleep(seconds)
    # Still here: a request thread blocked in the database, or a slow start-up.
    logger.error("did not stop within %.0f s of the stop signal: exiting now", seconds)
    logging.shutdown()
    os._exit(1)


class GracefulMultiprocess(Multiprocess):
    """Several workers: no worker restarted once stopping, survivors killed at the deadline."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket], grace_s: float):
        super().__init__(config, sockets)
        self.grace_s = grace_s
        self.deadline: float | None = None
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._on_stop_signal)

    def _on_stop_signal(self, sig: int, frame: FrameType | None) -> None:
        # Stop at once: the supervisor loop would otherwise restart the workers this
        # same signal (sent to the whole process group) has just ended.
        self.signal_queue.append(sig)
        if self.deadline is None:
            self.deadline = time.monotonic() + self.grace_s + HOOKS_S
        self.should_exit.set()

    def join_all(self) -> None:
        """Wait for the workers until the deadline, then kill what is left."""
        deadline = self.deadline or time.monotonic() + self.grace_s + HOOKS_S
        for process in self.processes:
            process.process.join(max(0.0, deadline - time.monotonic()))
            if process.process.is_alive():
                logger.error("worker %s did not stop in time: killing it", process.pid)
                process.kill()
                process.process.join()


def run(config: uvicorn.Config, grace_s: float) -> None:
    """Serve until stopped (one process, or a supervisor and `config.workers` workers)."""
    if config.workers > 1:
        GracefulMultiprocess(config, [config.bind_socket()], grace_s).run()
        return
    server = GracefulServer(config, grace_s)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    if not server.started and not server.should_exit:
        sys.exit(STARTUP_FAILURE)  # e.g. the port is taken: say so with the exit code
