"""The role × endpoint table, read from the routes themselves."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from geo_api.auth import Allow, Role

OPEN_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
"""FastAPI's own documentation routes: public, and declared nowhere else."""


@dataclass(frozen=True)
class AccessRule:
    """Which roles may call one method on one path."""

    method: str
    path: str
    roles: frozenset[Role]
    hidden: bool


def _find_allow(dependant: Dependant) -> Allow | None:
    for dep in dependant.dependencies:
        if isinstance(dep.call, Allow):
            return dep.call
        found = _find_allow(dep)
        if found is not None:
            return found
    return None


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (newer FastAPI wraps them).

    Routers are included without an extra prefix (each `APIRouter` carries its
    own), so a route's `path` is the path a client calls.
    """
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from api_routes(inner.routes)


def access_table(app: FastAPI) -> list[AccessRule]:
    """One rule per (method, path) of every API route; a route without `Allow` is an error."""
    rules: list[AccessRule] = []
    for route in api_routes(app.routes):
        allow = _find_allow(route.dependant)
        if allow is None:
            raise LookupError(f"route {route.path} declares no roles (use geo_api.auth.allow)")
        for method in sorted(route.methods or ()):
            rules.append(AccessRule(method, route.path, allow.roles, allow.hide))
    return rules
