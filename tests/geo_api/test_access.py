"""Every endpoint for every role: the access table in code, and what HTTP really answers."""

from __future__ import annotations

import re

import pytest

from geo_api.access import AccessRule, access_table
from geo_api.auth import Role

R, G, D, P, A = Role.RESIDENT, Role.GRID_WORKER, Role.DISPATCHER, Role.PLANNER, Role.ADMIN
DEP = Role.DEPARTMENT
EVERYONE = {R, G, D, P, A, DEP}
STAFF = {G, D, P, A, DEP}
CASES = {
    ("GET", "/locate"): EVERYONE,
    ("POST", "/locate"): STAFF,
    ("POST", "/incidents"): EVERYONE,
    ("GET", "/incidents/{incident_id}"): EVERYONE,
    ("GET", "/incidents/{incident_id}/events"): EVERYONE,
    ("POST", "/incidents/{incident_id}/transitions"): {G, D, A},
    ("GET", "/incidents/{incident_id}/nearest-workers"): {D, A},
    ("GET", "/dispatch/queue"): {G, D, A},
    ("POST", "/dispatch/assign"): {D, A},
    ("GET", "/analytics/kpis"): {D, P, A},
    ("GET", "/calendar"): STAFF,
    ("GET", "/calendar/overrides"): {A},
    ("PUT", "/calendar/overrides/{day}"): {A},
    ("DELETE", "/calendar/overrides/{day}"): {A},
    **{
        ("GET", f"/open311/v2/{path}"): EVERYONE
        for path in (
            "discovery.{fmt}",
            "services.{fmt}",
            "services/{service_code}.{fmt}",
            "requests.{fmt}",
            "requests/{service_request_id}.{fmt}",
            "tokens/{token}.{fmt}",
        )
    },
    ("POST", "/open311/v2/requests.{fmt}"): EVERYONE,
}
"""The case side's role × endpoint table, as documented in docs/cases.md."""
ACCOUNTS = {
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("POST", "/logout"): EVERYONE,
    ("GET", "/admin/keys"): {A},
    ("POST", "/admin/keys"): {A},
    ("POST", "/admin/keys/{key_id}/revoke"): {A},
    ("GET", "/admin/sessions"): {A},
    ("POST", "/admin/sessions/{session_id}/revoke"): {A},
}
"""Sign-in and key management, as documented in the README (API conventions)."""
SAFETY = {
    ("GET", "/platform/units"): {D, P, A},
    ("POST", "/platform/units/{code}/staff"): {A},
    ("GET", "/platform/units/{code}/notices"): {D, A},
    ("POST", "/platform/notices/{notice_id}/read"): {D, A, DEP},
    ("GET", "/platform/liaisons"): {D, A, DEP},
    ("POST", "/platform/liaisons"): {D, A},
    ("POST", "/incidents/{incident_id}/joint-tasks"): {D, A},
    ("GET", "/analytics/kpis/levels"): {D, P, A},
    ("GET", "/departments"): STAFF,
    ("POST", "/departments/{code}/staff"): {A},
    ("GET", "/departments/{code}/queue"): {DEP, D, A},
    ("GET", "/departments/{code}/notices"): {DEP, D, A},
    ("POST", "/incidents/{incident_id}/transfers"): {D, A},
    ("GET", "/incidents/{incident_id}/transfers"): {DEP, D, A},
    ("POST", "/transfers/{transfer_id}/steps"): {DEP},
    ("GET", "/analytics/kpis/departments"): {D, P, A},
}
"""The safety platform's role × endpoint table, as documented in docs/safety-platform.md."""
SAMPLES = {
    "fmt": "json",
    "service_code": "0101",
    "incident_id": "1",
    "service_request_id": "1",
    "key_id": "999999",  # no such key: the sweep must not revoke the demo keys it signs with
    "session_id": "999999",
    "chart": "counts",
}
BASE_DATA = {
    ("GET", "/geocode"): EVERYONE,
    ("GET", "/geocode/reverse"): EVERYONE,
    ("GET", "/base/persons"): {G, D, A},
    ("GET", "/base/figures"): STAFF,
    ("POST", "/base/changes"): {G},
    ("GET", "/base/changes"): {G, D, A},
    ("POST", "/base/changes/{change_id}/review"): {D, A},
    ("POST", "/base/dwellings/{dwelling_id}/visits"): {G},
    ("GET", "/base/dwellings/{dwelling_id}/visits"): {G, D, A},
    ("GET", "/base/export"): {G, D, P, A},
}
"""The base-data centre, as documented in docs/base-data.md."""
JOBS = {
    ("POST", "/planning/revisions/{revision_id}/suggest"): {P, A},
    ("GET", "/jobs/{job_id}"): STAFF,
    ("DELETE", "/jobs/{job_id}"): STAFF,
}
"""Long work and its jobs (a job is further limited to its submitter and admins)."""
SELF_GOVERNANCE = {
    ("GET", "/self-governance/courtyards/{courtyard_id}"): STAFF,
    ("GET", "/self-governance/courtyards/{courtyard_id}/shifts"): STAFF,
    ("POST", "/self-governance/shifts"): {G, D, A},
    ("POST", "/self-governance/shifts/{shift_id}/check-in"): {G, D, A},
    ("POST", "/self-governance/shifts/{shift_id}/check-out"): {G, D, A},
    ("POST", "/self-governance/shifts/{shift_id}/reports"): {G, D, A},
    ("GET", "/self-governance/coverage"): STAFF,
    ("GET", "/self-governance/social-organisations"): STAFF,
    ("GET", "/self-governance/density"): STAFF,
    ("GET", "/maps/self-governance"): STAFF,
    ("GET", "/residents/offers"): EVERYONE,
}
"""Courtyard self-governance (邻里守望), as documented in docs/safety-platform.md."""
SERVICE_STAFF = {G, D, A}
SERVICES = {
    ("GET", "/services/catalogue"): EVERYONE,
    ("GET", "/services/items"): EVERYONE,
    ("GET", "/services/items/{code}"): EVERYONE,
    ("GET", "/services/{item}/nearest"): EVERYONE,
    ("POST", "/services/appointments"): EVERYONE,
    ("GET", "/services/appointments/{appointment_id}"): EVERYONE,
    ("POST", "/services/appointments/{appointment_id}/reschedule"): EVERYONE,
    ("POST", "/services/appointments/{appointment_id}/cancel"): EVERYONE,
    ("POST", "/services/appointments/{appointment_id}/attendance"): SERVICE_STAFF,
    ("POST", "/services/proxy"): EVERYONE,
    ("GET", "/services/proxy/{request_id}"): EVERYONE,
    ("POST", "/services/proxy/{request_id}/transitions"): EVERYONE,
    ("GET", "/services/stations/{code}/day"): SERVICE_STAFF,
    ("GET", "/services/departments/{department}/queue"): SERVICE_STAFF,
    ("GET", "/services/desk"): SERVICE_STAFF,
    ("GET", "/services/kpis"): {D, P, A},
    ("POST", "/services/outbox/send"): {A},
    ("POST", "/services/documents"): EVERYONE,
    ("GET", "/services/documents"): EVERYONE,
    ("GET", "/services/documents/{doc_id}/content"): EVERYONE,
    ("DELETE", "/services/documents/{doc_id}"): EVERYONE,
}
"""The public service network, as documented in docs/services.md (tokens and purposes
narrow the EVERYONE rows further: a resident reaches only what their token opens)."""
FACES = {
    ("GET", "/report"): EVERYONE,
    ("GET", "/my-case"): EVERYONE,
    ("GET", "/reports/nearby"): EVERYONE,
    ("GET", "/incidents/{incident_id}/stream"): EVERYONE,
    ("GET", "/incidents/{incident_id}/rating"): EVERYONE,
    ("POST", "/incidents/{incident_id}/rating"): {R},
    ("POST", "/incidents/{incident_id}/photos"): EVERYONE,
    ("GET", "/incidents/{incident_id}/photos"): EVERYONE,
    ("GET", "/incidents/{incident_id}/photos/{sha}"): EVERYONE,
    ("GET", "/handheld"): {G},
    ("GET", "/workers/me/records-here"): {G},
    ("POST", "/workers/me/positions"): {G},
    ("POST", "/workers/me/duty"): {G},
    ("GET", "/workers/me/shifts"): {G},
    ("GET", "/board"): {D, A},
    ("GET", "/board/cases"): {D, A},
    ("GET", "/board/workers"): {D, A},
    ("GET", "/board/cases/columns"): {D, A},
    ("GET", "/board/workers/columns"): {D, A},
    ("GET", "/board/stream"): {D, A},
    ("GET", "/dashboard"): {D, P, A},
    ("GET", "/dashboard/figures"): {D, P, A},
    ("GET", "/dashboard/figures/{chart}.csv"): {D, P, A},
    ("GET", "/dashboard/stream"): {D, P, A},
}
"""The residents', grid workers' and dispatchers' pages and what they call (README, "The pages")."""
PLANNING_EDITOR = {
    **{
        ("POST", f"/planning/revisions/{{revision_id}}/edits/{op}"): {P, A}
        for op in ("move", "split", "merge", "reshape", "new-cell", "delete-cell", "restore")
    },
    ("GET", "/planning/revisions/{revision_id}/figures"): {P, A},
    ("GET", "/planning/revisions/{revision_id}/units"): {P, A},
    ("GET", "/planning/drafts"): {P, A},
    ("DELETE", "/planning/revisions/{revision_id}"): {P, A},
    ("GET", "/planning/editor"): {P, A},
    ("GET", "/planning/revisions/{revision_id}/live"): {P, A},
    ("POST", "/planning/revisions/{revision_id}/proposed-code"): {P, A},
    ("GET", "/workers"): {P, A},
    ("POST", "/workers"): {P, A},
    ("PATCH", "/workers/{worker_id}"): {P, A},
}
"""The planners' editor (docs/planning.md, "The editor")."""


def test_the_case_endpoints_declare_exactly_these_roles(app):
    table = {(r.method, r.path): set(r.roles) for r in access_table(app)}
    for key, roles in CASES.items():
        assert table.get(key) == roles, key


def test_sign_in_and_key_management_declare_exactly_these_roles(app):
    table = {(r.method, r.path): set(r.roles) for r in access_table(app)}
    for key, roles in ACCOUNTS.items():
        assert table.get(key) == roles, key


def test_the_safety_platform_endpoints_declare_exactly_these_roles(app):
    table = {(r.method, r.path): set(r.roles) for r in access_table(app)}
    for key, roles in SAFETY.items():
        assert table.get(key) == roles, key


def test_the_base_data_endpoints_declare_exactly_these_roles(app):
    table = {(r.method, r.path): set(r.roles) for r in access_table(app)}
    for key, roles in BASE_DATA.items():
        assert table.get(key) == roles, key


def test_the_job_endpoints_declare_exactly_these_roles(app):
    table = {(r.method, r.path): set(r.roles) for r in access_table(app)}
    for key, roles in JOBS.items():
        assert table.get(key) == roles, key


def test_the_self_governance_endpoints_declare_exactly_these_roles(app):
    table = {(r.method, r.path): set(r.roles) for r in access_table(app)}
    for key, roles in SELF_GOVERNANCE.items():
        assert table.get(key) == roles, key


def test_the_service_endpoints_declare_exactly_these_roles(app):
    table = {(r.method, r.path): set(r.roles) for r in access_table(app)}
    services = {key for key in table if key[1].startswith("/services")}
    assert services == set(SERVICES)
    for key, roles in SERVICES.items():
        assert table.get(key) == roles, key


def test_the_resident_pages_declare_exactly_these_roles(app):
    table = {(r.method, r.path): set(r.roles) for r in access_table(app)}
    for key, roles in FACES.items():
        assert table.get(key) == roles, key


def test_the_planning_editor_declares_exactly_these_roles(app):
    table = {(r.method, r.path): set(r.roles) for r in access_table(app)}
    for key, roles in PLANNING_EDITOR.items():
        assert table.get(key) == roles, key


def _url(rule: AccessRule) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES.get(m.group(1), "1"), rule.path)


def _rules(app) -> list[AccessRule]:
    return [r for r in access_table(app) if r.method != "HEAD"]


@pytest.mark.parametrize("role", list(Role))
def test_every_endpoint_answers_every_role_as_declared(app, client, test_db, role):
    headers = test_db.headers(role.value)
    wrong = []
    for rule in _rules(app):
        status = client.request(rule.method, _url(rule), headers=headers).status_code
        if role in rule.roles:
            ok = status not in (401, 403) and status < 500
        elif rule.hidden:
            ok = status == 404
        else:
            ok = status == (401 if role is Role.RESIDENT else 403)
        if not ok:
            wrong.append((rule.method, rule.path, status))
    assert not wrong, wrong
