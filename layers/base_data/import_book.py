"""The address book of one import: each entrance normalised and matched once, not once per row.

A department file names the same entrance thousands of times, each time with
another room: ``崔家店路140号3栋2单元201室``, ``…202室``.  `normalise` and the
matcher never look at the room (the standard address is the entrance), so a
row whose text ends in ``栋`` or ``单元`` followed by digits (ASCII or full-width, then
室 or not) is
cut there: the head is normalised and matched once per distinct head, and the
room is put back.  Nothing in `normalise` reaches across that cut (no rule
matches digits after 单元/栋 at the end), and the head is used only when its
normalised form still ends in 栋/单元 and parses; any other row takes the full
path (`AddressBook.match`).  A test compares both paths on the messy files.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy.orm import Session

from layers.base_data.address_text import AddressParts, longest_first, normalise, parse, renamed
from layers.base_data.matching import AddressBook, Match

_ROOM_TAIL = re.compile(r"^(.*(?:单元|栋))([0-9０-９]{1,6})(室?)$")
_HALF = str.maketrans("０１２３４５６７８９", "0123456789")

Located = tuple[Match | None, AddressParts | None, str | None]
"""The match, the parts of the entrance (their `room` not to be trusted) and the room."""


class ImportBook(AddressBook):
    """An `AddressBook` for one file: matches per distinct entrance, the room cut off and kept."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._ordered = longest_first(self.aliases)
        self._heads: dict[str, Located | None] = {}
        self.inside: dict[tuple[float, float], bool] = {}
        """Points known to be in the district or not (`address_rows.points_inside`)."""

    def normalised(self, raw: str) -> str:
        """`normalise(raw, self.aliases)`, the aliases sorted once for the whole file."""
        return renamed(normalise(raw), self._ordered) if self._ordered else normalise(raw)

    def _head(self, head: str) -> Located | None:
        wanted = self.normalised(head)
        if not wanted.endswith(("栋", "单元")):
            return None
        if wanted not in self.cache:
            self.cache[wanted] = self._match(wanted)
        found, parts, _ = self.cache[wanted]
        if parts is None or parts.room is not None:
            return None
        return found, parts, None

    def locate(self, raw: str) -> Located:
        """What `match` finds for `raw`, the room apart (no new `AddressParts` per row)."""
        m = _ROOM_TAIL.match(raw)
        if m is not None:
            head = m.group(1)
            if head not in self._heads:
                self._heads[head] = self._head(head)
            hit = self._heads[head]
            if hit is not None:
                return hit[0], hit[1], m.group(2).translate(_HALF)
        wanted = self.normalised(raw)
        if wanted not in self.cache:
            self.cache[wanted] = self._match(wanted)
        found, parts, _ = self.cache[wanted]
        return found, parts, parts.room if parts else None

    def match(self, raw: str) -> tuple[Match | None, AddressParts | None, str]:
        """As `AddressBook.match` (the normalised text is the head's plus the room)."""
        found, parts, room = self.locate(raw)
        if parts is not None and parts.room != room:
            parts = replace(parts, room=room)
        return found, parts, ""


def same_parse(raw: str, book: ImportBook) -> bool:
    """Whether the cut path and the full path agree on `raw` (for the tests)."""
    wanted = normalise(raw, book.aliases)
    full = book._match(wanted)
    cut = book.match(raw)
    return (full[0], full[1]) == (cut[0], cut[1]) and (parse(wanted) is None) == (full[1] is None)
