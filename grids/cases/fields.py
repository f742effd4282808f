"""The rules of a case's text fields, one definition for every door a case comes in by.

`POST /incidents` (and Open311) and `wangge incidents import` used to judge the
same fields differently: the API refused a 2 MB description that the import
stored.  Each rule here checks a batch of values (the import's column, or the
API's one value) with the same code, and describes itself as JSON Schema for
the OpenAPI document.  Text PostgreSQL cannot store (a NUL) is refused too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema


@dataclass(frozen=True)
class TextRule:
    """Length bounds and an optional pattern for one text field."""

    name: str
    max_length: int
    min_length: int = 0
    pattern: str | None = None

    def reasons(self, values: Iterable[str]) -> list[str | None]:
        """Why each value breaks the rule (None where it is fine), in order."""
        match = re.compile(self.pattern).fullmatch if self.pattern else None
        out: list[str | None] = []
        for value in values:
            if "\x00" in value:
                out.append(f"{self.name} contains a NUL character")
            elif len(value) > self.max_length:
                out.append(f"{self.name} is longer than {self.max_length:,} characters")
            elif len(value) < self.min_length:
                out.append(f"{self.name} is shorter than {self.min_length} characters")
            elif match is not None and not match(value):
                out.append(f"{self.name} does not match {self.pattern}")
            else:
                out.append(None)
        return out

    def validate(self, value: str) -> str:
        """`value` when fine; ValueError with the reason (for pydantic)."""
        reason = self.reasons([value])[0]
        if reason:
            raise ValueError(reason)
        return value

    def json_schema(self) -> dict[str, Any]:
        """The rule as JSON Schema (what the OpenAPI document says)."""
        schema: dict[str, Any] = {"type": "string", "maxLength": self.max_length}
        if self.min_length:
            schema["minLength"] = self.min_length
        if self.pattern:
            schema["pattern"] = self.pattern
        return schema

    def field(self) -> Any:
        """A pydantic `str` type that this rule validates and documents."""
        return Annotated[str, AfterValidator(self.validate), WithJsonSchema(self.json_schema())]


CATEGORY = TextRule("category", 4, 4, r"[0-9]{4}")
CHANNEL = TextRule("channel", 24, 1)
DESCRIPTION = TextRule("description", 4000, 1)
ADDRESS = TextRule("address", 500)
REPORTER_NAME = TextRule("reporter_name", 100)
REPORTER_PHONE = TextRule("reporter_phone", 32, 3, r"[0-9+\- ]{3,32}")
EXTERNAL_ID = TextRule("external_id", 100, 1)
