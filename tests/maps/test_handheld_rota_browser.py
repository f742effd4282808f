"""The handheld's duty section in real Chromium: my shift, check in (two taps), report what I
saw (a case of channel courtyard_patrol), check out — through the sign-in session."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.conftest import TEST_NOW

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shift(live_url: str, test_db, engine: Engine) -> dict:
    """A volunteer record of the demo grid worker (worker 1) on duty now in their community."""
    with engine.begin() as c:
        member = c.execute(
            text(
                "INSERT INTO courtyard_members (courtyard_id, role, name, worker_id)"
                " SELECT c.id, 'volunteer', '网格员本人', w.id FROM courtyards c JOIN workers w"
                " ON w.community_id = c.community_id WHERE w.id = 1 ORDER BY c.id LIMIT 1"
                " RETURNING id, courtyard_id"
            )
        ).one()
    start = TEST_NOW - timedelta(hours=1)
    r = httpx.post(
        f"{live_url}/self-governance/shifts",
        json={
            "courtyard_id": member.courtyard_id,
            "member_id": member.id,
            "start": start.isoformat(),
            "end": (start + timedelta(hours=5)).isoformat(),
        },
        headers=test_db.headers("dispatcher"),
    )
    assert r.status_code == 201, r.text
    return r.json()


def _state(engine: Engine, shift_id: int) -> tuple:
    with engine.connect() as c:
        return tuple(
            c.execute(
                text(
                    "SELECT checked_in_at IS NOT NULL, checked_out_at IS NOT NULL,"
                    " (SELECT count(*) FROM incidents WHERE channel_code = 'courtyard_patrol'"
                    "  AND description = '单元门禁损坏 door lock broken')"
                    " FROM courtyard_shifts WHERE id = :s"
                ),
                {"s": shift_id},
            ).one()
        )


def test_check_in_report_and_check_out_on_the_handheld(
    browser, live_url, test_db, shift, engine: Engine, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{live_url}/login?next=/handheld")
        page.fill("input[name=key]", test_db.keys["grid_worker"])
        page.click("input[type=submit]")
        page.wait_for_url("**/handheld")
        item = page.locator(f'#wg-shifts li[data-shift-id="{shift["id"]}"]')
        item.wait_for(timeout=10_000)
        assert item.get_attribute("data-state") == "planned"
        check_in = item.locator('button[data-action="check-in"]')
        check_in.click()
        check_in.click()  # two taps: ask, confirm
        on = page.locator(f'#wg-shifts li[data-shift-id="{shift["id"]}"][data-state="on"]')
        on.wait_for(timeout=10_000)
        on.locator("textarea").fill("单元门禁损坏 door lock broken")
        on.locator("button[type=submit]").click()
        page.wait_for_function("() => window.wanggeRota.reports.length === 1", timeout=10_000)
        assert _state(engine, shift["id"]) == (True, False, 1)
        page.screenshot(path=str(artifacts / "face_handheld_rota.png"), full_page=True)
        out = on.locator('button[data-action="check-out"]')
        out.click()
        out.click()
        page.locator(f'#wg-shifts li[data-shift-id="{shift["id"]}"][data-state="done"]').wait_for(
            timeout=10_000
        )
        assert _state(engine, shift["id"]) == (True, True, 1)
        assert errors == []
    finally:
        context.close()
