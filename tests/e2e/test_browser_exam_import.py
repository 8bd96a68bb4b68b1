"""Browser story: an exam administrator finds a running quiz in the LMS Exam Lookup, imports it with the
institution's default exam template (which creates and attaches an exam configuration), swaps that configuration
for a prepared Ready To Use one, sees the exam ready (no missing setup) and edits the SEB restriction details in
their dialog."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
import sebframe_indicators.plugin
from sqlalchemy import select

from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.passwords import hash_password
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import Institution, UserAccount, UserRoleGrant
from sebframe.core.exams.schemas import ExamTemplateInput, IndicatorInput
from sebframe.core.lms import testing_lms
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.testing import registry_with
from tests.e2e.conftest import LiveServer
from tests.e2e.test_browser_accounts import sign_in
from tests.exam_helpers import add_testing_setup, make_config_template, ready_config

pytestmark = pytest.mark.browser

PASSWORD = "erika-password-1"


async def _seed(settings: Settings) -> None:
    """Accounts, an active Testing LMS setup, a configuration template, the default exam template and a Ready To
    Use exam configuration, made through the services (with the indicator plugin, for the template's indicator)."""
    services = Services.create(settings, registry_with(sebframe_indicators.plugin))
    try:
        async with services.db.transaction() as session:
            institution = (await session.execute(select(Institution))).scalars().first()
            assert institution is not None  # the live server's seeded admin has one
            for username, role in (("erika", Role.EXAM_ADMIN), ("ia", Role.INSTITUTIONAL_ADMIN),
                                   ("sam", Role.EXAM_SUPPORTER), ("sue", Role.EXAM_SUPPORTER)):
                session.add(UserAccount(institution_id=institution.id, username=username, name=username.title(),
                                        surname="Tester", password_hash=hash_password(PASSWORD), active=True,
                                        roles=[UserRoleGrant(role=role.value)]))
        async with services.db.read() as session:
            users = {user.username: user for user in (await session.execute(select(UserAccount))).scalars()}
        erika, ia = actor_of(users["erika"]), actor_of(users["ia"])
        await add_testing_setup(services, ia)
        base = await make_config_template(services, erika, "Strict Template")
        await services.exams.templates.create(erika, ExamTemplateInput(
            name="Finals", institutional_default=True, exam_type="MANAGED", configuration_template_id=base.id,
            supporter_ids=[users["sam"].id],
            indicators=[IndicatorInput(name="Ping", indicator_type="LAST_PING",
                                       thresholds=[{"value": 5000, "color": "ffc20e"}])]))  # type: ignore[list-item]
        await ready_config(services, erika, "Prepared Config")
    finally:
        await services.close()


def test_exam_admin_imports_a_quiz_with_the_template_and_makes_it_ready(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page
) -> None:
    testing_lms._RESTRICTIONS.clear()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _seed(live_server.settings)).result()
    page = browser_page
    page.on("dialog", lambda dialog: dialog.accept())  # "Remove exam configuration ...?"
    sign_in(page, live_server.url, "erika", PASSWORD)
    page.wait_for_selector("text=Welcome, erika")

    # LMS Exam Lookup: the Testing LMS answers; select the running quiz and import it.
    page.click("nav.menu >> text=LMS Exam Lookup")
    row = page.locator("tr[data-import]", has_text="Demo Quiz 1 (MOCKUP)")
    row.locator("td").nth(3).click()  # a click on the row (not on its link) selects it
    page.click("aside.actions >> text=Import as Exam")
    page.wait_for_selector("h1:has-text('Import Exam')")
    assert page.locator("#f-exam_template_id option:checked").inner_text() == "Finals (institutional default)"
    assert page.locator("#f-exam_type option:checked").inner_text() == "Managed Devices"
    assert page.locator("#supporter-selected input:checked").count() == 1  # the template's supporter
    # Choosing another template (here: none) swaps in its exam type and supporters; then back to the default.
    page.select_option("#f-exam_template_id", label="None")
    page.wait_for_selector("#f-exam_type option:checked:has-text('Not Defined')", state="attached")
    assert page.locator("#supporter-selected input").count() == 0
    page.select_option("#f-exam_template_id", label="Finals (institutional default)")
    page.wait_for_selector("#f-exam_type option:checked:has-text('Managed Devices')", state="attached")
    assert page.locator("#supporter-selected input:checked").count() == 1
    # The type-ahead adds another supporter.
    page.fill("#f-supporter-search", "sue")
    page.wait_for_function("() => { const found = document.getElementById('supporter-results').textContent; "
                           "return found.includes('(sue)') && !found.includes('(erika)'); }")
    page.locator("#supporter-results li", has_text="(sue)").locator("input").check()
    page.wait_for_selector("#supporter-selected >> text=(sue)")
    page.click("aside.actions >> text=Save Exam")

    page.wait_for_selector("h1:has-text('Exam Demo Quiz 1 (MOCKUP)')")
    page.wait_for_selector("text=Demo Quiz 1 (MOCKUP) imported.")
    assert page.locator("#missing-setup").count() == 0  # the template's configuration is attached
    assert "(sam)" in page.inner_text("main") and "(sue)" in page.inner_text("main")
    generated = page.locator("section[aria-labelledby=config-title] a").inner_text()
    assert generated.endswith(" Demo Quiz 1 (MOCKUP)")

    # Swap it for the prepared configuration: without one, the running exam is not ready.
    page.click("aside.actions >> text=Delete Exam Configuration")
    page.wait_for_selector("#missing-setup >> text=no exam configuration attached")
    page.click("aside.actions >> text=Add Exam Configuration")
    page.select_option("#f-configuration_id", label="Prepared Config")
    page.click("aside.actions >> button:has-text('Add Exam Configuration')")
    page.wait_for_selector("text=Exam configuration Prepared Config attached")
    assert page.locator("section[aria-labelledby=config-title] a").inner_text() == "Prepared Config"
    assert page.locator("#missing-setup").count() == 0
    assert page.locator("#restriction-state").inner_text().startswith("Applied")

    # The SEB restriction details open as a dialog; a refused key is shown in place, saving closes the dialog and
    # the restriction card shows what the LMS did.
    page.click("aside.actions >> text=SEB Restriction Details")
    dialog = page.locator("dialog#restriction-dialog[open]")
    dialog.wait_for()
    assert page.evaluate("document.querySelector('#restriction-dialog').matches(':modal')")
    assert page.locator("h1").inner_text().startswith("Exam ")  # no navigation: still the exam view
    dialog.locator("#f-browser_exam_keys").fill("not-a-key!")
    dialog.locator("button:has-text('Save Restriction Details')").click()
    dialog.locator(".error-text >> text=is not a Browser Exam Key").wait_for()
    assert page.evaluate("document.querySelector('#restriction-dialog').matches(':modal')")  # still open
    dialog.locator("#f-browser_exam_keys").fill("b" * 64)
    dialog.locator("button:has-text('Save Restriction Details')").click()
    page.wait_for_selector("#restriction-dialog", state="detached")
    card = page.locator("#restriction-card")
    card.locator("text=SEB restriction details saved.").wait_for()
    assert "On the LMS: applied with 1 Config Key and 1 Browser Exam Key" in card.inner_text()
    assert [r.browser_exam_keys for r in testing_lms._RESTRICTIONS.values()] == [("b" * 64,)]
    # Escape closes it without saving; it opens again afresh.
    page.click("aside.actions >> text=SEB Restriction Details")
    page.locator("dialog#restriction-dialog[open]").wait_for()
    assert page.locator("#f-browser_exam_keys").input_value() == "b" * 64
    page.keyboard.press("Escape")
    page.wait_for_selector("#restriction-dialog", state="detached")
