"""In real Chromium: every HTML page works under its Content-Security-Policy, offline.

Each page is loaded with every request outside 127.0.0.1 aborted and a
`securitypolicyviolation` listener installed before the page's own scripts
run; a page passes when it renders, made no request elsewhere and triggered no
violation and no console error.  `/docs` and `/redoc` must render the
service's operations from assets the service serves itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

pytestmark = pytest.mark.browser

WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


@dataclass
class Visit:
    """What a page did while loading."""

    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _open(browser, url: str, headers: dict[str, str] | None = None):
    context = browser.new_context(extra_http_headers=headers or {})
    page = context.new_page()
    visit = Visit()

    def route(r):
        if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
            r.continue_()
        else:
            visit.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.add_init_script(WATCH_CSP)
    page.on("request", lambda req: visit.requests.append(req.url))
    page.on("console", lambda m: visit.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: visit.errors.append(str(exc)))
    response = page.goto(url, wait_until="load", timeout=60_000)
    return context, page, visit, response


def _clean(page, visit: Visit, live_url: str) -> None:
    assert visit.blocked == [], f"requests left 127.0.0.1: {visit.blocked}"
    assert all(u.startswith((live_url, "data:", "blob:")) for u in visit.requests), visit.requests
    assert page.evaluate("() => window.__csp") == []
    assert visit.errors == []


MAP_PAGES = [
    ("/maps/coverage", "planner"),
    ("/maps/hotspots?interval=none", "planner"),
    ("/maps/workload", "grid_worker"),
    ("/maps/dispatch", "dispatcher"),
    ("/maps/residents?lon=104.10&lat=30.67", "resident"),
    ("/maps/residents", "resident"),
    ("/login", "resident"),
]


@pytest.mark.parametrize(("path", "role"), MAP_PAGES, ids=[p for p, _ in MAP_PAGES])
def test_every_page_renders_under_its_policy(browser, live_url, test_db, path, role) -> None:
    context, page, visit, response = _open(browser, live_url + path, test_db.headers(role))
    try:
        assert response.status == 200
        assert (
            "'unsafe-inline'"
            not in response.headers["content-security-policy"].split("script-src")[-1].split(";")[0]
        )
        page.wait_for_timeout(1500)
        _clean(page, visit, live_url)
        if path.startswith("/maps/"):
            assert page.locator(".leaflet-container").count() == 1
            # the page's own (nonced) script ran: it made the map and its layer control
            made = "() => Object.values(window).filter((v) => v instanceof L.Map).length"
            assert page.evaluate(made) == 1
            assert page.locator(".leaflet-control-layers").count() == 1
        else:
            assert page.locator('input[name="key"]').count() == 1
    finally:
        context.close()


def test_an_inline_script_without_the_nonce_does_not_run(browser, live_url) -> None:
    context, page, _visit, _ = _open(browser, live_url + "/maps/residents")
    try:
        page.wait_for_timeout(500)
        ran = page.evaluate(
            """() => {
                const s = document.createElement('script');
                s.textContent = 'window.__injected = 1';
                document.body.appendChild(s);
                return window.__injected === 1;
            }"""
        )
        assert ran is False
        assert any("script-src" in v for v in page.evaluate("() => window.__csp"))
    finally:
        context.close()


def _rendered_operations(page) -> dict[str, str]:
    """Every operation block Swagger UI draws, scrolling through the page.

    With this many operations Swagger UI draws only what is near the viewport,
    so the blocks are collected by their ids while the page scrolls to the end.
    """
    seen: dict[str, str] = {}
    collect = (
        "els => els.map(e => [e.id,"
        " (e.querySelector('.opblock-summary-path') || {}).textContent || ''])"
    )
    for _ in range(400):
        seen.update(page.eval_on_selector_all(".opblock", collect))
        at_end = page.evaluate(
            "() => { window.scrollBy(0, window.innerHeight * 0.8);"
            " return window.innerHeight + window.scrollY >= document.body.scrollHeight - 2; }"
        )
        page.wait_for_timeout(60)
        if at_end:
            seen.update(page.eval_on_selector_all(".opblock", collect))
            break
    return seen


def test_swagger_ui_renders_the_operations_offline(browser, live_url, client) -> None:
    operations = sum(len(item) for item in client.get("/openapi.json").json()["paths"].values())
    context, page, visit, response = _open(browser, live_url + "/docs")
    try:
        assert response.status == 200
        page.wait_for_selector(".opblock", timeout=30_000)
        rendered = _rendered_operations(page)
        assert len(rendered) == operations
        assert any(path.startswith("/incidents") for path in rendered.values())
        _clean(page, visit, live_url)
        assert any(u.endswith("/openapi.json") for u in visit.requests)
    finally:
        context.close()


def test_redoc_renders_the_operations_offline(browser, live_url) -> None:
    context, page, visit, response = _open(browser, live_url + "/redoc")
    try:
        assert response.status == 200
        page.wait_for_selector("h2:has-text('Report a case')", timeout=30_000)
        page.wait_for_timeout(1000)
        assert page.locator("h2", has_text="Report a case").count() >= 1
        _clean(page, visit, live_url)
        assert not any("fonts.g" in u for u in visit.requests)
    finally:
        context.close()
