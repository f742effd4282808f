"""The Dask scheduler a batch run uses: a LocalCluster, a remote one, or none.

Why a context manager: a LocalCluster's worker processes must be shut down
when the run ends (or fails), and a client to a remote scheduler closed, or
they outlive the command.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from layers.core.errors import InvalidInputError

LOCAL = re.compile(r"^local:(\d{1,3})$")


def describe(spec: str | None) -> str:
    """What `spec` means, for progress output; a clear error when it is malformed."""
    if not spec:
        return "in-process"
    found = LOCAL.match(spec)
    if found:
        workers = int(found.group(1))
        if not 1 <= workers <= 256:
            raise InvalidInputError("local:N needs 1 ≤ N ≤ 256", code="invalid_scheduler")
        return f"LocalCluster with {workers} workers"
    if "://" not in spec:
        raise InvalidInputError(
            f"WANGGE_DASK_SCHEDULER {spec!r}: use local:N or an address like tcp://host:8786",
            code="invalid_scheduler",
        )
    return f"Dask scheduler at {spec}"


@contextmanager
def dask_client(spec: str) -> Iterator[object]:
    """A `distributed.Client` on `spec` (local:N or an address), closed afterwards."""
    from distributed import Client, LocalCluster

    describe(spec)
    found = LOCAL.match(spec)
    if found:
        cluster = LocalCluster(
            n_workers=int(found.group(1)),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        )
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        return
    client = Client(spec)
    try:
        yield client
    finally:
        client.close()


def compute(*tasks: Any) -> tuple[Any, ...]:
    """`dask.compute(*tasks)` with a progress bar: distributed's on a cluster, else Dask's.

    Why two: `dask.diagnostics.ProgressBar` sees only the local schedulers; with a
    `distributed.Client` the tasks run elsewhere and `distributed.progress` follows
    them through the scheduler.  Both print to stdout; `WANGGE_DASK_PROGRESS=0`
    silences them (tests).
    """
    import dask
    from dask.diagnostics import ProgressBar

    quiet = os.environ.get("WANGGE_DASK_PROGRESS", "1") == "0"
    try:
        from distributed import get_client, progress

        client = get_client()
    except (ImportError, ValueError):
        client = None
    if client is None:
        if quiet:
            return tuple(dask.compute(*tasks))
        with ProgressBar(dt=1.0):
            return tuple(dask.compute(*tasks))
    futures = client.compute(list(tasks))
    if not quiet:
        progress(futures)
    return tuple(client.gather(futures))


def gather(client: Any, futures: list[Any]) -> list[Any]:
    """The results of `futures` submitted to `client`, with `compute`'s progress bar."""
    if os.environ.get("WANGGE_DASK_PROGRESS", "1") != "0":
        from distributed import progress

        progress(futures)
    return list(client.gather(futures))
