"""The foundation's browser story: an admin creates an institution and a user, who then signs in."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer

pytestmark = pytest.mark.browser


def sign_in(page, url: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button:has-text('Sign In')")


def test_admin_creates_institution_and_user_who_signs_in(live_server: LiveServer, browser_page) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    sign_in(page, live_server.url, "admin", ADMIN_PASSWORD)
    page.wait_for_selector("text=Welcome, admin")

    page.click("nav.menu >> text=Institutions")
    page.click("text=Add Institution")
    page.fill("#f-name", "Example University")
    page.fill("#f-url_suffix", "example")
    page.click("button:has-text('Save and Activate')")
    page.wait_for_selector("h1:has-text('Example University')")
    assert page.locator("text=Active").first.is_visible()

    page.click("nav.menu >> text=User Accounts")
    page.click("text=Add User Account")
    page.select_option("#f-institution_id", label="Example University")
    page.fill("#f-name", "Erika")
    page.fill("#f-surname", "Muster")
    page.fill("#f-username", "erika")
    page.fill("#f-email", "erika@example.org")
    page.select_option("#f-timezone", "Europe/Zurich")
    page.check("input[name='roles[]'][value='EXAM_ADMIN']")
    page.fill("#f-password", "erika-password-1")
    page.fill("#f-confirm_password", "erika-password-2")
    page.click("button:has-text('Save and Activate')")
    assert page.locator(".error-text:has-text('password and confirmation differ')").is_visible()
    page.fill("#f-password", "erika-password-1")
    page.fill("#f-confirm_password", "erika-password-1")
    page.click("button:has-text('Save and Activate')")
    page.wait_for_selector("h1:has-text('erika')")

    page.click("button:has-text('Sign out')")
    sign_in(page, live_server.url, "erika", "erika-password-1")
    page.wait_for_selector("text=Welcome, erika")
    assert page.locator("text=Exam Administrator").first.is_visible()
    # An exam administrator manages no user accounts: the menu offers only their own account.
    assert page.locator("nav.menu >> text=User Accounts").count() == 0
    assert page.locator("nav.menu >> text=My Account").is_visible()
