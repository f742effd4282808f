"""The role sets are defined once and every user of them reads the same sets."""

from __future__ import annotations

from layers.core import roles
from layers.core.roles import ROLES, STAFF, Role, role_check_sql


def test_every_group_is_made_of_roles_and_staff_is_everyone_but_residents() -> None:
    groups = (roles.SEES_ALL_CASES, roles.SEES_PERSONAL_DATA, roles.DISPATCH, roles.EDITORS)
    assert all(group <= STAFF for group in (*groups, roles.FIELD_WORK, roles.DEPARTMENT_WORK))
    assert STAFF == roles.EVERYONE - {Role.RESIDENT}
    assert roles.SEES_PERSONAL_DATA <= roles.SEES_ALL_CASES
    assert roles.SYSTEM not in ROLES


def test_check_constraints_list_the_roles_in_their_order() -> None:
    assert role_check_sql(ROLES) == (
        "role IN ('resident', 'grid_worker', 'dispatcher', 'planner', 'admin', 'department')"
    )
    assert role_check_sql(STAFF) == (
        "role IN ('grid_worker', 'dispatcher', 'planner', 'admin', 'department')"
    )


def test_the_users_read_the_one_source() -> None:
    from geo_api import auth
    from geo_api.schemas.keys import KeyIn
    from grids.cases.workflow import RULES
    from layers.tables.case_scope import SEE_ALL_ROLES

    assert auth.Role is Role and auth.STAFF is STAFF
    assert KeyIn.model_json_schema()["properties"]["role"]["enum"] == list(ROLES)
    assert RULES["accept"].roles == roles.DISPATCH
    assert RULES["sign"].roles == roles.FIELD_WORK
    assert SEE_ALL_ROLES == roles.SEES_ALL_CASES | {roles.SYSTEM}
