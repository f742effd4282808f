"""The Dask scheduler a batch run uses: a LocalCluster, a remote one, or none.

Why a context manager: a LocalCluster's worker processes must be shut down
when the run ends (or fails), and a client to a remote scheduler closed, or
they outlive the command.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

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
