"""Open311 GeoReport v2: a stock client library (georeport, from PyPI) in JSON and XML.

georeport reads discovery-less endpoints (services, definitions, requests, one
request); POST requests and tokens, which it does not implement, are checked
with plain HTTP against the specification's shapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree import ElementTree as ET

import pytest
import requests
from georeport import GeoReport
from sqlalchemy import text

from geo_api.app import create_app
from geo_api.settings import Settings
from layers.store.settings import DatabaseSettings
from tests.conftest import TEST_CLOCK
from tests.live_server import serve_in_thread


@pytest.fixture(scope="module")
def base(test_db) -> Iterator[str]:
    """The app behind a real HTTP server (the client library speaks `requests`)."""
    app = create_app(Settings(db=DatabaseSettings(database_url=test_db.url)), clock=TEST_CLOCK)
    with serve_in_thread(app, log_level="warning") as url:
        yield f"{url}/open311/v2"


@pytest.fixture(scope="module")
def posted(base) -> dict:
    r = requests.post(
        f"{base}/requests.json",
        data={
            "service_code": "0404",
            "lat": "30.68",
            "long": "104.1",
            "description": "井盖缺失 <危险> & 请快来",
            "first_name": "三",
            "last_name": "张",
            "phone": "13800002222",
            "email": "z@example.org",
        },
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return r.json()[0]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_stock_client_lists_and_defines_services(base, fmt):
    client = GeoReport(base, output_format=fmt)
    services = client.get_service_list()
    assert len(services) == 34
    first = services[0]
    assert first["service_code"] == "0101" and first["service_name"] == "私搭乱建"
    assert str(first["metadata"]).lower() == "false" and first["type"] == "realtime"
    definition = client.get_service_definition("0404")
    assert definition["service_code"] == "0404"


def _area(engine, incident_id: int) -> str:
    """A case's street and community names: what anonymous callers get for an address."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT coalesce(s.name, '') || coalesce(m.name, '') FROM incidents i "
                "LEFT JOIN streets s ON s.id = i.street_id "
                "LEFT JOIN communities m ON m.id = i.community_id WHERE i.id = :id"
            ),
            {"id": incident_id},
        ).scalar()


def _public_case(engine) -> int:
    """The lowest id of a demo case in a public category through a public channel."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT min(i.id) FROM incidents i JOIN categories c ON c.code = i.category_code "
                "JOIN channels ch ON ch.code = i.channel_code WHERE c.public AND ch.public"
            )
        ).scalar()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_stock_client_reads_requests(base, posted, engine, fmt):
    """Anonymous (the stock client sends no key): a public request, generalised."""
    client = GeoReport(base, output_format=fmt)
    one = client.get_service_request(posted["service_request_id"])
    assert one["service_request_id"] == posted["service_request_id"]
    assert one["description"] == "井盖缺失"  # the category's name: the text is withheld
    assert "危险" not in str(one)
    assert one["address"] == _area(engine, int(posted["service_request_id"]))
    assert one["status"] == "open" and one["service_code"] == "0404"
    assert float(one["lat"]) == pytest.approx(30.68, abs=0.0006)  # rounded to 50 m …
    assert float(one["long"]) == pytest.approx(104.1, abs=0.0006)
    assert (float(one["lat"]), float(one["long"])) != (30.68, 104.1)  # … not exact
    assert "张" not in str(one) and "13800002222" not in str(one)  # no reporter data
    recent = client.get_service_requests(service_code="0404", status="open")
    recent = recent if isinstance(recent, list) else [recent]
    assert posted["service_request_id"] in [r["service_request_id"] for r in recent]
    public = str(_public_case(engine))
    several = client.get_service_requests(
        service_request_id=f"{posted['service_request_id']},{public}"
    )
    several = several if isinstance(several, list) else [several]
    assert {r["service_request_id"] for r in several} == {posted["service_request_id"], public}
    closed = client.get_service_requests(
        start_date="2026-10-01T00:00:00+08:00",
        end_date="2026-11-01T00:00:00+08:00",
        status="closed",
    )
    assert closed and all(r["status"] == "closed" for r in closed)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_staff_read_requests_in_full(base, posted, test_db, fmt):
    """A dispatcher's key: the description intact (escaped on the wire), the exact point."""
    r = requests.get(
        f"{base}/requests/{posted['service_request_id']}.{fmt}",
        headers={"Authorization": f"Bearer {test_db.keys['dispatcher']}"},
        timeout=10,
    )
    assert r.status_code == 200
    if fmt == "json":
        one = r.json()[0]
    else:
        assert "&lt;危险&gt; &amp;" in r.content.decode()  # escaped on the wire
        one = {c.tag: c.text for c in ET.fromstring(r.content)[0]}
    assert one["description"] == "井盖缺失 <危险> & 请快来"  # intact here
    assert float(one["lat"]) == pytest.approx(30.68) and float(one["long"]) == pytest.approx(104.1)
    assert "张" not in r.text and "13800002222" not in r.text  # never reporter data


def test_post_answers_an_id_and_a_token_in_xml_too(base, posted, engine):
    with engine.connect() as conn:
        yard = conn.execute(text("SELECT name FROM courtyards ORDER BY id LIMIT 1")).scalar()
    r = requests.post(
        f"{base}/requests.xml",
        data={
            "service_code": "0102",
            "address_string": f"成华区 {yard} 门口",
            "description": "垃圾",
        },
        timeout=10,
    )
    assert r.status_code == 201, r.text
    root = ET.fromstring(r.content)
    assert root.tag == "service_requests" and root[0].tag == "request"
    token = root[0].findtext("token")
    new_id = root[0].findtext("service_request_id")
    assert token and new_id.isdigit()
    t = requests.get(f"{base}/tokens/{token}.json", timeout=10).json()
    assert t == [{"service_request_id": new_id, "token": token}]
    t = ET.fromstring(requests.get(f"{base}/tokens/{posted['token']}.xml", timeout=10).content)
    assert t[0].findtext("service_request_id") == posted["service_request_id"]


def test_discovery(base):
    doc = requests.get(f"{base}/discovery.json", timeout=10).json()
    assert doc["endpoints"][0]["specification"].endswith("GeoReport_v2")
    assert "application/json" in doc["endpoints"][0]["formats"]
    xml = ET.fromstring(requests.get(f"{base}/discovery.xml", timeout=10).content)
    assert xml.tag == "discovery" and xml.find("endpoints/endpoint/formats/format") is not None


@pytest.mark.parametrize(
    ("method", "path", "data", "status"),
    [
        ("get", "/services/9999", None, 404),
        ("get", "/requests/999999999", None, 404),
        ("get", "/requests/abc", None, 400),
        ("get", "/tokens/nope", None, 404),
        ("post", "/requests", {"lat": "30.68", "long": "104.1"}, 400),
        ("post", "/requests", {"service_code": "9999", "lat": "30.68", "long": "104.1"}, 422),
        ("post", "/requests", {"service_code": "0101", "lat": "31.5", "long": "104.1"}, 422),
        ("post", "/requests", {"service_code": "0101", "address_string": "火星"}, 400),
        ("post", "/requests", {"service_code": "0101", "lat": "x", "long": "104.1"}, 400),
        (
            "post",
            "/requests",
            {"service_code": "0101", "lat": "30.68", "long": "104.1", "api_key": "wrong"},
            403,
        ),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_are_the_specs_error_list(base, method, path, data, status, fmt):
    r = getattr(requests, method)(f"{base}{path}.{fmt}", data=data, timeout=10)
    assert r.status_code == status, r.text
    if fmt == "json":
        assert r.json()[0]["code"] == status and r.json()[0]["description"]
    else:
        root = ET.fromstring(r.content)
        assert root.tag == "errors" and root.findtext("error/code") == str(status)


def test_period_longer_than_90_days_is_refused(base):
    r = requests.get(
        f"{base}/requests.json",
        params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        timeout=10,
    )
    assert r.status_code == 400 and r.json()[0]["code"] == 400


def test_unknown_format_and_jurisdiction(base):
    assert requests.get(f"{base}/services.html", timeout=10).status_code == 400
    r = requests.get(f"{base}/services.json", params={"jurisdiction_id": "x"}, timeout=10)
    assert r.status_code == 404


def test_posted_request_is_a_case_through_the_open311_channel(base, posted, test_db):
    staff = {"Authorization": f"Bearer {test_db.keys['dispatcher']}"}
    root = base.removesuffix("/open311/v2")
    case = requests.get(
        f"{root}/incidents/{posted['service_request_id']}", headers=staff, timeout=10
    )
    assert case.json()["channel"] == "resident_app"
    assert case.json()["reporter"] == {"name": "张三", "phone": "13800002222"}
    mine = requests.get(
        f"{root}/incidents/{posted['service_request_id']}",
        headers={"X-Case-Token": posted["token"]},
        timeout=10,
    )
    assert mine.status_code == 200 and mine.json()["reporter"] is None


def _stored(engine, request_id: str):
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT description, reporter_name FROM incidents WHERE id = :i"),
            {"i": int(request_id)},
        ).one()


@pytest.mark.parametrize(
    ("charset", "encoding"), [("utf-8", "utf-8"), (None, "utf-8"), ("gbk", "gbk")]
)
def test_raw_form_bodies_are_read_in_their_charset(base, engine, charset, encoding):
    """Raw (not percent-encoded) text was read as Latin-1: 审计 stored as å®¡è®¡."""
    raw = "service_code=0404&lat=30.68&long=104.1&description=井盖缺失 审计&first_name=三&last_name=张"
    media = "application/x-www-form-urlencoded" + (f"; charset={charset}" if charset else "")
    r = requests.post(
        f"{base}/requests.json",
        data=raw.encode(encoding),
        headers={"Content-Type": media},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    row = _stored(engine, r.json()[0]["service_request_id"])
    assert (row.description, row.reporter_name) == ("井盖缺失 审计", "张三")


def test_a_form_that_is_not_its_charset_writes_nothing(base, engine):
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM incidents")).scalar()
    r = requests.post(
        f"{base}/requests.json",
        data=b"service_code=0404&lat=30.68&long=104.1&description=" + b"\xe5\xae",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        timeout=10,
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_encoding"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar() == before
