"""Safety round 3: the SLA sweep finds the cases whose warning is due through an index.

The sweep's candidates are the open cases past their deadline (``ix_incidents_status_due``
serves those) or past the 80 % mark of the running step and not warned yet.  That mark
lives in ``incidents.deadlines`` (``{step: {…, warn_at}}``), so finding it meant reading
every open case's JSON.  ``wangge_step_warn_at(status, deadlines)`` is the mark of the
running step, and ``ix_incidents_warn_open`` indexes it over the open, unwarned cases
only; the sweep's pick is then two index ranges (a BitmapOr), not a scan.

The function is declared IMMUTABLE: it casts the ISO 8601 text to ``timestamptz``, which
PostgreSQL calls STABLE because a text *without* an offset would be read in the session's
TimeZone.  Every ``warn_at`` written carries its offset (``datetime.isoformat()`` of an
aware moment: `grids.cases.deadlines.step_deadline`), so the result does not depend on
the session.  The status → step mapping is `layers.core.case_states.STEP_OF_STATUS`.

Revision ID: 0028_safety_round3
Revises: 0023
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028_safety_round3"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STEPS = {
    "reported": "accept",
    "accepted": "accept",
    "filed": "dispatch",
    "returned": "dispatch",
    "dispatched": "sign",
    "signed": "handle",
    "in_progress": "handle",
    "rework": "handle",
    "handled": "check",
    "checking": "check",
    "self_handled": "check",
}
_TIMED = ", ".join(f"'{s}'" for s in _STEPS)


def upgrade() -> None:
    whens = " ".join(f"WHEN '{s}' THEN '{p}'" for s, p in _STEPS.items())
    op.execute(
        "CREATE FUNCTION wangge_step_warn_at(status text, deadlines jsonb) RETURNS timestamptz"
        " LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $$"
        f" SELECT CAST(deadlines -> (CASE status {whens} END) ->> 'warn_at' AS timestamptz) $$"
    )
    op.execute(
        "CREATE INDEX ix_incidents_warn_open ON incidents"
        " (wangge_step_warn_at(status, deadlines))"
        f" WHERE warned_at IS NULL AND due_at IS NOT NULL AND status IN ({_TIMED})"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_incidents_warn_open")
    op.execute("DROP FUNCTION wangge_step_warn_at(text, jsonb)")
