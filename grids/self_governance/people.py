"""Who serves a courtyard and who runs the social organisations, as a role may see them.

Members' and contacts' names and phones are personal data: roles that read
personal data (`SEES_PERSONAL_DATA`) get them in clear and each such answer is
audited (`personal_data.read`); other staff get the masks cases use (`张*`,
`138****5678`); residents reach none of these answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from grids.cases.access import Actor
from layers.core.errors import NotFoundError
from layers.core.roles import SEES_PERSONAL_DATA
from layers.tables.audit import record
from layers.tables.courtyard_groups import CourtyardGroup
from layers.tables.courtyard_members import CourtyardMember
from layers.tables.courtyards import Courtyard
from layers.tables.personal_data import PERSONAL_READ, id_ranges, mask_name, mask_phone


def in_clear(actor: Actor) -> bool:
    """True when the actor reads names and phones in clear."""
    return actor.role in SEES_PERSONAL_DATA


def contact(name: str | None, phone: str | None, clear: bool) -> dict[str, str | None]:
    """A person's name and phone, in clear or masked."""
    if clear:
        return {"name": name, "phone": phone}
    return {"name": mask_name(name), "phone": mask_phone(phone)}


def audit_clear_read(
    session: Session, actor: Actor, entity: str, ids: list[int], face: str, now: datetime
) -> None:
    """One audit entry for the clear names and phones of `ids` of `entity` just read."""
    if not ids or not in_clear(actor):
        return
    record(
        session=session,
        actor=actor.name,
        role=actor.role,
        action=PERSONAL_READ,
        entity=entity,
        data={"face": face, "fields": ["name", "phone"], "id_ranges": id_ranges(ids)},
        at=now,
    )


def courtyard_people(
    *, session: Session, courtyard_id: int, actor: Actor, now: datetime
) -> dict[str, Any]:
    """A courtyard's flags, governing groups and members (contacts as the actor may see)."""
    yard = session.get(Courtyard, courtyard_id)
    if yard is None:
        raise NotFoundError("no such courtyard", code="courtyard_not_found")
    clear = in_clear(actor)
    groups = session.scalars(
        select(CourtyardGroup)
        .where(CourtyardGroup.courtyard_id == courtyard_id)
        .order_by(CourtyardGroup.id)
    ).all()
    members = session.scalars(
        select(CourtyardMember)
        .where(CourtyardMember.courtyard_id == courtyard_id)
        .order_by(CourtyardMember.id)
    ).all()
    audit_clear_read(session, actor, "courtyard_groups", [g.id for g in groups], "courtyard", now)
    audit_clear_read(session, actor, "courtyard_members", [m.id for m in members], "courtyard", now)
    return {
        "id": yard.id,
        "code": yard.code,
        "name": yard.name,
        "is_three_nos": bool(yard.is_three_nos),
        "has_property_management": yard.has_property_management,
        "has_owners_committee": yard.has_owners_committee,
        "groups": [
            {
                "id": g.id,
                "kind": g.kind,
                "name": g.name,
                "contact": contact(g.contact_name, g.contact_phone, clear),
            }
            for g in groups
        ],
        "members": [
            {
                "id": m.id,
                "role": m.role,
                "group_id": m.group_id,
                "building_id": m.building_id,
                "unit_no": m.unit_no,
                "worker_id": m.worker_id,
                "organisation_id": m.organisation_id,
                **contact(m.name, m.phone, clear),
            }
            for m in members
        ],
    }


_ORGS_SQL = text(
    """
    SELECT o.id, o.code, o.name, o.fields, o.contact_name, o.contact_phone, o.registered_on,
           o.service_area IS NOT NULL AS has_service_area,
           coalesce((SELECT array_agg(m.code ORDER BY m.code) FROM social_organisation_communities l
                     JOIN communities m ON m.id = l.community_id
                     WHERE l.organisation_id = o.id), '{}') AS communities,
           coalesce((SELECT array_agg(l.courtyard_id ORDER BY l.courtyard_id)
                     FROM social_organisation_courtyards l WHERE l.organisation_id = o.id), '{}')
             AS courtyard_ids
    FROM social_organisations o
    WHERE CAST(:community AS text) IS NULL OR EXISTS (
      SELECT 1 FROM social_organisation_communities l JOIN communities m ON m.id = l.community_id
      WHERE l.organisation_id = o.id AND m.code = :community)
    ORDER BY o.code
    """
)


def organisations(
    *, session: Session, community: str | None, actor: Actor, now: datetime
) -> list[dict[str, Any]]:
    """Registered social organisations (of one community), with what and whom they serve."""
    rows = session.execute(_ORGS_SQL, {"community": community}).mappings().all()
    clear = in_clear(actor)
    audit_clear_read(session, actor, "social_organisations", [r["id"] for r in rows], "list", now)
    out = []
    for r in rows:
        item = {k: v for k, v in r.items() if k not in ("contact_name", "contact_phone")}
        item["contact"] = contact(r["contact_name"], r["contact_phone"], clear)
        out.append(item)
    return out
