"""The catalogue as residents search it: Chinese substring search, one item, its materials.

Search is ``name ILIKE '%q%'`` served by the pg_trgm GIN index on `name`; a query
also matches the group name, the department and the item code.  Trigrams of
CJK text work in a UTF-8 database (each character counts as a word character),
and a query shorter than three characters still answers correctly, only without
the index's help.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from layers.core.errors import InvalidInputError, NotFoundError
from layers.tables.service_items import MATERIAL_KINDS, ServiceItem

MAX_QUERY = 50
MAX_LIMIT = 100


@dataclass(frozen=True)
class ItemView:
    """An item as the API shows it, with what to bring by name."""

    item: ServiceItem
    offered_at: int

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of an item."""
        it = self.item
        return {
            "code": it.code,
            "name": it.name,
            "group": {"code": it.group_code, "name": it.group_name},
            "department": {"code": it.department_code, "name": it.department},
            "handled_at": list(it.handled_at),
            "bookable": it.bookable,
            "online": it.online,
            "materials": [{"code": m, "name": MATERIAL_KINDS.get(m, m)} for m in it.materials],
            "time_limit_days": it.time_limit_days,
            "fee_yuan": float(it.fee_yuan),
            "offered_at": self.offered_at,
        }


def get_item(*, session: Session, code: str) -> ServiceItem:
    """The item of `code`; 404 `unknown_item` otherwise."""
    item = session.scalar(select(ServiceItem).where(ServiceItem.code == code))
    if item is None:
        raise NotFoundError(f"no service item {code!r}", code="unknown_item")
    return item


def item_view(*, session: Session, code: str) -> ItemView:
    """The item with the number of service points offering it."""
    item = get_item(session=session, code=code)
    count = session.execute(
        text("SELECT count(*) FROM service_offers WHERE item_id = :i"), {"i": item.id}
    ).scalar_one()
    return ItemView(item, int(count))


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_items(
    *,
    session: Session,
    q: str | None,
    group: str | None = None,
    bookable: bool | None = None,
    online: bool | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[int, list[ItemView]]:
    """(total, page) of items matching `q` (substring) and the filters, by code."""
    q = (q or "").strip()
    if len(q) > MAX_QUERY:
        raise InvalidInputError(f"q is at most {MAX_QUERY} characters", code="query_too_long")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be in [1, {MAX_LIMIT}]", code="invalid_limit")
    where = ["TRUE"]
    params: dict[str, Any] = {"limit": limit, "offset": max(0, offset)}
    if q:
        where.append(
            "(si.name ILIKE :q OR si.group_name ILIKE :q OR si.department ILIKE :q "
            "OR si.code = upper(:raw))"
        )
        params |= {"q": _like(q), "raw": q}
    for column, value in (("group_code", group), ("bookable", bookable), ("online", online)):
        if value is not None:
            where.append(f"si.{column} = :{column}")
            params[column] = value
    conditions = " AND ".join(where)  # fixed fragments; every value is bound
    sql = (
        "SELECT si.id, count(*) OVER () AS total, (SELECT count(*) FROM service_offers o "  # noqa: S608
        "WHERE o.item_id = si.id) AS offered FROM service_items si WHERE " + conditions + " "
        "ORDER BY si.code LIMIT :limit OFFSET :offset"
    )
    rows = session.execute(text(sql), params).all()
    if not rows:
        return 0, []
    items = {
        i.id: i
        for i in session.scalars(
            select(ServiceItem).where(ServiceItem.id.in_([r.id for r in rows]))
        )
    }
    return int(rows[0].total), [ItemView(items[r.id], int(r.offered)) for r in rows]


def catalogue_summary(*, session: Session) -> dict[str, Any]:
    """Counts of the catalogue: items, bookable, fully online, per group."""
    rows = session.execute(
        text(
            "SELECT group_code, group_name, count(*) AS n, count(*) FILTER (WHERE bookable) AS b, "
            "count(*) FILTER (WHERE online) AS o FROM service_items "
            "GROUP BY group_code, group_name ORDER BY group_code"
        )
    ).all()
    return {
        "items": sum(r.n for r in rows),
        "bookable": sum(r.b for r in rows),
        "online": sum(r.o for r in rows),
        "groups": [
            {
                "code": r.group_code,
                "name": r.group_name,
                "items": r.n,
                "bookable": r.b,
                "online": r.o,
            }
            for r in rows
        ],
    }
