"""Refuse work beyond a configured bound before it starts, with a machine-readable answer."""

from __future__ import annotations

from layers.core.errors import LimitExceededError


def check_limit(parameter: str, value: float, limit: float, *, hint: str = "") -> None:
    """422 ``limit_exceeded`` naming the parameter, its value and the bound, when over it."""
    if value > limit:
        raise LimitExceededError(
            f"{parameter} = {value:,.0f} is over the limit of {limit:,.0f}"
            + (f"; {hint}" if hint else ""),
            parameter=parameter,
            value=value,
            limit=limit,
        )
