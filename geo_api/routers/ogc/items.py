"""OGC API – Features: items (pages, downloads, hits) and single items."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from geo_api.auth import EVERYONE, PrincipalDep, allow
from geo_api.deps import NowDep, ReadSessionDep, SessionDep
from geo_api.middleware.http_cache import body_etag, conditional
from geo_api.routers.ogc.core import DOWNLOADS
from geo_api.routers.ogc.route import GEOJSON, JSON, OGCRoute, base_url, link, url_with, wants
from geo_api.routers.ogc.state import COUNTS
from geo_api.schemas import media
from geo_api.schemas.case_shapes import viewer_of
from geo_api.schemas.media import ok
from layers.ogc.file_export import FORMATS
from layers.ogc.registry import needs_primary
from layers.ogc.service import ItemsResult, export_items, read_item, read_items

router = APIRouter(prefix="/ogc", tags=["ogc"], route_class=OGCRoute)

ITEM_FORMATS = {"json": GEOJSON, "geojson": GEOJSON}
ITEMS_FORMATS = {**ITEM_FORMATS, **{f: m for f, (m, _) in DOWNLOADS.items()}}


def etag(version: int) -> str:
    """The ETag of an editable feature: its edit version (strong, for If-Match)."""
    return f'"v{version}"'


def _links(request: Request, result: ItemsResult) -> list[dict[str, str]]:
    path = f"/collections/{result.collection.id}/items"
    links = [
        link(url_with(request, path, f=None), "self", GEOJSON, "this page"),
        *(
            link(
                url_with(request, path, f=f, cursor=None, offset=None, limit=None),
                "alternate",
                media,
                title,
            )
            for f, (media, title) in DOWNLOADS.items()
        ),
        link(f"{base_url(request)}/collections/{result.collection.id}", "collection", JSON),
    ]
    return links + _paging_links(request, path, result)


def _paging_links(request: Request, path: str, result: ItemsResult) -> list[dict[str, str]]:
    page = result.page
    if page is None:
        return []
    moves = [
        ("next", "cursor", page.next_cursor.token() if page.next_cursor else None),
        ("prev", "cursor", page.prev_cursor.token() if page.prev_cursor else None),
        ("next", "offset", None if page.next_offset is None else str(page.next_offset)),
        ("prev", "offset", None if page.prev_offset is None else str(page.prev_offset)),
    ]
    return [
        link(url_with(request, path, **{param: value}), rel, GEOJSON, f"{rel} page")
        for rel, param, value in moves
        if value is not None
    ]


def feature_collection(request: Request, result: ItemsResult, now: datetime) -> tuple[bytes, str]:
    """The FeatureCollection document around the features PostGIS already rendered, and its ETag.

    The ETag covers everything but `timeStamp` (the moment of the answer, not of the
    data), so an unchanged page revalidates with a 304 and any change to a feature,
    a count or a link gives a new tag.
    """
    page = result.page
    head: dict[str, object] = {"type": "FeatureCollection"}
    if result.matched is not None:
        head["numberMatched"] = result.matched
    head["numberReturned"] = page.returned if page else 0
    links = _links(request, result)
    features = page.features if page else ""
    tag = body_etag(json.dumps([head, links], ensure_ascii=False).encode(), features.encode())
    head["timeStamp"] = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    head["links"] = links
    opening = json.dumps(head, ensure_ascii=False)[:-1]
    return f'{opening},"features":[{features}]}}'.encode(), tag


@router.get(
    "/collections/{collection_id}/items",
    response_class=Response,
    responses=ok({**media.GEOJSON, **media.DOWNLOADS}, "Features"),
    dependencies=[allow(*EVERYONE)],
    summary="Features of a collection (GeoJSON pages or file downloads)",
)
def items(
    collection_id: str,
    request: Request,
    session: SessionDep,
    read: ReadSessionDep,
    principal: PrincipalDep,
    now: NowDep,
) -> Response:
    """A page of features; `f=gpkg|fgb|csv|parquet` downloads every matching feature.

    Cases are the caller's cases (a grid worker: their cells and assignments); a page
    with reporter data (dispatchers, admins) is an audited read.
    """
    params = dict(request.query_params)
    fmt = wants(request, params.get("f"), ITEMS_FORMATS, "json")
    if not needs_primary(collection_id, principal.role):
        session = read  # nothing audited: the replica may answer
    if fmt in DOWNLOADS:
        return _download(collection_id, request, session, principal, fmt, now)
    result = read_items(
        session=session,
        collection_id=collection_id,
        params=params,
        role=principal.role,
        counts=COUNTS,
        viewer=viewer_of(principal),
        now=now,
    )
    session.commit()  # the audit entry of a read of reporter data
    body, tag = feature_collection(request, result, now)
    return conditional(
        request,
        body,
        media_type=GEOJSON,
        etag=tag,
        private=result.collection.staff_only or principal.authenticated,
        headers={"Content-Crs": f"<{result.query.crs.uri}>"},
    )


def _download(
    collection_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    fmt: str,
    now: datetime,
) -> Response:
    params = {k: v for k, v in request.query_params.items() if k != "f"}
    download = export_items(
        session=session,
        collection_id=collection_id,
        params=params,
        role=principal.role,
        fmt=FORMATS[fmt],
        viewer=viewer_of(principal),
        now=now,
    )
    session.commit()  # the audit entry of a download with reporter data
    return Response(
        download.content,
        media_type=FORMATS[fmt].media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{download.filename}"',
            "Content-Crs": f"<{download.crs_uri}>",
        },
    )


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    response_class=Response,
    responses=ok(media.GEOJSON, "The feature"),
    dependencies=[allow(*EVERYONE)],
    summary="One feature",
)
def item(
    collection_id: str,
    feature_id: str,
    request: Request,
    session: SessionDep,
    read: ReadSessionDep,
    principal: PrincipalDep,
    now: NowDep,
) -> Response:
    """One feature with its links; 304 when If-None-Match names its current ETag.

    Editable collections' ETag is the edit version (what If-Match needs), others a
    digest of the feature.  A case outside the caller's cells is 404, as on
    `/incidents/{id}`.
    """
    params = dict(request.query_params)
    wants(request, params.get("f"), ITEM_FORMATS, "json")
    if not needs_primary(collection_id, principal.role, one_feature=True):
        session = read
    collection, q, feature, version = read_item(
        session=session,
        collection_id=collection_id,
        item_id=feature_id,
        params=params,
        role=principal.role,
        viewer=viewer_of(principal),
        now=now,
    )
    session.commit()  # the audit entry of a read of reporter data
    base = f"{base_url(request)}/collections/{collection.id}"
    links = [
        link(
            url_with(request, f"/collections/{collection.id}/items/{feature_id}"), "self", GEOJSON
        ),
        link(base, "collection", JSON),
    ]
    body = f'{feature[:-1]},"links":{json.dumps(links)}}}'.encode()
    return conditional(
        request,
        body,
        media_type=GEOJSON,
        etag=etag(version) if version is not None else None,
        private=collection.staff_only or principal.authenticated,
        headers={"Content-Crs": f"<{q.crs.uri}>"},
    )
