"""Every HTML page carries a strict Content-Security-Policy and the usual security headers.

No page allows inline scripts it did not write: the map pages admit their own
inline script by a per-response nonce, the sign-in form and the API
documentation run no inline script at all.  (Chromium checks that the pages
still work under these policies: tests/maps/test_csp_browser.py.)
"""

from __future__ import annotations

import re

import pytest

PAGES = [
    ("/login", "resident"),
    ("/docs", "resident"),
    ("/docs/oauth2-redirect", "resident"),
    ("/redoc", "resident"),
    ("/maps/residents", "resident"),
    ("/maps/residents?lon=104.10&lat=30.67", "resident"),
    ("/maps/coverage", "planner"),
    ("/maps/hotspots?interval=none", "planner"),
    ("/maps/workload", "grid_worker"),
    ("/maps/dispatch", "dispatcher"),
]
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)


def _policy(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize(("path", "role"), PAGES, ids=[p for p, _ in PAGES])
def test_every_html_page_has_a_strict_policy(client, test_db, path, role) -> None:
    resp = client.get(path, headers=test_db.headers(role))
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["content-type"].startswith("text/html")
    csp = _policy(resp.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp.get("base-uri") == ["'none'"] and csp.get("object-src") == ["'none'"]
    scripts = csp.get("script-src", csp.get("default-src"))
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert not any(s.startswith(("http:", "https:", "*")) for s in scripts)
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "no-referrer"
    nonces = [s[len("'nonce-") : -1] for s in scripts if s.startswith("'nonce-")]
    inline = [t for t in SCRIPT_TAG.findall(resp.text) if "src=" not in t]
    if path.startswith("/maps/"):
        assert len(nonces) == 1 and inline
        assert all(f'nonce="{nonces[0]}"' in t for t in inline), inline
    else:
        assert nonces == [] and inline == []  # these pages run no inline script at all


def test_each_map_response_has_its_own_nonce(client) -> None:
    seen = {
        _policy(client.get("/maps/residents").headers["content-security-policy"])["script-src"][1]
        for _ in range(3)
    }
    assert len(seen) == 3


def test_the_docs_load_nothing_from_a_cdn(client) -> None:
    for path in ("/docs", "/redoc"):
        page = client.get(path).text
        assert "cdn." not in page and "googleapis" not in page and "https://" not in page
        for src in re.findall(r'(?:src|href)="([^"]+)"', page):
            assert src.startswith("/static/"), src
            assert client.get(src).status_code == 200, src


def test_json_answers_are_not_sniffed_either(client) -> None:
    resp = client.get("/health")
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "no-referrer"
    assert "content-security-policy" not in resp.headers
