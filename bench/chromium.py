"""Shared by the browser benchmarks: Debian's Chromium as the tests start it, and a sign-in."""

from __future__ import annotations

from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def signed_in_cookies(browser: Any, url: str, key: str) -> list[Any]:
    """The session cookie of the key's holder (sign in once through /login)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{url}/login?next=/")
    page.fill("input[name=key]", key)
    page.click("input[type=submit]")
    page.wait_for_load_state("load")
    cookies = context.cookies()
    context.close()
    return cookies
