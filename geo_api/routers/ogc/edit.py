"""OGC API – Features Part 4: POST, PUT, PATCH and DELETE on the editable collections.

Planners and admins only.  Responses carry the new ETag; PUT, PATCH and DELETE
need `If-Match` with the ETag the client read (428 without, 412 when stale).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from geo_api.auth import Principal, allow
from geo_api.deps import SessionDep
from geo_api.routers.ogc.items import etag
from geo_api.routers.ogc.route import OGCRoute, base_url
from geo_api.routers.ogc.state import forget
from layers.core.errors import InvalidInputError
from layers.core.roles import EDITORS
from layers.ogc.crs_uris import OutputCrs, parse_crs
from layers.ogc.edit import (
    Actor,
    create_feature,
    delete_feature,
    replace_feature,
    update_feature,
)

router = APIRouter(prefix="/ogc", tags=["ogc"], route_class=OGCRoute)
_ITEM = "/collections/{collection_id}/items/{feature_id}"
_BODY_TYPES = ("application/geo+json", "application/json", "application/merge-patch+json")
T = TypeVar("T")


async def _body(request: Request) -> tuple[Any, OutputCrs]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _BODY_TYPES:
        raise InvalidInputError(
            f"Content-Type must be one of {', '.join(_BODY_TYPES)}", code="unsupported_media_type"
        )
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise InvalidInputError("the body is not JSON", code="invalid_json") from None
    crs = parse_crs(request.headers.get("content-crs", "").strip().strip("<>"), "Content-Crs")
    return body, crs


def _actor(principal: Principal) -> Actor:
    return Actor(principal.name, principal.role)


async def _committed(session: SessionDep, collection_id: str, write: Callable[[], T]) -> T:
    """Run a blocking write and its commit off the event loop, then drop cached counts."""

    def work() -> T:
        result = write()
        session.commit()
        return result

    result = await run_in_threadpool(work)
    forget(collection_id)
    return result


@router.post(
    "/collections/{collection_id}/items",
    response_class=Response,
    summary="Add a feature",
    status_code=201,
)
async def create(
    collection_id: str,
    request: Request,
    session: SessionDep,
    principal: Principal = allow(*EDITORS),
) -> Response:
    """Create a feature; 201 with Location and ETag."""
    feature, crs = await _body(request)
    row_id, version = await _committed(
        session,
        collection_id,
        lambda: create_feature(
            session=session,
            collection_id=collection_id,
            feature=feature,
            crs=crs,
            actor=_actor(principal),
        ),
    )
    location = f"{base_url(request)}/collections/{collection_id}/items/{row_id}"
    return Response(status_code=201, headers={"Location": location, "ETag": etag(version)})


@router.put(_ITEM, response_class=Response, summary="Replace a feature (If-Match required)")
async def replace(
    collection_id: str,
    feature_id: str,
    request: Request,
    session: SessionDep,
    principal: Principal = allow(*EDITORS),
) -> Response:
    """Replace a feature entirely; 204 with the new ETag."""
    feature, crs = await _body(request)
    version = await _committed(
        session,
        collection_id,
        lambda: replace_feature(
            session=session,
            collection_id=collection_id,
            item_id=feature_id,
            feature=feature,
            crs=crs,
            if_match=request.headers.get("if-match"),
            actor=_actor(principal),
        ),
    )
    return Response(status_code=204, headers={"ETag": etag(version)})


@router.patch(
    _ITEM,
    response_class=Response,
    summary="Update a feature with a JSON merge patch (If-Match required)",
)
async def update(
    collection_id: str,
    feature_id: str,
    request: Request,
    session: SessionDep,
    principal: Principal = allow(*EDITORS),
) -> Response:
    """Merge-patch a feature's properties and/or geometry; 204 with the new ETag."""
    patch, crs = await _body(request)
    version = await _committed(
        session,
        collection_id,
        lambda: update_feature(
            session=session,
            collection_id=collection_id,
            item_id=feature_id,
            patch=patch,
            crs=crs,
            if_match=request.headers.get("if-match"),
            actor=_actor(principal),
        ),
    )
    return Response(status_code=204, headers={"ETag": etag(version)})


@router.delete(
    _ITEM, response_class=Response, summary="Delete a feature (If-Match required)", status_code=204
)
def delete(
    collection_id: str,
    feature_id: str,
    request: Request,
    session: SessionDep,
    principal: Principal = allow(*EDITORS),
) -> Response:
    """Delete a feature; 204."""
    delete_feature(
        session=session,
        collection_id=collection_id,
        item_id=feature_id,
        if_match=request.headers.get("if-match"),
        actor=_actor(principal),
    )
    session.commit()
    forget(collection_id)
    return Response(status_code=204)
