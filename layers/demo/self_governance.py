"""The demo's courtyard self-governance: groups, members, a week's rota, organisations, offers.

Generated after the district is written, from what is in the tables (courtyards,
their buildings, the level-3 workers whose cells hold them), with its own seeded
stream, so it is deterministic and leaves the rest of the demo unchanged.  A few
rows per courtyard: cheap at any scale.  Most 三无院落 have no group and nobody on
duty — the gap the self-governance map shows.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from layers.demo.names import person_names, phone_numbers
from layers.store.copy import copy_rows, reset_sequence
from layers.tables.clocks import LOCAL_TZ
from layers.tables.grid_cells import live

TABLES = (
    "courtyard_groups",
    "social_organisations",
    "courtyard_members",
    "courtyard_shifts",
    "enterprise_offers",
)
"""The tables written here, parents first (their id sequences are moved past the ids)."""
FIELDS = ("养老服务", "助残", "青少年", "文体", "矛盾调解", "环保", "社区教育", "邻里互助")
ORG_SUFFIX = ("社会工作服务中心", "志愿者协会", "邻里互助会", "公益发展中心", "文体协会")
ENTERPRISES = (
    "龙潭总部经济城",
    "成华物流园",
    "东郊记忆文创",
    "龙潭工业园",
    "万达广场",
    "二仙桥物流",
)
OFFERS = (
    ("job", "招聘保洁员、保安（就近就业）"),
    ("job", "招聘快递分拣员（日结）"),
    ("charity", "爱心义诊进院落"),
    ("charity", "困难家庭助学捐赠"),
    ("service", "家电义务维修"),
    ("service", "老年人助餐点"),
)
SHIFT_HOURS = ((8, 12), (14, 18), (18, 21))
"""The liaison post's daily shifts (local time): morning, afternoon, evening."""

_YARDS_SQL = """
    SELECT c.id, c.community_id, c.is_three_nos, c.has_property_management,
           c.has_owners_committee, m.street_id
    FROM courtyards c JOIN communities m ON m.id = c.community_id ORDER BY c.id"""
_LEADERS_SQL = f"""
    WITH b AS (SELECT id, courtyard_id, coalesce(floors, 1) AS floors,
                      ST_PointOnSurface(geom) AS p
               FROM buildings WHERE courtyard_id IS NOT NULL),
    cell AS (SELECT b.id, c.code FROM b CROSS JOIN LATERAL (
               SELECT g.code FROM grid_cells g WHERE ST_Contains(g.geom, b.p)
                 AND g.level = 3 AND {live("g")} LIMIT 1) c),
    w AS (SELECT DISTINCT ON (cell_code) cell_code, id, name, phone FROM workers
          WHERE level = 3 ORDER BY cell_code, id)
    SELECT b.id, b.courtyard_id, b.floors, w.id AS worker_id, w.name, w.phone
    FROM b LEFT JOIN cell ON cell.id = b.id LEFT JOIN w ON w.cell_code = cell.code
    ORDER BY b.courtyard_id, b.id"""  # noqa: S608


class _People:
    """Names and phones drawn from the stream as members are made."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.names = person_names(n, rng)
        self.phones = phone_numbers(n, rng)
        self.i = 0

    def next(self) -> tuple[str, str]:
        """A fresh (name, phone)."""
        k = self.i % len(self.names)
        self.i += 1
        return self.names[k], self.phones[k]


def _groups_and_members(
    conn: Connection, rng: np.random.Generator, people: _People
) -> tuple[list[tuple], list[list[Any]], dict[int, list[int]]]:
    """Group rows, member rows and each courtyard's members on the rota."""
    groups: list[tuple] = []
    members: list[list[Any]] = []
    rota: dict[int, list[int]] = {}
    buildings: dict[int, list[Any]] = {}
    for b in conn.execute(text(_LEADERS_SQL)):
        buildings.setdefault(b.courtyard_id, []).append(b)
    for y in conn.execute(text(_YARDS_SQL)):
        kinds = []
        if y.has_property_management:
            kinds.append(("property_management", "物业服务中心"))
        if y.has_owners_committee:
            kinds.append(("owners_committee", "业主委员会"))
        if rng.random() < (0.3 if y.is_three_nos else 0.85):
            kinds.append(("self_governance", "院落自治小组"))
        on_rota: list[int] = []
        for kind, label in kinds:
            gid = len(groups) + 1
            name, phone = people.next()
            groups.append((gid, y.id, kind, label, name, phone))
            if kind != "self_governance":
                continue
            for k in range(1 + int(rng.integers(1, 4))):
                name, phone = people.next() if k else (name, phone)
                role = "group_leader" if k == 0 else "group_member"
                members.append([len(members) + 1, y.id, gid, role, name, phone, None, None, None])
                on_rota.append(len(members))
        leaders: list[int] = []
        for b in buildings.get(y.id, [])[:4]:
            if b.worker_id is not None:
                row = [len(members) + 1, y.id, None, "building_leader", b.name, b.phone]
                members.append([*row, b.id, None, b.worker_id])
                leaders.append(len(members))
            if b.floors >= 6:
                name, phone = people.next()
                row = [len(members) + 1, y.id, None, "unit_leader", name, phone, b.id, 1, None]
                members.append(row)
        if on_rota:
            for _ in range(int(rng.integers(0, 3))):
                name, phone = people.next()
                row = [len(members) + 1, y.id, None, "volunteer", name, phone, None, None, None]
                members.append(row)
                on_rota.append(len(members))
            rota[y.id] = on_rota + leaders
    return groups, members, rota


def _organisations(
    conn: Connection, rng: np.random.Generator, people: _People, members: list[list[Any]]
) -> int:
    """Social organisations, the communities and courtyards they serve, their heads."""
    yards = conn.execute(text("SELECT id, community_id FROM courtyards ORDER BY id")).all()
    residents = conn.execute(text("SELECT coalesce(sum(population), 0) FROM buildings")).scalar()
    n = max(8, round(int(residents or 0) * 4 / 10_000))
    orgs, homes, comms, served = [], [], set(), set()
    for i in range(n):
        home = yards[int(rng.integers(len(yards)))]
        homes.append(home.id)
        name, phone = people.next()
        fields = sorted(
            str(f) for f in rng.choice(FIELDS, size=int(rng.integers(1, 3)), replace=False)
        )
        title = f"成华区{name[0]}氏{ORG_SUFFIX[i % len(ORG_SUFFIX)]}{i + 1}"
        orgs.append((i + 1, f"SO{i + 1:05d}", title, "{" + ",".join(fields) + "}", name, phone))
        comms.add((i + 1, home.community_id))
        same = [y for y in yards if y.community_id == home.community_id]
        for k in rng.choice(len(same), size=min(len(same), int(rng.integers(1, 4))), replace=False):
            served.add((i + 1, same[int(k)].id))
    written = copy_rows(
        conn,
        "social_organisations",
        ("id", "code", "name", "fields", "contact_name", "contact_phone"),
        orgs,
    )
    # Every third has a service area: 800 m around its home courtyard (it may reach neighbours).
    conn.execute(
        text(
            "UPDATE social_organisations o SET service_area = ST_Multi(ST_Buffer("
            " ST_PointOnSurface(c.geom)::geography, 800)::geometry)"
            " FROM unnest(CAST(:orgs AS int[]), CAST(:yards AS int[])) AS h(org, yard)"
            " JOIN courtyards c ON c.id = h.yard WHERE o.id = h.org"
        ),
        {"orgs": list(range(1, n + 1, 3)), "yards": homes[::3]},
    )
    copy_rows(
        conn, "social_organisation_communities", ("organisation_id", "community_id"), sorted(comms)
    )
    copy_rows(
        conn, "social_organisation_courtyards", ("organisation_id", "courtyard_id"), sorted(served)
    )
    for org, yard in sorted(served):
        name, phone = orgs[org - 1][4], orgs[org - 1][5]
        members.append(
            [len(members) + 1, yard, None, "social_org_head", name, phone, None, None, None, org]
        )
    return written


def _shifts(
    rng: np.random.Generator, rota: dict[int, list[int]], three_nos: set[int], now: datetime
) -> list[tuple]:
    """This week's rota (Monday to Sunday, local time); shifts already over were worked."""
    monday = now.astimezone(LOCAL_TZ).date() - timedelta(days=now.astimezone(LOCAL_TZ).weekday())
    rows: list[tuple] = []
    for yard, people in sorted(rota.items()):
        fill = 0.45 if yard in three_nos else 0.8
        for day in range(7):
            for slot, (a, b) in enumerate(SHIFT_HOURS):
                if rng.random() >= fill:
                    continue
                d = monday + timedelta(days=day)
                start = datetime.combine(d, time(a), LOCAL_TZ).astimezone(UTC)
                end = datetime.combine(d, time(b), LOCAL_TZ).astimezone(UTC)
                member = people[(day * len(SHIFT_HOURS) + slot) % len(people)]
                worked = end <= now
                check_in = start + timedelta(minutes=int(rng.integers(0, 10))) if worked else None
                rows.append(
                    (
                        len(rows) + 1,
                        yard,
                        member,
                        f"[{start.isoformat()},{end.isoformat()})",
                        check_in,
                        end if worked else None,
                        "wangge demo",
                        now,
                    )
                )
    return rows


def _offers(rng: np.random.Generator, yards: list[int], now: datetime) -> list[tuple]:
    """Enterprise offers at about one courtyard in four, open for the next two months."""
    today = now.astimezone(LOCAL_TZ).date()
    rows: list[tuple] = []
    for yard in yards:
        if rng.random() >= 0.25:
            continue
        kind, title = OFFERS[int(rng.integers(len(OFFERS)))]
        firm = ENTERPRISES[int(rng.integers(len(ENTERPRISES)))]
        phone = f"028-8{int(rng.integers(0, 10**6)):06d}"
        until = None if kind == "service" else today + timedelta(days=60)
        rows.append(
            (
                len(rows) + 1,
                yard,
                firm,
                kind,
                title,
                f"{firm}·龙潭家空间",
                phone,
                today - timedelta(days=30),
                until,
            )
        )
    return rows


MEMBER_COLUMNS = (
    "id",
    "courtyard_id",
    "group_id",
    "role",
    "name",
    "phone",
    "building_id",
    "unit_no",
    "worker_id",
    "organisation_id",
)
SHIFT_COLUMNS = (
    "id",
    "courtyard_id",
    "member_id",
    "during",
    "checked_in_at",
    "checked_out_at",
    "created_by",
    "created_at",
)
OFFER_COLUMNS = (
    "id",
    "courtyard_id",
    "enterprise_name",
    "kind",
    "title",
    "description",
    "enterprise_phone",
    "available_from",
    "available_until",
)


def write_self_governance(conn: Connection, *, seed: int, now: datetime) -> dict[str, int]:
    """Write every self-governance table of the demo; the row count per table."""
    rng = np.random.default_rng([seed, 14])
    people = _People(rng, 4096)
    groups, members, rota = _groups_and_members(conn, rng, people)
    for m in members:
        m.append(None)  # organisation_id: only social organisations' heads have one
    written = {
        "courtyard_groups": copy_rows(
            conn,
            "courtyard_groups",
            ("id", "courtyard_id", "kind", "name", "contact_name", "contact_phone"),
            groups,
        )
    }
    written["social_organisations"] = _organisations(conn, rng, people, members)
    for m in members:
        if m[3] == "social_org_head" and m[1] in rota:
            rota[m[1]].append(m[0])
    written["courtyard_members"] = copy_rows(conn, "courtyard_members", MEMBER_COLUMNS, members)
    three_nos = {r.id for r in conn.execute(text("SELECT id FROM courtyards WHERE is_three_nos"))}
    shifts = _shifts(rng, rota, three_nos, now)
    written["courtyard_shifts"] = copy_rows(conn, "courtyard_shifts", SHIFT_COLUMNS, shifts)
    yards = [r.id for r in conn.execute(text("SELECT id FROM courtyards ORDER BY id"))]
    offers = _offers(rng, yards, now)
    written["enterprise_offers"] = copy_rows(conn, "enterprise_offers", OFFER_COLUMNS, offers)
    for table in TABLES:
        reset_sequence(conn, table)
    return written
