"""Keep residents' whereabouts and case tokens out of the logs.

A request line such as ``GET /maps/residents?lon=104.10312&lat=30.67218`` says
where a resident is, and ``/open311/v2/tokens/<token>.json`` carries the token
that proves a report is theirs.  Access-log lines and our own error lines show
the target with coordinates rounded to 0.01° (about 1 km: still enough to see
which part of the district a problem concerns) and secrets replaced.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode

COORDINATE_PARAMS = frozenset({"lon", "lat", "long", "lng", "latitude", "longitude", "x", "y"})
"""Query parameters holding one coordinate: rounded."""
COORDINATE_LIST_PARAMS = frozenset({"bbox", "point", "coords"})
"""Query parameters holding comma-separated coordinates: each number rounded."""
SECRET_PARAMS = frozenset({"token", "case_token", "api_key", "key", "access_token", "session"})
"""Query parameters holding a secret: replaced."""
REDACTED = "[redacted]"
ROUND_DIGITS = 2
_TOKEN_PATH = re.compile(r"(/tokens/)[^/?]+?(\.[A-Za-z0-9]+)?(?=$|[/?])")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _round(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return REDACTED
    return f"{number:.{ROUND_DIGITS}f}"


def _round_list(value: str) -> str:
    return _NUMBER.sub(lambda m: _round(m.group(0)), value)


def _query(query: str) -> str:
    names = {name.lower() for name, _ in parse_qsl(query, keep_blank_values=True)}
    if not names & (SECRET_PARAMS | COORDINATE_PARAMS | COORDINATE_LIST_PARAMS):
        return query  # nothing to hide: keep the line as the client sent it
    pairs = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        key = name.lower()
        if key in SECRET_PARAMS:
            value = REDACTED
        elif key in COORDINATE_PARAMS:
            value = _round(value)
        elif key in COORDINATE_LIST_PARAMS:
            value = _round_list(value)
        pairs.append((name, value))
    return urlencode(pairs, safe="[],")


def redact_target(target: str) -> str:
    """A request target (path and query) safe to log."""
    path, sep, query = target.partition("?")
    path = _TOKEN_PATH.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(2) or ''}", path)
    return f"{path}{sep}{_query(query)}" if sep else path


class AccessLogRedaction(logging.Filter):
    """Rewrites the target of uvicorn's access-log records (args: client, method, target, …)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place; never drops a record."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_target(args[2]), *args[3:])
        return True


ACCESS_LOGGERS = ("uvicorn.access",)


def install_access_log_redaction() -> None:
    """Add the filter to the access loggers (once; uvicorn configures them before start-up)."""
    for name in ACCESS_LOGGERS:
        log = logging.getLogger(name)
        if not any(isinstance(f, AccessLogRedaction) for f in log.filters):
            log.addFilter(AccessLogRedaction())
