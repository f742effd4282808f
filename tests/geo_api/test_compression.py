"""Negotiated zstd or gzip on the wire: JSON, GeoJSON, HTML, XML and vector tiles, with honest ETags."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import mapbox_vector_tile
import pytest
import zstandard
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

from geo_api.middleware.compression import Compression, accepts_gzip, accepts_zstd
from layers.ogc.tiles import lonlat_to_tile

GZIP = {"Accept-Encoding": "gzip"}
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}  # what Chromium sends
IDENTITY = {"Accept-Encoding": "identity"}


def _raw(client: TestClient, url: str, headers: dict[str, str]) -> tuple[int, dict, bytes]:
    """Status, headers and the bytes as they came over the wire (not decoded)."""
    with client.stream("GET", url, headers=headers) as resp:
        wire = b"".join(resp.iter_raw())
        return resp.status_code, dict(resp.headers), wire


def _tile_url(engine: Engine) -> str:
    with engine.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p "
                "FROM grid_cells WHERE level = 3 ORDER BY id LIMIT 1) s"
            )
        ).one()
    x, y = lonlat_to_tile(lon, lat, 14)
    return f"/ogc/collections/grid_cells_l3/tiles/WebMercatorQuad/14/{y}/{x}"


@pytest.mark.parametrize(
    ("kind", "url", "media"),
    [
        ("json", "/ogc/collections", "application/json"),
        ("geojson", "/ogc/collections/grid_cells_l3/items?limit=50", "application/geo+json"),
        ("html", "/maps/residents", "text/html"),
        ("xml", "/open311/v2/services.xml", "text/xml"),
        ("mvt", None, "application/vnd.mapbox-vector-tile"),
    ],
)
def test_reads_are_gzipped_when_asked(
    client: TestClient, engine: Engine, kind: str, url: str | None, media: str
) -> None:
    url = url or _tile_url(engine)
    status, headers, wire = _raw(client, url, GZIP)
    assert status == 200 and headers["content-type"].startswith(media)
    assert headers["content-encoding"] == "gzip", kind
    assert "accept-encoding" in headers["vary"].lower()
    assert int(headers["content-length"]) == len(wire)
    body = gzip.decompress(wire)
    worth = 0.7 if kind == "mvt" else 0.5  # binary tiles shrink less than text
    assert len(wire) < len(body) * worth, (len(wire), len(body))
    plain_status, plain_headers, plain = _raw(client, url, IDENTITY)
    assert plain_status == 200 and "content-encoding" not in plain_headers
    assert "accept-encoding" in plain_headers["vary"].lower()
    if kind == "mvt":
        assert mapbox_vector_tile.decode(body) == mapbox_vector_tile.decode(plain)
    elif kind in ("geojson", "html"):  # items carry timeStamp, pages fresh element ids
        assert len(body) == len(plain)
    else:
        assert body == plain


def test_a_browser_gets_zstd_with_the_same_bytes_and_a_weak_tag(client: TestClient) -> None:
    url = "/ogc/collections/grid_cells_l2/items?limit=200"
    status, headers, wire = _raw(client, url, BROWSER)
    assert status == 200 and headers["content-encoding"] == "zstd"
    assert "accept-encoding" in headers["vary"].lower()
    assert int(headers["content-length"]) == len(wire)
    body = zstandard.ZstdDecompressor().decompress(wire)
    _, plain_headers, plain = _raw(client, url, IDENTITY)
    assert len(body) == len(plain) and len(wire) < len(plain) * 0.5  # items carry timeStamp
    assert headers["etag"] == f"W/{plain_headers['etag']}"
    status, _, wire = _raw(client, url, {**BROWSER, "If-None-Match": headers["etag"]})
    assert status == 304 and wire == b""


def test_a_streamed_body_is_one_zstd_stream_flushed_chunk_by_chunk() -> None:
    chunks = [f"第{k}块 chunk ".encode() * 300 for k in range(5)]

    async def parts() -> AsyncIterator[bytes]:
        for c in chunks:
            yield c

    def stream(_request: object) -> StreamingResponse:
        return StreamingResponse(parts(), media_type="text/csv")

    app = Starlette(routes=[Route("/s", stream)])
    reader = zstandard.ZstdDecompressor().decompressobj()
    seen: list[bytes] = []
    with TestClient(Compression(app)) as local, local.stream("GET", "/s", headers=BROWSER) as resp:
        assert resp.status_code == 200 and resp.headers["content-encoding"] == "zstd"
        for piece in resp.iter_raw():
            seen.append(reader.decompress(piece))
    assert b"".join(seen) == b"".join(chunks)
    assert seen[0] == chunks[0]  # the first chunk decodes on its own: flushed as it was sent


def test_refused_gzip_is_not_sent(client: TestClient) -> None:
    for refusal in ("gzip;q=0", "br", "identity", "*;q=0", ""):
        _, headers, _ = _raw(client, "/ogc/collections", {"Accept-Encoding": refusal})
        assert "content-encoding" not in headers, refusal
    _, headers, _ = _raw(client, "/ogc/collections", {"Accept-Encoding": "deflate, *;q=0.5"})
    assert headers["content-encoding"] == "gzip"


def test_small_responses_and_writes_go_out_plain(client: TestClient) -> None:
    _, headers, wire = _raw(client, "/health", GZIP)
    assert "content-encoding" not in headers and len(wire) < 1024
    case = {
        "location": {"lon": 104.1, "lat": 30.68},
        "category": "0102",
        "channel": "resident_app",
        "description": "小区门口垃圾堆积" * 100,
    }
    resp = client.post("/incidents", json=case, headers=GZIP)
    assert resp.status_code == 201 and len(resp.content) > 1024
    assert "content-encoding" not in resp.headers  # a write's answer carries its case token


def test_compressed_etag_is_weak_and_still_revalidates(client: TestClient) -> None:
    url = "/ogc/collections/grid_cells_l2/items?limit=20"
    _, plain, _ = _raw(client, url, IDENTITY)
    _, zipped, _ = _raw(client, url, GZIP)
    assert plain["etag"].startswith('"')
    assert zipped["etag"] == f"W/{plain['etag']}"  # another representation, same data
    for held, encoding in ((zipped["etag"], GZIP), (plain["etag"], IDENTITY)):
        status, again, wire = _raw(client, url, {**encoding, "If-None-Match": held})
        assert status == 304 and wire == b""
        assert again["etag"] == held  # the 304 confirms the tag the client holds


def test_accept_encoding_negotiation() -> None:
    assert accepts_gzip("gzip, deflate, br")
    assert accepts_gzip("GZIP;q=0.2")
    assert accepts_gzip("*")
    assert not accepts_gzip("gzip;q=0, *")
    assert not accepts_gzip("br;q=1, gzip;q=0.000")
    assert not accepts_gzip("identity")
    assert not accepts_gzip("gzip;q=nonsense")
    assert accepts_zstd("gzip, deflate, br, zstd")
    assert accepts_zstd("ZSTD;q=0.5, gzip;q=0.5")
    assert not accepts_zstd("zstd;q=0.4, gzip;q=0.5")  # the client prefers gzip
    assert not accepts_zstd("zstd;q=0, gzip")
    assert not accepts_zstd("*")  # only a client that names zstd gets it
    assert not accepts_zstd("gzip, br")


def test_the_weak_tag_of_a_gzipped_feature_still_edits_it(
    client: TestClient, engine: Engine, test_db
) -> None:
    with engine.begin() as conn:
        row_id = conn.execute(
            text("SELECT id FROM courtyards ORDER BY ST_NPoints(geom) DESC, id LIMIT 1")
        ).scalar()
        # The demo's courtyards are a few vertices each, under the 1 KiB below which
        # nothing is compressed: give this one vertices every 2 m (its version stays 1).
        conn.execute(
            text(
                "UPDATE courtyards SET geom = ST_Multi(ST_Segmentize(geom::geography, 2)::geometry)"
                " WHERE id = :i"
            ),
            {"i": row_id},
        )
    url = f"/ogc/collections/courtyards/items/{row_id}"
    _, headers, _ = _raw(client, url, GZIP)
    assert headers["content-encoding"] == "gzip" and headers["etag"] == 'W/"v1"'
    patch = client.patch(
        url,
        content='{"properties": {"name": "压缩院落"}}',
        headers={
            "Content-Type": "application/merge-patch+json",
            "If-Match": headers["etag"],
            **test_db.headers("planner"),
        },
    )
    assert patch.status_code == 204, patch.text
    assert patch.headers["etag"] == '"v2"'
