"""Personal data leaving the service: masks for those who may not read it, audits for those who do.

China's PIPL asks that personal data reach only those whose work needs it and
that every read be traceable.  Staff who may know *that* a reporter left a name
and phone, but not what they are, get a mask (`张*`, `138****5678`); every answer
that carries reporter data in clear writes one audit entry (who, which cases, when)
in the same transaction as the read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from layers.tables.audit import record

PERSONAL_READ = "personal_data.read"
"""The audit action of a read of reporter data in clear."""


def mask_phone(phone: str | None) -> str | None:
    """`13812345678` → `138****5678`: the operator prefix and the last four digits stay.

    Numbers too short for that keep only their last two characters.
    """
    if not phone:
        return phone
    value = phone.strip()
    if len(value) >= 8:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return "*" * max(len(value) - 2, 1) + value[-2:]


def mask_name(name: str | None) -> str | None:
    """`张三` → `张*`, `欧阳娜娜` → `欧***`: the first character stays (the family name, mostly)."""
    if not name:
        return name
    value = name.strip()
    return value[:1] + "*" * max(len(value) - 1, 1)


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """Sorted ids as inclusive `[first, last]` runs, so an audit of a big export stays small."""
    runs: list[list[int]] = []
    for value in sorted(set(ids)):
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return runs


def record_personal_read(
    *,
    session: Session,
    actor: str,
    role: str,
    ids: Iterable[int],
    face: str,
    at: datetime | None,
    fields: tuple[str, ...] = ("reporter_name", "reporter_phone"),
    entity: str = "incidents",
) -> None:
    """Audit that `actor` read the reporter data of the cases `ids` through `face`.

    No entry when no case was read.  One case is named by `entity_id`; several by
    `data.id_ranges`.
    """
    runs = id_ranges(ids)
    if not runs:
        return
    single = len(runs) == 1 and runs[0][0] == runs[0][1]
    record(
        session=session,
        actor=actor,
        role=role,
        action=PERSONAL_READ,
        entity=entity,
        entity_id=runs[0][0] if single else None,
        data={"face": face, "fields": list(fields), "id_ranges": runs},
        at=at,
    )
