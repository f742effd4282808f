"""Chinese address text: normalised to one spelling, then parsed into components.

Departments write the same entrance many ways: full-width digits (１４０号),
traditional characters (號, 單元), 幢 or 座 or 号楼 for 栋, Chinese numerals
(一百四十号, 三栋), ``3-2-201`` for 3栋2单元201室, with or without the province,
city, district, street office and community in front, and sometimes under a
road's old name.  `normalise` makes one spelling of all of them; `parse` cuts
it into road, number, 栋, 单元 and room.  The standard address's `full_text` is
`standard_text` of its components, so an exact match is a string compare.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

_PREFIXES = re.compile(
    r"^(?:中国)?(?:四川省?)?(?:成都市?)?(?:成华区)?(?:[\u4e00-\u9fff]{2,5}街道(?:办事处)?)?"
    r"(?:[\u4e00-\u9fff]{2,6}社区(?:居委会)?)?"
)
_VARIANTS = (
    ("號", "号"),
    ("單元", "单元"),
    ("棟", "栋"),
    ("幢", "栋"),
    ("座", "栋"),
    ("區", "区"),
    ("華", "华"),
    ("單", "单"),
    ("門", "门"),
)
_NUMERAL = "零〇一二两三四五六七八九十百千"
_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_DIGIT |= {"八": 8, "九": 9}
_UNIT_OF = {"十": 10, "百": 100, "千": 1000}
# Numerals are converted only where they count something (号, 栋, 单元, 楼, 层, 室):
# road names keep theirs (二环路, 一环路东三段, 北站东一路).
_NUMERAL_RUN = re.compile(f"([{_NUMERAL}]+)(?=号|栋|单元|楼|层|室|户)")
_DASHED = re.compile(r"(\d+)号(\d+)-(\d+)(?:-(\d+))?$")
_TAIL = (
    r"(?P<number>\d+)号(?:(?P<building>\d+)栋)?(?:(?P<unit>\d+)单元)?"
    r"(?:(?P<room>\d+)(?:室|号|户)?)?$"
)
_PARSE = re.compile(r"^(?P<road>.+?(?:路|街|大道|巷|段|道))" + _TAIL)
_LOOSE = re.compile(r"^(?P<road>\D+?)" + _TAIL)
"""A road of no known shape (a typo in its last character): matched to a known road later."""


def chinese_number(text: str) -> int:
    """一百四十 → 140, 十二 → 12, 一四零 → 140 (digit by digit when no 十/百/千)."""
    if not any(ch in _UNIT_OF for ch in text):
        return int("".join(str(_DIGIT[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in _UNIT_OF:
            total += (current or 1) * _UNIT_OF[ch]
            current = 0
        else:
            current = _DIGIT[ch]
    return total + current


def normalise(raw: str, aliases: Mapping[str, str] | None = None) -> str:
    """One spelling of an address: half-width, simplified, Arabic numbers, no prefix, today's road.

    `aliases` maps old and alias road names to today's (`road_aliases`); the
    longest alias at the start of the address wins.
    """
    text = unicodedata.normalize("NFKC", raw)
    text = re.sub(r"[\s,，.。·•_/\\()（）]+", "", text)
    for old, new in _VARIANTS:
        text = text.replace(old, new)
    text = _NUMERAL_RUN.sub(lambda m: str(chinese_number(m.group(1))), text)
    text = re.sub(r"(\d+)号楼", r"\1栋", text)
    text = re.sub(r"(\d+)楼(?=\d+单元)", r"\1栋", text)
    text = re.sub(r"(\d+)#", r"\1号", text)
    text = _PREFIXES.sub("", text, count=1)
    text = _DASHED.sub(_undash, text)
    if aliases:
        return renamed(text, longest_first(aliases))
    return text


def longest_first(aliases: Mapping[str, str]) -> list[tuple[str, str]]:
    """The aliases as (old, today's) pairs, longest old name first: the order `renamed` tries."""
    return [(alias, aliases[alias]) for alias in sorted(aliases, key=len, reverse=True)]


def renamed(text: str, ordered: list[tuple[str, str]]) -> str:
    """`text` with the first (longest) old road name it starts with replaced by today's."""
    for alias, road in ordered:
        if text.startswith(alias) and not text.startswith(road):
            return road + text[len(alias) :]
    return text


def _undash(m: re.Match[str]) -> str:
    room = f"{m.group(4)}室" if m.group(4) else ""
    return f"{m.group(1)}号{m.group(2)}栋{m.group(3)}单元{room}"


@dataclass(frozen=True)
class AddressParts:
    """The components of a normalised address (`building`/`unit` None when not written)."""

    road: str
    number: int
    building: int | None = None
    unit: int | None = None
    room: str | None = None

    @property
    def standard(self) -> str:
        """The standard address of the entrance (no room): what `addresses.full_text` holds."""
        return standard_text(self.road, self.number, self.building, self.unit)


def standard_text(road: str, number: int, building: int | None, unit: int | None) -> str:
    """`崔家店路140号3栋2单元`: the one spelling of an entrance."""
    text = f"{road}{number}号"
    if building is not None:
        text += f"{building}栋"
    if unit is not None:
        text += f"{unit}单元"
    return text


def parse(normalised: str) -> AddressParts | None:
    """The components of a `normalise`d address, or None when it has no road and number."""
    m = _PARSE.match(normalised) or _LOOSE.match(normalised)
    if m is None:
        return None
    return AddressParts(
        road=m.group("road"),
        number=int(m.group("number")),
        building=int(m.group("building")) if m.group("building") else None,
        unit=int(m.group("unit")) if m.group("unit") else None,
        room=m.group("room"),
    )
