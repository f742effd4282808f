"""The published code shape of grid cells, and what a draft's codes must respect.

6-digit district + 3-digit street + 3-digit community + 3 digits per grid level
(level 1: 15 characters, level 2: 18, level 3: 21); a child's code starts with
its parent's code, and a level-1 code with its community's.
"""

from __future__ import annotations

import re
from collections.abc import Collection

COMMUNITY_CODE_LENGTH = 12
_DIGITS = re.compile(r"^[0-9]+$")


def code_length(level: int) -> int:
    """Length of a cell code at `level` (1..3)."""
    return COMMUNITY_CODE_LENGTH + 3 * level


def community_of(code: str) -> str:
    """The community code a cell code starts with."""
    return code[:COMMUNITY_CODE_LENGTH]


def parent_code_of(code: str, level: int) -> str:
    """The parent's code by shape: the community for level 1, else the code minus 3 digits."""
    return community_of(code) if level == 1 else code[:-3]


def code_problem(
    code: str, level: int, parent_code: str | None, communities: Collection[str]
) -> str | None:
    """Why `code` is malformed for a cell of `level` under `parent_code`; None when fine."""
    if level not in (1, 2, 3):
        return f"level {level} is not 1, 2 or 3"
    if not _DIGITS.match(code or ""):
        return f"code {code!r} is not all digits"
    if len(code) != code_length(level):
        return f"a level-{level} code has {code_length(level)} digits, {code} has {len(code)}"
    if code.endswith("000"):
        return f"grid sequence 000 is not used ({code})"
    expected = parent_code_of(code, level)
    if level == 1:
        if parent_code not in (None, "", expected):
            return f"{code} starts with community {expected} but names {parent_code} as parent"
        if expected not in communities:
            return f"{code} starts with {expected}, which is not a community of this scope"
    elif parent_code != expected:
        return f"{code} must start with its parent's code {parent_code}"
    return None
