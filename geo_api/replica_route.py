"""Run a read-only route again on the primary when the replica dies under it.

Why at the route: the replica can be stopped between the router's check and a
query (a restart, a failover drill); the request then fails with a lost
connection although the primary could answer.  Reads have no side effects, so
the route is simply run again, and the router sends that run to the primary.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError

from layers.store.outage import first_line, is_unavailable

RECOVERY_CONFLICT = "40001"
"""A hot standby cancels a query that would block the replay of a vacuum (conflict with
recovery): the primary can answer it."""


def _replica_lost(exc: DBAPIError) -> bool:
    return is_unavailable(exc) or getattr(exc.orig, "pgcode", None) == RECOVERY_CONFLICT


class ReplicaFallbackRoute(APIRoute):
    """An APIRoute whose handler retries once on the primary after a replica failure."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler (dependencies are resolved afresh on the second run)."""
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except DBAPIError as exc:
                if not (_replica_lost(exc) and getattr(request.state, "read_replica", False)):
                    raise
                request.app.state.read_router.mark_down(first_line(exc))
                request.state.read_replica = False
                return await handler(request)

        return run
