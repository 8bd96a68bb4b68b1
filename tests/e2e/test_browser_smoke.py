from __future__ import annotations

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer

pytestmark = pytest.mark.browser


def test_admin_signs_in_and_sees_the_menu(live_server: LiveServer, browser_page) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    page.goto(live_server.url + "/")
    page.fill("#username", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("button:has-text('Sign In')")
    page.wait_for_selector("text=Welcome, admin")
    assert page.locator("nav.menu").get_by_text("User Accounts").is_visible()
