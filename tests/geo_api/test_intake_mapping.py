"""The body of POST /incidents becomes the domain's NewCase in one place, field by field."""

from __future__ import annotations

from dataclasses import asdict, fields

from geo_api.schemas.cases import IncidentIn
from grids.cases.intake import NewCase

BODY = {
    "crs": "gcj02",
    "category": "0102",
    "channel": "hotline_96966",
    "description": "暴露垃圾",
    "address": "一环路 1 号",
    "reporter_name": "张三",
    "reporter_phone": "13800138000",
    "external_id": "ext-1",
    "urgency": "urgent",
}


def test_both_point_shapes_map_to_the_same_case() -> None:
    flat = IncidentIn.model_validate({**BODY, "location": {"lon": 104.1, "lat": 30.68}})
    point = {"type": "Point", "coordinates": [104.1, 30.68, 500.0]}
    geojson = IncidentIn.model_validate({**BODY, "location": point})
    assert flat.to_new_case() == geojson.to_new_case()


def test_every_field_of_the_body_reaches_the_case() -> None:
    case = IncidentIn.model_validate(
        {**BODY, "location": {"lon": 104.1, "lat": 30.68}}
    ).to_new_case()
    assert isinstance(case, NewCase)
    assert asdict(case) == {
        "lon": 104.1,
        "lat": 30.68,
        "crs": "gcj02",
        "category_code": "0102",
        "channel_code": "hotline_96966",
        "description": "暴露垃圾",
        "address": "一环路 1 号",
        "reporter_name": "张三",
        "reporter_phone": "13800138000",
        "external_id": "ext-1",
        "urgency": "urgent",
        "located_by": None,  # set only when intake places the case by its address
    }
    assert len(fields(NewCase)) == 12
