"""Every endpoint for every role: the access table in code, and what HTTP really answers."""

from __future__ import annotations

import re

import pytest

from geo_api.access import AccessRule, access_table
from geo_api.auth import Role

R, G, D, P, A = Role.RESIDENT, Role.GRID_WORKER, Role.DISPATCHER, Role.PLANNER, Role.ADMIN
EVERYONE = {R, G, D, P, A}
STAFF = {G, D, P, A}
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
SAMPLES = {
    "fmt": "json",
    "service_code": "0101",
    "incident_id": "1",
    "service_request_id": "1",
    "key_id": "999999",  # no such key: the sweep must not revoke the demo keys it signs with
    "session_id": "999999",
}
BASE_DATA = {
    ("GET", "/geocode"): EVERYONE,
    ("GET", "/geocode/reverse"): EVERYONE,
    ("GET", "/base/persons"): {G, D, A},
    ("GET", "/base/figures"): STAFF,
}
"""The base-data centre, as documented in docs/base-data.md."""
JOBS = {
    ("POST", "/planning/revisions/{revision_id}/suggest"): {P, A},
    ("GET", "/jobs/{job_id}"): STAFF,
    ("DELETE", "/jobs/{job_id}"): STAFF,
}
"""Long work and its jobs (a job is further limited to its submitter and admins)."""


def test_the_case_endpoints_declare_exactly_these_roles(app):
    table = {(r.method, r.path): set(r.roles) for r in access_table(app)}
    for key, roles in CASES.items():
        assert table.get(key) == roles, key


def test_sign_in_and_key_management_declare_exactly_these_roles(app):
    table = {(r.method, r.path): set(r.roles) for r in access_table(app)}
    for key, roles in ACCOUNTS.items():
        assert table.get(key) == roles, key


def test_the_base_data_endpoints_declare_exactly_these_roles(app):
    table = {(r.method, r.path): set(r.roles) for r in access_table(app)}
    for key, roles in BASE_DATA.items():
        assert table.get(key) == roles, key


def test_the_job_endpoints_declare_exactly_these_roles(app):
    table = {(r.method, r.path): set(r.roles) for r in access_table(app)}
    for key, roles in JOBS.items():
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
