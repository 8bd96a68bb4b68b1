"""Browser story: an exam administrator creates an exam configuration, changes a setting in the editor (saved at
once by htmx), publishes, exports SEBExamSettings.seb and checks its Config Key against the Config Key dialog."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from sebframe.core.accounts.passwords import hash_password
from sebframe.core.accounts.roles import Role
from sebframe.core.db import Database
from sebframe.core.db.models import Institution, UserAccount, UserRoleGrant
from sebframe.core.sebconfig import config_key, decode_seb
from tests.e2e.conftest import LiveServer
from tests.e2e.test_browser_accounts import sign_in

pytestmark = pytest.mark.browser

EXAM_ADMIN_PASSWORD = "erika-password-1"


async def _add_exam_admin(database_url: str) -> None:
    db = Database(database_url)
    async with db.transaction() as session:
        institution = (await session.execute(select(Institution))).scalars().first()
        assert institution is not None  # the live server's seeded admin has one
        session.add(UserAccount(
            institution_id=institution.id, username="erika", name="Erika", surname="Muster",
            password_hash=hash_password(EXAM_ADMIN_PASSWORD), active=True,
            roles=[UserRoleGrant(role=Role.EXAM_ADMIN.value)],
        ))
    await db.dispose()


def test_exam_admin_edits_publishes_exports_and_checks_the_config_key(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page, tmp_path: Path
) -> None:
    # Playwright's sync API runs an event loop in this thread: set up the account from another one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _add_exam_admin(live_server.settings.resolved_database_url)).result()
    page = browser_page
    sign_in(page, live_server.url, "erika", EXAM_ADMIN_PASSWORD)
    page.wait_for_selector("text=Welcome, erika")

    page.click("nav.menu >> text=Exam Configuration")
    page.click("text=Add Exam Configuration")
    page.fill("#f-name", "Physics Final")
    page.fill("#f-description", "June session")
    page.click("button:has-text('Save Exam Configuration')")
    page.wait_for_selector("h1:has-text('Exam Configuration Physics Final')")

    page.click("text=Edit SEB Settings")
    page.wait_for_selector("#publish-status:has-text('Published')")
    # Untick "Allow quit": htmx stores it at once and the status line learns about the unpublished change.
    page.uncheck("#s-allowQuit input[type=checkbox]")
    page.wait_for_selector("#publish-status:has-text('Unpublished changes')")
    # A refused value shows its message inline, without leaving the page.
    page.click("nav.tabs >> text=User Interface")
    page.fill("#s-mainBrowserWindowWidth-input", "wide")
    page.press("#s-mainBrowserWindowWidth-input", "Enter")
    page.wait_for_selector("#s-mainBrowserWindowWidth .error-text:has-text('percent (50%)')")
    page.fill("#s-mainBrowserWindowWidth-input", "80%")
    page.press("#s-mainBrowserWindowWidth-input", "Enter")
    page.wait_for_selector("#s-mainBrowserWindowWidth:not(.invalid)")

    page.fill("#publish-summary", "no quitting")
    page.click("button:has-text('Save / Publish Settings')")
    page.wait_for_selector("text=Version 1 published")
    page.wait_for_selector("#publish-status:has-text('All changes are in version 1')")

    with page.expect_download() as download_info:
        page.click("aside.actions >> text=Export SEB Settings")
    download = download_info.value
    assert download.suggested_filename == "SEBExamSettings.seb"
    target = tmp_path / "SEBExamSettings.seb"
    download.save_as(target)
    settings = decode_seb(target.read_bytes()).settings
    assert settings["allowQuit"] is False and settings["mainBrowserWindowWidth"] == "80%"

    page.click("aside.actions >> text=Config Key")
    shown = page.locator("dialog #config-key").inner_text().strip()
    assert len(shown) == 64
    assert shown == config_key(settings)
