"""Browser stories: the LMS setup form swaps in the chosen type's settings, and the LMS exam lookup fills in
each LMS's answer on its own, so a slow LMS does not hold up the quizzes of a fast one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import BaseModel
from sqlalchemy import select

from sebframe import hookimpl
from sebframe.app import create_app
from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.passwords import hash_password
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import Institution, UserAccount, UserRoleGrant
from sebframe.core.lms.lookup import QuizLookupService
from sebframe.core.lms.schemas import LmsSetupInput
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.testing import registry_with
from sebframe.types import ConnectionTestResult, IntegrationContext, LmsType, QuizData, QuizFilter
from tests.conftest import empty_tables
from tests.e2e.conftest import LiveServer, serving
from tests.e2e.test_browser_accounts import sign_in
from tests.lms_support import installed_lms_plugins

pytestmark = pytest.mark.browser

PASSWORD = "lookup-password-1"
SLOW_SECONDS = 3.0


class NoSettings(BaseModel):
    pass


@dataclass
class SlowAdapter:
    context: IntegrationContext

    async def test(self) -> ConnectionTestResult:
        return ConnectionTestResult.success()

    async def find_quizzes(self, quiz_filter: QuizFilter) -> list[QuizData]:
        await asyncio.sleep(SLOW_SECONDS * 3)  # longer than the lookup waits
        return []


class SlowLms:
    __name__ = "slow-lms"

    @hookimpl
    def sebframe_lms_types(self) -> Iterator[LmsType]:
        yield LmsType(name="SLOW", display_name="Slow", settings_model=NoSettings, create_adapter=SlowAdapter)


def _registry():  # type: ignore[no-untyped-def]
    return registry_with(*installed_lms_plugins(), SlowLms())


async def _seed(settings: Settings) -> None:
    services = Services.create(settings, _registry())
    async with services.db.transaction() as session:
        institution = Institution(name="ETH", active=True)
        session.add(institution)
        await session.flush()
        for username, role in (("ea", Role.EXAM_ADMIN), ("ia", Role.INSTITUTIONAL_ADMIN)):
            session.add(UserAccount(institution_id=institution.id, username=username, name=username.upper(),
                                    surname="Tester", password_hash=hash_password(PASSWORD), active=True,
                                    timezone="Europe/Zurich", roles=[UserRoleGrant(role=role.value)]))
    async with services.db.read() as session:
        user = (await session.execute(select(UserAccount).where(UserAccount.username == "ia"))).scalar_one()
        actor = actor_of(user)
    for name, lms_type, values in (("Fast LMS", "TESTING", {"client_name": "a", "client_secret": "b"}),
                                   ("Slow LMS", "SLOW", {})):
        _, result = await services.lms_setups.create(actor, LmsSetupInput(
            name=name, lms_type=lms_type, url="https://lms.example.org", settings=values), activate=True)
        assert result.ok
    await services.close()


@pytest.fixture
def lms_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    settings = Settings(database_url=database_url, data_dir=tmp_path / "data", secret_key="browser-lms-secret-key",
                        load_entrypoint_plugins=False)
    asyncio.run(empty_tables(database_url))
    asyncio.run(_seed(settings))
    services = Services.create(settings, _registry())
    services.quiz_lookup = QuizLookupService(services.db, services.lms_setups, timeout_seconds=SLOW_SECONDS)
    try:
        with serving(create_app(services=services)) as url:
            yield LiveServer(url, settings)
    finally:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, empty_tables(database_url)).result()


def test_lookup_shows_fast_answers_before_the_slow_lms_times_out(lms_server: LiveServer,  # type: ignore[no-untyped-def]
                                                                 browser_page) -> None:
    page = browser_page
    sign_in(page, lms_server.url, "ea", PASSWORD)
    page.wait_for_selector("text=Welcome")
    page.click("nav.menu >> text=LMS Exam Lookup")
    page.wait_for_selector("h1:has-text('LMS Exam Lookup')")
    page.fill("input[name=start_from]", "2000-01-01T00:00")
    started = time.monotonic()
    page.click("button:has-text('Search')")

    # The fast LMS answers and its quizzes are listed while the slow one is still loading.
    page.wait_for_selector("li.lookup-status[data-state=OK]:has-text('Fast LMS')")
    page.wait_for_selector("#lookup-results tbody tr[data-dialog]")
    assert page.locator("li.lookup-status:has-text('Slow LMS')").get_attribute("data-state") == "LOADING"
    assert time.monotonic() - started < SLOW_SECONDS
    first = page.locator("#lookup-results tbody tr[data-dialog] td a").first.inner_text()
    assert first == "Demo Quiz 1 (MOCKUP)"

    # Sorting reloads only the table (by name, descending), keeping the status lines.
    page.click("#lookup-results th a:has-text('Name')")
    # A function, not an expression: Playwright evals an expression in the page, which the CSP refuses.
    page.wait_for_function("() => document.querySelector('#lookup-results tbody tr td a').textContent"
                           ".startsWith('Demo Quiz 7')")

    # Select a row: the action pane opens its details and links the import.
    page.click("#lookup-results tbody tr[data-dialog] td.nowrap >> nth=0")
    page.click("button:has-text('Show LMS Exam Details')")
    dialog = page.locator("dialog[open]")
    dialog.wait_for()
    assert "Demo Quiz 7 (MOCKUP)" in dialog.inner_text() and "LMS Exam Identifier" in dialog.inner_text()
    dialog.locator("button:has-text('Close')").click()
    page.wait_for_selector("dialog[open]", state="detached")
    import_href = page.locator("aside.actions a:has-text('Import as Exam')").get_attribute("href")
    assert import_href is not None and import_href.startswith("/exams/import?lms_setup_id=")
    assert import_href.endswith("&quiz_id=quiz7")

    # A double click opens the dialog too.
    page.dblclick("#lookup-results tbody tr[data-dialog] >> nth=1")
    page.locator("dialog[open]").wait_for()
    page.keyboard.press("Escape")

    # The slow LMS ends with its own status, the fast LMS's quizzes stay.
    page.wait_for_selector("li.lookup-status[data-state=TIMEOUT]:has-text('Slow LMS')",
                           timeout=int(SLOW_SECONDS * 1000) + 5000)
    assert "did not answer within" in page.locator("li.lookup-status[data-state=TIMEOUT]").inner_text()
    assert page.locator("#lookup-results tbody tr[data-dialog]").count() > 5


def test_changing_the_type_swaps_in_its_settings(lms_server: LiveServer, browser_page) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    sign_in(page, lms_server.url, "ia", PASSWORD)
    page.wait_for_selector("text=Welcome")
    page.click("nav.menu a[href='/lms-setups']")
    page.click("text=Add LMS Setup")
    page.wait_for_selector("text=Choose the LMS type to enter its settings")
    page.select_option("#f-lms_type", "TESTING")
    page.wait_for_selector("#f-settings\\.client_name")
    assert page.locator("#f-settings\\.client_secret").get_attribute("type") == "password"
    page.fill("#f-name", "Browser Mock")
    page.fill("#f-url", "https://lms.example.org")
    page.fill("#f-settings\\.client_name", "sebserver")
    page.fill("#f-settings\\.client_secret", "browser-secret")
    page.click("button:has-text('Save and Activate')")
    page.wait_for_selector("text=LMS setup Browser Mock created and activated")
    assert "browser-secret" not in page.content()
