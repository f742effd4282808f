"""Shared helpers for the planning tests: drafts over HTTP and fingerprints of the grid."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text


def new_draft(client: TestClient, headers: dict[str, str], **scope: str) -> int:
    """POST a draft and return its id."""
    kind = next(k for k in ("community", "street") if k in scope) if scope else "district"
    resp = client.post("/planning/revisions", json={"scope": kind, **scope}, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def draft_cells(client: TestClient, headers: dict[str, str], rid: int) -> dict[str, Any]:
    """GET the draft's FeatureCollection."""
    resp = client.get(f"/planning/revisions/{rid}/cells", headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def put_cells(client, headers, rid: int, fc: dict[str, Any]):
    """PUT a FeatureCollection as the draft's cells."""
    return client.put(f"/planning/revisions/{rid}/cells", json=fc, headers=headers)


def feature(fc: dict[str, Any], code: str) -> dict[str, Any]:
    """The feature with `code`."""
    return next(f for f in fc["features"] if f["properties"]["code"] == code)


def edited(fc: dict[str, Any]) -> dict[str, Any]:
    """A deep copy to edit."""
    return copy.deepcopy(fc)


def grid_fingerprint(engine: Engine) -> str:
    """md5 over every grid cell row and every incident's routing: equal = byte for byte."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT md5(string_agg(concat_ws('|', id, code, level, parent_id, revision_id, "
                "valid_from, valid_to, households, population, encode(ST_AsEWKB(geom), 'hex')), "
                "',' ORDER BY id)) || md5((SELECT string_agg(concat_ws('|', id, l1_cell_id, "
                "l2_cell_id, l3_cell_id, assignee_worker_id, revision_id, version), ',' "
                "ORDER BY id) FROM incidents)) FROM grid_cells"
            )
        ).scalar()
