"""The one error hierarchy of wangge.

Every layer raises a subclass of `WanggeError`; `geo_api.errors` turns them into
RFC 9457 problem responses in one place and the CLI into a clear message and a
non-zero exit.  Each error carries a machine-readable `code` (stable, part of the
API contract) and a message that is safe to show to a user — never a traceback,
SQL or a file path the user did not give.
"""

from __future__ import annotations

from typing import Any


class WanggeError(Exception):
    """Base of all expected failures; `status_code` is what HTTP answers."""

    status_code: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details


class InvalidInputError(WanggeError):
    """The request or file is malformed or violates a rule (400)."""

    status_code = 400
    code = "invalid_input"


class UnprocessableError(WanggeError):
    """Well-formed input that cannot be acted on (422), e.g. a failed validation report."""

    status_code = 422
    code = "unprocessable"


class NotAuthenticatedError(WanggeError):
    """No or an unknown API key where one is required (401)."""

    status_code = 401
    code = "not_authenticated"


class ForbiddenError(WanggeError):
    """The caller's role may not do this (403)."""

    status_code = 403
    code = "forbidden"


class NotFoundError(WanggeError):
    """The thing asked for does not exist, or is hidden from the caller (404)."""

    status_code = 404
    code = "not_found"


class ConflictError(WanggeError):
    """The state changed under the caller or the action clashes with it (409)."""

    status_code = 409
    code = "conflict"


class MethodNotAllowedError(WanggeError):
    """The resource exists but does not take this method, e.g. a read-only collection (405)."""

    status_code = 405
    code = "method_not_allowed"


class PreconditionFailedError(WanggeError):
    """If-Match names a version that is no longer current (412)."""

    status_code = 412
    code = "precondition_failed"


class PreconditionRequiredError(WanggeError):
    """A change without If-Match (or the version seen) could overwrite someone else's (428)."""

    status_code = 428
    code = "precondition_required"


class PayloadTooLargeError(WanggeError):
    """The request body is over the configured limit (413)."""

    status_code = 413
    code = "payload_too_large"


class TooManyRequestsError(WanggeError):
    """The caller is throttled (429); `retry_after_s` in the details says for how long."""

    status_code = 429
    code = "too_many_requests"


class DatabaseUnavailableError(WanggeError):
    """PostgreSQL cannot be reached or answered with an outage (503)."""

    status_code = 503
    code = "database_unavailable"


class ClusterError(WanggeError):
    """The private PostgreSQL cluster cannot be set up, started or stopped."""

    status_code = 500
    code = "cluster_error"


class LimitExceededError(UnprocessableError):
    """A parameter asks for more work than the configured bound allows (422); nothing ran."""

    code = "limit_exceeded"


class TooManyJobsError(WanggeError):
    """The caller already has as many jobs queued or running as allowed (429)."""

    status_code = 429
    code = "too_many_jobs"


class ServiceRoleError(WanggeError):
    """The server's database role cannot be set up with least privilege (an operator must act)."""

    status_code = 500
    code = "service_role_error"


class BackupError(WanggeError):
    """A backup or restore failed; a failed restore changed nothing."""

    status_code = 500
    code = "backup_failed"
