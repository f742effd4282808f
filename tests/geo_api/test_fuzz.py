"""Schemathesis fuzzes every operation of /openapi.json, with and without a key.

Every route the app mounts is in the document, so routes added later are fuzzed
too.  Checks: no 5xx, and every answer is one the document declares (status,
media type, headers, body schema).  Bounded and deterministic: a few positive
and a few negative examples per operation, derandomised, no shrinking, against
this module's copy of the test database over ASGI (no server, no network).
Whole-district analyses get fewer examples.  Not checked: that every
schema-valid request is accepted (a CQL2 filter or "inside the district" cannot
be written as JSON Schema), nor schemathesis' auth and stateful probes.

Each test lists every distinct failure (operation, kind, status) at once, with
a curl line to reproduce it.  `make fuzz` runs only this module; `make test`
runs it with the rest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.fuzz

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXPENSIVE = re.compile(r"^/(analytics|maps|board)/|/(suggest|publish|validate|impact|diff)$")
"""Whole-district analyses, the board's whole-district pages, grid work: fewer examples."""
COVERED, COVERED_FEW = 20, 3
"""Coverage-phase cases per operation (cheap, expensive)."""
EXAMPLES, FEW = 3, 1
"""Generated examples per operation and generation mode (positive, negative)."""
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)

Found = dict[tuple[str, str], str]
"""(operation, failure kind) → how to reproduce it."""


def _kind(failure: Failure) -> str:
    status = getattr(failure, "status_code", None)
    return f"{failure.code} {failure.title}" + (f" [{status}]" if status else "")


def _run(case, headers: dict[str, str], found: Found) -> None:
    try:
        case.call_and_validate(headers=headers, checks=CHECKS)
    except FailureGroup as group:
        for failure in group.exceptions:
            if isinstance(failure, Failure):
                key = (case.operation.label, _kind(failure))
                found.setdefault(key, case.as_curl_command(headers=headers)[:300])
    except Failure as failure:
        key = (case.operation.label, _kind(failure))
        found.setdefault(key, case.as_curl_command(headers=headers)[:300])
    except Exception as exc:  # raised through the ASGI transport: over HTTP, a 500
        key = (case.operation.label, f"ST101 Server error [500] {type(exc).__name__}")
        found.setdefault(key, case.as_curl_command(headers=headers)[:300])


def coverage_cases(schema, operation, limit: int) -> list:
    """Schemathesis' coverage phase (boundary values, NULs, wrong types: deterministic),
    sampled evenly down to `limit` cases so every parameter keeps some."""
    cases = list(
        CoverageGenerator(
            operation=operation,
            generation_modes=list(MODES),
            generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
            auth_storage=None,
            override=Override(),
            feedback=FeedbackSources(),
        )
    )
    # its probes of other methods are the 405s FastAPI answers for every route alike
    cases = [c for c in cases if c.method.upper() == operation.method.upper()]
    step = max(1, math.ceil(len(cases) / limit))
    return cases[::step][:limit]


def fuzz(app, headers: dict[str, str], budget: Callable[[str], tuple[int, int]]) -> Found:
    """Every distinct failure of a bounded, deterministic run over every operation."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    found: Found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        covered, n = budget(operation.path)
        for case in coverage_cases(schema, operation, covered):
            _run(case, headers, found)
        for mode in MODES:
            strategy = operation.as_strategy(generation_mode=mode)

            @settings(
                max_examples=n,
                derandomize=True,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(strategy)
            def one(case) -> None:
                _run(case, headers, found)

            try:
                one()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE
    return found


def budget(path: str) -> tuple[int, int]:
    """(coverage cases, generated examples per mode) for an operation's path."""
    return (COVERED_FEW, FEW) if EXPENSIVE.search(path) else (COVERED, EXAMPLES)


def _report(found: Found) -> str:
    return "\n".join(f"{op}: {kind}\n    {curl}" for (op, kind), curl in sorted(found.items()))


def test_fuzz_without_a_key(app) -> None:
    found = fuzz(app, {}, budget)
    assert not found, f"{len(found)} distinct failures:\n{_report(found)}"


def test_fuzz_with_an_admin_key(app, test_db) -> None:
    found = fuzz(app, test_db.headers("admin"), budget)
    assert not found, f"{len(found)} distinct failures:\n{_report(found)}"
