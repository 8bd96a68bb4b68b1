"""In a real browser: the IP profile editor's "Check" (htmx, nothing saved), saving a profile, the preview of a
draft from the edit form, and a location audit record's dialog."""

from __future__ import annotations

import pytest

from sebframe.core.db import Database
from tests.e2e.conftest import LiveServer, add_exam_admin, seed, sign_in_page

pytestmark = pytest.mark.browser


async def _seed(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            await add_exam_admin(session)
    finally:
        await db.dispose()


def test_check_save_and_audit_dialog(live_server: LiveServer, browser_page) -> None:  # type: ignore[no-untyped-def]
    seed(_seed(live_server.settings.resolved_database_url))
    page = browser_page
    sign_in_page(page, live_server.url, "erika")
    page.locator("nav.menu").get_by_text("IP Profiles").click()
    page.wait_for_url("**/location-profiles")
    page.get_by_role("link", name="Add IP Profile").click()
    page.wait_for_url("**/location-profiles/new")
    page.fill("#f-name", "HG Labs")
    page.fill("#f-rules", 'ALLOW 10.1.2.0/24 room="Lab 1"\nALLOWED 10.0.0.1\nALLOW 192.168.1.5/24\nALLOW 010.0.0.1')

    page.get_by_role("button", name="Check").click()  # htmx: the findings below the rules, the page stays
    result = page.locator("#rule-check-result")
    result.wait_for()
    assert page.url.endswith("/location-profiles/new")
    assert [row.get_attribute("data-code") for row in result.locator("tr[data-code]").all()] == [
        "E001", "W101", "E004"]
    assert "ALLOW 192.168.1.0/24" in result.inner_text()

    page.fill("#f-rules", 'ALLOW 10.1.2.0/24 room="Lab 1"\nBLOCK 10.1.2.66')
    page.get_by_role("button", name="Save IP Profile").click()
    page.wait_for_selector("text=IP profile HG Labs created (version 1).")
    assert "BLOCK 10.1.2.66" in page.locator("table.canonical-rules").inner_text()

    page.locator("nav.menu").get_by_text("Location Audit Log").click()
    page.wait_for_url("**/location-audit")
    page.locator("tr[data-code='1010']").dblclick()
    dialog = page.locator("dialog#audit-dialog")
    dialog.wait_for(state="visible")
    assert "evt_code=1010" in dialog.locator("pre.audit-line").inner_text()
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="detached")
