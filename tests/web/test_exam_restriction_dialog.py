"""Admin UI: the SEB restriction details dialog on the exam view (htmx) and the same page without JavaScript,
with the Testing LMS and with Open edX chapters listed by the real plugin from the fake Open edX server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import sebframe_lms_openedx.plugin

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import Role
from sebframe.core.exams.restriction import FieldChoices, FieldOption
from sebframe.core.exams.schemas import ExamImport
from sebframe.core.lms.schemas import LmsSetupInput
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.testing.fakes.openedx import FakeCourse, FakeOpenEdx
from sebframe.types import ChoiceSource, RestrictionField
from sebframe.web.templating import create_templates
from tests.conftest import Factory, sign_in
from tests.exam_helpers import add_testing_setup, exam_services, restrictions

pytestmark = pytest.mark.anyio
HX = {"HX-Request": "true"}
BEK = "c" * 64
COURSE = "course-v1:ETH+Chapters+2030"
CHAPTERS = [("c2", "Part B: Essay"), ("c1", "Part A: Multiple Choice")]
BLOCKS = "/api/courses/v1/blocks/"


@pytest.fixture
def lms() -> Iterator[FakeOpenEdx]:
    with FakeOpenEdx(courses=[FakeCourse(COURSE, "Chapters Exam", "2030-01-01T08:00:00Z", None,
                                         chapters=CHAPTERS)]) as server:
        yield server


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with exam_services(settings, sebframe_lms_openedx.plugin) as services:
        yield services


async def _people(services: Services) -> tuple[Actor, Actor]:
    factory = Factory(services)
    eth = await factory.institution("ETH")
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    return admin, await factory.actor(eth, "erika", Role.EXAM_ADMIN)


async def _testing_exam(services: Services) -> tuple[int, Actor]:
    admin, exam_admin = await _people(services)
    setup = await add_testing_setup(services, admin)
    exam = await services.exams.import_exam(exam_admin, ExamImport(
        lms_setup_id=setup.id, quiz_id="quiz11", supporter_ids=[exam_admin.user_id]))  # up-coming: not applied
    return exam.id, exam_admin


async def _open_edx_exam(services: Services, lms: FakeOpenEdx) -> tuple[int, Actor]:
    admin, exam_admin = await _people(services)
    setup, result = await services.lms_setups.create(admin, LmsSetupInput(
        name="Open edX", lms_type="OPEN_EDX", url=lms.url,
        settings={"client_id": lms.client_id, "client_secret": lms.client_secret}), activate=True)
    assert result.ok, result.message
    exam = await services.exams.import_exam(exam_admin, ExamImport(
        lms_setup_id=setup.id, quiz_id=COURSE, supporter_ids=[exam_admin.user_id]))
    return exam.id, exam_admin


def _checked(html: str, name: str) -> list[str]:
    return re.findall(rf'name="prop_{name}" value="([^"]+)" checked', html)


async def test_dialog_for_htmx_and_page_without_javascript(services: Services, client: httpx.AsyncClient) -> None:
    exam_id, _ = await _testing_exam(services)
    url = f"/exams/{exam_id}/restriction"
    await sign_in(client, "erika")
    view = await client.get(f"/exams/{exam_id}")
    assert f'hx-get="{url}" hx-target="#dialog-slot"' in view.text and 'id="restriction-card"' in view.text
    dialog = await client.get(url, headers=HX)
    assert dialog.status_code == 200 and "HX-Request" in dialog.headers["vary"]
    assert "<html" not in dialog.text
    assert '<dialog class="modal restriction-dialog"' in dialog.text and "data-modal" in dialog.text
    assert f'hx-post="{url}"' in dialog.text and "attach an exam configuration" in dialog.text
    page = await client.get(url)
    assert page.status_code == 200 and "<html" in page.text and "<dialog" not in page.text
    assert "<h1>SEB Restriction of Demo Quiz 11 (MOCKUP)</h1>" in page.text and 'id="restriction-form"' in page.text


async def test_dialog_shows_errors_in_place_and_saving_refreshes_the_card(
    services: Services, client: httpx.AsyncClient
) -> None:
    exam_id, exam_admin = await _testing_exam(services)
    url = f"/exams/{exam_id}/restriction"
    await sign_in(client, "erika")
    bad = await client.post(url, data={"browser_exam_keys": "not-a-key!"}, headers=HX)
    assert bad.status_code == 422 and "<html" not in bad.text
    assert 'id="restriction-dialog-body"' in bad.text and "not a Browser Exam Key" in bad.text
    assert 'class="field invalid"' in bad.text and "not-a-key!" in bad.text  # the input is kept
    assert "HX-Retarget" not in bad.headers  # the dialog stays open
    saved = await client.post(url, data={"browser_exam_keys": BEK}, headers=HX)
    assert saved.status_code == 200
    assert saved.headers["hx-retarget"] == "#dialog-slot" and saved.headers["hx-reswap"] == "innerHTML"
    assert "<dialog" not in saved.text  # the slot is emptied: the dialog closes
    assert 'id="restriction-card" hx-swap-oob="true"' in saved.text
    assert "SEB restriction details saved." in saved.text and "1 Browser Exam Key" in saved.text
    assert (await services.exams.restriction.details(exam_admin, exam_id)).browser_exam_keys == (BEK,)
    # Applied, saving pushes at once and the card says what the LMS did.
    await client.post(f"/exams/{exam_id}/restriction/apply")
    again = await client.post(url, data={"browser_exam_keys": f"{BEK}\n{'d' * 64}"}, headers=HX)
    assert "On the LMS: applied with 0 Config Keys and 2 Browser Exam Keys" in again.text
    [held] = [restriction for (_, quiz), restriction in restrictions().items() if quiz == "quiz11"]
    assert len(held.browser_exam_keys) == 2  # type: ignore[attr-defined]
    # Without JavaScript: a redirect with flash messages, as before.
    plain = await client.post(url, data={"browser_exam_keys": BEK}, follow_redirects=True)
    assert "SEB restriction details saved." in plain.text and "<h1>Exam Demo Quiz 11 (MOCKUP)</h1>" in plain.text


async def test_readers_get_the_dialog_without_save(services: Services, client: httpx.AsyncClient) -> None:
    exam_id, _ = await _testing_exam(services)
    await sign_in(client, "ia")  # institutional administrators read exams
    dialog = await client.get(f"/exams/{exam_id}/restriction", headers=HX)
    assert dialog.status_code == 200 and "Save Restriction Details" not in dialog.text and ">Close<" in dialog.text
    refused = await client.post(f"/exams/{exam_id}/restriction", data={"browser_exam_keys": BEK}, headers=HX)
    assert refused.status_code == 403


async def test_open_edx_chapters_are_picked_by_name(services: Services, client: httpx.AsyncClient,
                                                   lms: FakeOpenEdx) -> None:
    exam_id, exam_admin = await _open_edx_exam(services, lms)
    url = f"/exams/{exam_id}/restriction"
    await sign_in(client, "erika")
    dialog = await client.get(url, headers=HX)
    assert dialog.status_code == 200
    names = re.findall(r'name="prop_BLACKLIST_CHAPTERS" value="([^"]+)"\s*> ([^<\n]+)', dialog.text)
    assert [(value, name.strip()) for value, name in names] == [("c2", "Part B: Essay"),
                                                                  ("c1", "Part A: Multiple Choice")]
    assert _checked(dialog.text, "BLACKLIST_CHAPTERS") == []
    # Names shown, ids stored.
    saved = await client.post(url, data={"browser_exam_keys": "", "prop_BLACKLIST_CHAPTERS": ["c1", "c2"],
                                         "prop_WHITELIST_PATHS": ["courseware"], "prop_USER_BANNING_ENABLED": "true"},
                              headers=HX)
    assert saved.status_code == 200 and "SEB restriction details saved." in saved.text
    details = await services.exams.restriction.details(exam_admin, exam_id)
    assert details.properties == {"BLACKLIST_CHAPTERS": ["c1", "c2"], "WHITELIST_PATHS": ["courseware"],
                                  "USER_BANNING_ENABLED": "true"}
    # A chapter removed on the LMS stays visible, checked and marked, so saving again keeps it.
    lms.courses[0].chapters = [("c2", "Part B: Essay")]
    page = await client.get(url)
    assert _checked(page.text, "BLACKLIST_CHAPTERS") == ["c2", "c1"]
    assert re.search(r'<label class="check missing">.*?value="c1".*?not on the LMS', page.text, re.S)
    # Applying pushes the ids to seb-openedx.
    applied = await client.post(f"/exams/{exam_id}/restriction/apply", follow_redirects=True)
    assert "SEB restriction applied" in applied.text
    assert lms.restrictions[COURSE]["BLACKLIST_CHAPTERS"] == ["c1", "c2"]


async def test_open_edx_failure_falls_back_to_free_text(services: Services, client: httpx.AsyncClient,
                                                        lms: FakeOpenEdx) -> None:
    exam_id, exam_admin = await _open_edx_exam(services, lms)
    url = f"/exams/{exam_id}/restriction"
    await sign_in(client, "erika")
    lms.fail_status, lms.failure_path = 500, BLOCKS
    dialog = await client.get(url, headers=HX)
    assert dialog.status_code == 200
    failure = re.search(r"The chapters could not be listed: ([^<]+)\. Enter the ids instead\.", dialog.text)
    assert failure and "500" in failure.group(1), dialog.text
    assert '<textarea id="f-prop-BLACKLIST_CHAPTERS" name="prop_BLACKLIST_CHAPTERS"' in dialog.text
    assert 'name="prop_WHITELIST_PATHS" value="about"' in dialog.text  # the rest of the dialog is there
    saved = await client.post(url, data={"prop_BLACKLIST_CHAPTERS": "c1\n\n c9 \n"}, headers=HX)
    assert saved.status_code == 200 and "SEB restriction details saved." in saved.text
    details = await services.exams.restriction.details(exam_admin, exam_id)
    assert details.properties["BLACKLIST_CHAPTERS"] == ["c1", "c9"]
    # Too slow: the same fallback, with the free text filled in.
    lms.fail_status, lms.delay = None, 2.0
    services.exams.restriction.choices_timeout_seconds = 0.2
    slow = await client.get(url, headers=HX)
    assert slow.status_code == 200 and "did not answer within 0.2 s" in slow.text
    assert re.search(r'name="prop_BLACKLIST_CHAPTERS"[^>]*>c1\nc9</textarea>', slow.text)
    # A refused value keeps the free text and shows the error in place.
    lms.delay = 0.0
    bad = await client.post(url, data={"prop_BLACKLIST_CHAPTERS": "c1", "prop_WHITELIST_PATHS": "everything"},
                            headers=HX)
    assert bad.status_code == 422 and "&#39;everything&#39; is not one of" in bad.text
    assert _checked(bad.text, "BLACKLIST_CHAPTERS") == ["c1"]  # the LMS answers again: c1 is ticked



async def test_single_valued_lms_choices_render_as_a_select() -> None:
    macros = create_templates().env.get_template("exams/_restriction.html").module
    spec = RestrictionField("CHAPTER", "Chapter", choices_from=ChoiceSource.CHAPTERS)
    listed = FieldChoices((FieldOption("c1", "Intro"), FieldOption("old", "old", missing=True)))
    html = str(macros.lms_choice_field(spec, "old", listed, True))  # type: ignore[attr-defined]
    assert '<select id="f-prop-CHAPTER" name="prop_CHAPTER"' in html and '<option value="c1" >Intro</option>' in html
    assert '<option value="old" selected>old (not on the LMS)</option>' in html
    failed = FieldChoices(failure="HTTP 500")
    fallback = str(macros.lms_choice_field(spec, "c1", failed, True))  # type: ignore[attr-defined]
    assert "could not be listed: HTTP 500" in fallback
    assert '<input id="f-prop-CHAPTER" name="prop_CHAPTER" value="c1"' in fallback
