"""Browser story under the Content Security Policy: an exam administrator goes through the main pages, edits a
setting (htmx), filters a list, opens and closes a dialog and watches the live monitoring table turn a cell red,
and Chromium reports no violation of the policy on the way. A page of another origin cannot frame the UI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update

from sebframe.core.accounts.passwords import hash_password
from sebframe.core.db import Database
from sebframe.core.db.models import UserAccount
from tests.e2e.conftest import LiveServer, seed
from tests.e2e.test_browser_accounts import sign_in
from tests.e2e.test_monitoring_browser import (  # noqa: F401 (fixtures)
    PASSWORD,
    Students,
    monitoring_server,
    students,
)
from tests.seb_client import SebWorld

pytestmark = pytest.mark.browser

# Every report of a violation, in whichever document it happens (set before any script of the page runs).
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", event => window.cspViolation(
    [location.pathname, event.violatedDirective, event.blockedURI, event.sample].join(" | ")));"""
RED = "rgb(237, 28, 36)"  # the Errors indicator's incident colour, ed1c24


async def _exam_admin_password(database_url: str) -> None:
    db = Database(database_url)
    async with db.transaction() as session:
        await session.execute(update(UserAccount).where(UserAccount.username == "demo-exam-admin")
                              .values(password_hash=hash_password(PASSWORD)))
    await db.dispose()


@pytest.fixture
def violations(browser_page: Any) -> Iterator[list[str]]:
    """What Chromium refused on the page: securitypolicyviolation events and its console's CSP errors."""
    found: list[str] = []
    browser_page.expose_function("cspViolation", lambda text: found.append(text))
    browser_page.add_init_script(REPORT_VIOLATIONS)
    browser_page.on("console", lambda message: found.append(f"console: {message.text}")
                    if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    yield found


def test_main_pages_htmx_and_live_monitoring_run_within_the_policy(  # type: ignore[no-untyped-def]
        monitoring_server: tuple[LiveServer, SebWorld], students: Students,  # noqa: F811 (the fixtures)
        browser_page, violations: list[str]) -> None:
    server, world = monitoring_server
    seed(_exam_admin_password(server.settings.resolved_database_url))
    page = browser_page
    students.connect("alice")
    students.connect("bob")
    page.goto(server.url + "/login")
    page.goto(server.url + "/register")
    sign_in(page, server.url, "demo-exam-admin", PASSWORD)
    page.wait_for_selector("text=Welcome, demo-exam-admin")
    for path in ("/exams", "/exam-templates", "/lms-setups", "/lms-lookup", "/connection-configurations",
                 "/certificates", "/configuration-templates", "/users", "/activity", "/client-logs", "/locations",
                 "/location-profiles", "/location-audit", "/monitoring"):
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")

    # The exam with its indicators: the colour swatches are painted by script.
    page.goto(f"{server.url}/exams/{world.exam_id}")
    swatch = page.locator("#indicators-title + * .swatch, section[aria-labelledby=indicators-title] .swatch")
    assert swatch.first.evaluate("node => getComputedStyle(node).backgroundColor") != "rgba(0, 0, 0, 0)"

    # A list filter chosen from a select applies at once.
    page.goto(server.url + "/exam-configurations")
    page.select_option("select[name=status]", index=1)
    page.wait_for_url("**/exam-configurations?*status=*")

    # A new exam configuration: htmx saves a setting and refreshes the status line; the Config Key dialog.
    page.goto(server.url + "/exam-configurations/new")
    page.fill("#f-name", "Policy Check")
    page.click("button:has-text('Save Exam Configuration')")
    page.click("text=Edit SEB Settings")
    page.wait_for_selector("#publish-status:has-text('Published')")
    page.uncheck("#s-allowQuit input[type=checkbox]")
    page.wait_for_selector("#publish-status:has-text('Unpublished changes')")
    page.click("nav.tabs >> text=User Interface")  # a tab with settings placed on the grid
    page.wait_for_selector("#s-mainBrowserWindowWidth")
    page.goto(page.url.split("/settings")[0])
    page.click("aside.actions >> text=Config Key")
    page.wait_for_selector("dialog #config-key")
    page.click("dialog >> button:has-text('Close')")
    page.wait_for_selector("dialog #config-key", state="hidden")

    # Live monitoring: the stream's patch turns bob's Errors cell red without a reload.
    page.goto(f"{server.url}/monitoring/{world.exam_id}")
    page.wait_for_selector("#live-status:has-text('Live ·')")
    page.evaluate("window.sameDocument = true")
    students.log_errors("bob", 3)
    bob = page.locator("#heatmap-rows tr", has=page.locator("td.name a:text-is('bob')"))
    page.wait_for_function("""cell => getComputedStyle(cell).backgroundColor === "rgb(237, 28, 36)" """,
                           arg=bob.locator("td.cell.dark").element_handle(), timeout=6000)
    assert page.evaluate("window.sameDocument") is True
    page.reload()  # the red cell in the page's own markup, then in the stream's first event
    page.wait_for_selector("#live-status:has-text('Live ·')")
    assert bob.locator("td.cell.dark").evaluate("cell => getComputedStyle(cell).backgroundColor") == RED
    # The connection's page shows the indicator as a coloured badge.
    bob.locator("td.name a").click()
    page.wait_for_selector("h1:has-text('SEB Connection bob')")
    assert page.locator(".cell-badge.dark").evaluate("node => getComputedStyle(node).backgroundColor") == RED

    page.click("button:has-text('Sign out')")
    page.wait_for_selector("text=You are signed out.")
    assert violations == []


def test_a_page_of_another_origin_cannot_frame_the_ui(live_server: LiveServer, browser_page) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    host, port = live_server.url.rsplit(":", 1)
    attacker = f"{host}:{int(port) + 1}/frame.html"  # same site (127.0.0.1), another origin
    page.route(attacker, lambda route: route.fulfill(content_type="text/html", body=(
        f'<html><body><iframe id="victim" name="victim" src="{live_server.url}/login" width="800" height="600">'
        "</iframe></body></html>")))
    page.goto(attacker)
    page.wait_for_timeout(1000)  # the frame's load or refusal
    [victim] = [frame for frame in page.frames if frame.name == "victim"]
    assert victim.url == "chrome-error://chromewebdata/"  # Chromium refused to show the page in the frame
    assert page.frame_locator("#victim").locator("#username").count() == 0
