"""A live service on 127.0.0.1 and a real headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.live_server import serve_in_thread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _browser_env() -> dict[str, str]:
    """The environment without libfaketime: the browser is a client outside the service.

    Under `make test-any-day` the service runs at a fake date; Chromium's crash
    handler spins under libfaketime, and nothing a page shows comes from the
    browser's clock, so the browser runs at the real time.
    """
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and "FAKETIME" not in k}


@pytest.fixture(scope="module")
def live_url(app: FastAPI) -> Iterator[str]:
    """The module's app served by uvicorn in a thread on a free local port."""
    with serve_in_thread(app, log_level="warning") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless (never `playwright install`)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, env=_browser_env()
        )
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts(repo_root: Path) -> Path:
    """Where screenshots go (git-ignored)."""
    path = repo_root / "artifacts"
    path.mkdir(exist_ok=True)
    return path


@dataclass
class PageVisit:
    """What a page did while loading: every request URL, console errors, page errors."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def open_page(browser, url: str, headers: dict[str, str] | None = None, wait_ms: int = 1500):
    """Load `url`, recording requests and errors; any non-local request is aborted and noted."""
    context = browser.new_context(
        extra_http_headers=headers or {}, viewport={"width": 1280, "height": 860}
    )
    page = context.new_page()
    visit = PageVisit()

    def route(r):
        target = r.request.url
        if target.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
            r.continue_()
        else:
            visit.blocked.append(target)
            r.abort()

    page.route("**/*", route)
    page.on("request", lambda req: visit.requests.append(req.url))
    page.on(
        "console",
        lambda msg: visit.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: visit.page_errors.append(str(exc)))
    response = page.goto(url, wait_until="load", timeout=60_000)
    page.wait_for_timeout(wait_ms)
    return context, page, visit, response
