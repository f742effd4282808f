"""The roles of wangge and who belongs to which group, written down once.

Every rule that asks "may this role ...?" (the routes' `allow`, the case scope,
personal data, the OGC registry, the workflow, key issuing, the tables' CHECK
constraints) reads its set from here, so adding a role or moving one between
groups is one edit.  `Role` is a `StrEnum`: a member equals its plain string, so
a role read from the database (`"dispatcher"`) is found in these sets as is.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    """The six roles of wangge; `resident` is anyone without a key."""

    RESIDENT = "resident"
    GRID_WORKER = "grid_worker"
    DISPATCHER = "dispatcher"
    PLANNER = "planner"
    ADMIN = "admin"
    DEPARTMENT = "department"
    """Staff of a functional department (城管局, 公安分局, …): the cases transferred to it."""


ROLES: tuple[Role, ...] = tuple(Role)
"""Every role a key may have, in the order messages and CHECK constraints list them."""
SYSTEM = "system"
"""Who acts when the service acts by itself (escalation, scheduled refreshes): no key has it."""

EVERYONE: frozenset[Role] = frozenset(Role)
STAFF: frozenset[Role] = frozenset(
    {Role.GRID_WORKER, Role.DISPATCHER, Role.PLANNER, Role.ADMIN, Role.DEPARTMENT}
)
"""Everyone with a key but residents: they sign in, see staff-only layers, masked personal data."""
SEES_ALL_CASES: frozenset[Role] = frozenset({Role.DISPATCHER, Role.PLANNER, Role.ADMIN})
"""Roles whose case scope is every case (a grid worker sees their cells, a resident their own)."""
SEES_PERSONAL_DATA: frozenset[Role] = frozenset({Role.DISPATCHER, Role.ADMIN})
"""Roles that read every visible case's reporter name and phone in clear."""
DISPATCH: frozenset[Role] = frozenset({Role.DISPATCHER, Role.ADMIN})
"""Roles that take the dispatch centre's steps of a case (accept, dispatch, check, close, ...)."""
FIELD_WORK: frozenset[Role] = frozenset({Role.GRID_WORKER})
"""Roles that take the grid worker's steps of a case (sign, start, handle, return, ...)."""
SERVICE_STAFF: frozenset[Role] = frozenset({Role.GRID_WORKER, Role.DISPATCHER, Role.ADMIN})
"""Roles that handle residents' service matters (community workers at stations, the centre)."""
OVERSIGHT: frozenset[Role] = frozenset({Role.DISPATCHER, Role.PLANNER, Role.ADMIN})
"""Roles that read the service network's KPIs (as the case KPIs)."""
DEPARTMENT_WORK: frozenset[Role] = frozenset({Role.DEPARTMENT})
"""Roles that take a department's steps of a transfer (sign, start, return, finish)."""
EDITORS: frozenset[Role] = frozenset({Role.PLANNER, Role.ADMIN})
"""Roles that edit layers and the grid (OGC transactions, planning drafts and publishing)."""


def in_order(roles: Iterable[str]) -> tuple[Role, ...]:
    """`roles` in `ROLES` order, so lists built from a set read the same every time."""
    wanted = set(roles)
    return tuple(r for r in ROLES if r in wanted)


def role_check_sql(roles: Iterable[str], column: str = "role") -> str:
    """The CHECK constraint admitting exactly `roles`: ``role IN ('dispatcher', 'admin')``."""
    listed = ", ".join(f"'{r}'" for r in in_order(roles))
    return f"{column} IN ({listed})"
