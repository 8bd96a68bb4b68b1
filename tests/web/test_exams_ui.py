"""Admin UI: exam import from the Testing LMS, the exam list and view, configuration, indicators, restriction,
edit and delete, and who may do what."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import LmsSetup
from sebframe.core.exams.schemas import ExamImport, ExamTemplateInput
from sebframe.core.sebconfig import decode_seb
from sebframe.core.sebconfig.exam_configs import ConfigStatus
from sebframe.core.services import Services
from sebframe.settings import Settings
from tests.conftest import Factory, sign_in
from tests.exam_helpers import add_testing_setup, exam_services, make_config_template, ready_config, restrictions

pytestmark = pytest.mark.anyio
HX = {"HX-Request": "true"}


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with exam_services(settings) as services:
        yield services


@dataclass
class Scene:
    services: Services
    client: httpx.AsyncClient
    exam_admin: Actor
    supporter: Actor
    other_supporter: Actor
    setup: LmsSetup
    factory: Factory

    async def exam(self, quiz_id: str = "quiz1", supporter: Actor | None = None):  # type: ignore[no-untyped-def]
        return await self.services.exams.import_exam(self.exam_admin, ExamImport(
            lms_setup_id=self.setup.id, quiz_id=quiz_id, supporter_ids=[(supporter or self.supporter).user_id]))


@pytest.fixture
async def scene(client: httpx.AsyncClient, factory: Factory, services: Services) -> Scene:
    eth = await factory.institution("ETH")
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    scene = Scene(services, client, await factory.actor(eth, "erika", Role.EXAM_ADMIN),
                  await factory.actor(eth, "sam", Role.EXAM_SUPPORTER),
                  await factory.actor(eth, "sue", Role.EXAM_SUPPORTER), await add_testing_setup(services, admin),
                  factory)
    return scene


def _import_url(scene: Scene, quiz_id: str) -> str:
    return f"/exams/import?lms_setup_id={scene.setup.id}&quiz_id={quiz(quiz_id)}"


def quiz(quiz_id: str) -> str:
    return quote(quiz_id, safe="")


def _exam_names(html: str) -> list[str]:
    return re.findall(r'<td><a href="/exams/\d+">([^<]+)</a>', html)


async def test_import_with_the_institutional_default_template(scene: Scene) -> None:
    services, client = scene.services, scene.client
    base = await make_config_template(services, scene.exam_admin)
    default = await services.exams.templates.create(scene.exam_admin, ExamTemplateInput(
        name="Finals", institutional_default=True, exam_type="MANAGED", configuration_template_id=base.id,
        supporter_ids=[scene.supporter.user_id]))
    await services.exams.templates.create(scene.exam_admin, ExamTemplateInput(name="Quizzes"))
    await sign_in(client, "erika")
    home = await client.get("/")
    assert 'href="/exams"' in home.text and 'href="/exam-templates"' in home.text
    page = await client.get(_import_url(scene, "quiz1"))
    assert page.status_code == 200
    assert "Demo Quiz 1 (MOCKUP)" in page.text and "Testing LMS" in page.text and "quiz1" in page.text
    assert "<p>Demo Quiz Mockup</p>" not in page.text and "Demo Quiz Mockup" in page.text  # LMS HTML as text
    assert f'<option value="{default.id}" selected>Finals (institutional default)</option>' in page.text
    assert '<option value="MANAGED" selected>' in page.text
    assert f'name="supporter_ids[]" value="{scene.supporter.user_id}" checked' in page.text
    # Choosing no template (htmx swaps the exam settings) empties the template's choices.
    none = await client.get(_import_url(scene, "quiz1") + "&exam_template_id=", headers=HX)
    assert '<option value="UNDEFINED" selected>' in none.text and "checked>" not in none.text.split("exam-settings")[1]
    # The supporter type-ahead leaves out who is chosen already.
    found = await client.get("/exams/supporter-search", params={"supporter_q": "s",
                                                                "supporter_ids[]": str(scene.supporter.user_id)})
    assert "(sue)" in found.text and "(sam)" not in found.text and "data-supporter-pick" in found.text
    saved = await client.post("/exams/import", data={
        "lms_setup_id": str(scene.setup.id), "quiz_id": "quiz1", "exam_template_id": str(default.id),
        "exam_type": "MANAGED", "supporter_ids[]": [str(scene.supporter.user_id), str(scene.other_supporter.user_id)]})
    assert saved.status_code == 303
    view = await client.get(saved.headers["location"])
    assert view.status_code == 200 and "Exam Demo Quiz 1 (MOCKUP) imported." in view.text
    assert "Managed Devices" in view.text and "(sam)" in view.text and "(sue)" in view.text
    assert "Demo Quiz 1 (MOCKUP)</a>" in view.text  # the configuration created from the template
    assert "Finals" in view.text and 'id="missing-setup"' not in view.text
    assert "Ping" in view.text and "Applied" in view.text
    assert "Release SEB Lock" in view.text and "Add Exam Configuration" not in view.text
    # Imported quizzes cannot be imported again; ended courses never.
    again = await client.get(_import_url(scene, "quiz1"))
    assert "imported already" in again.text and "Save Exam</button>" not in again.text
    ended = await client.get(_import_url(scene, "quiz3"))
    assert ended.status_code == 200 and "ended courses cannot be imported" in ended.text
    refused = await client.post("/exams/import", data={"lms_setup_id": str(scene.setup.id), "quiz_id": "quiz3",
                                                       "exam_type": "UNDEFINED"})
    assert refused.status_code == 422
    unknown = await client.get(_import_url(scene, "quiz99"))
    assert unknown.status_code == 422 and "has no quiz" in unknown.text
    assert (await client.get("/exams/import")).status_code == 404


async def test_import_needs_a_supporter_and_shows_field_errors(scene: Scene) -> None:
    await sign_in(scene.client, "erika")
    quiz_id = "quiz2 äöüèÜÄÖ ?<"
    page = await scene.client.get(_import_url(scene, quiz_id))
    assert page.status_code == 200 and "Demo Quiz 2 (MOCKUP) äöüèÜÄÖ ?&lt;" in page.text
    refused = await scene.client.post("/exams/import", data={"lms_setup_id": str(scene.setup.id), "quiz_id": quiz_id,
                                                             "exam_type": "BYOD"})
    assert refused.status_code == 422 and "choose at least one exam supporter" in refused.text
    assert '<option value="BYOD" selected>' in refused.text
    saved = await scene.client.post("/exams/import", data={
        "lms_setup_id": str(scene.setup.id), "quiz_id": quiz_id, "exam_type": "BYOD",
        "supporter_ids[]": str(scene.supporter.user_id)})
    assert saved.status_code == 303


async def test_list_view_and_missing_setup(scene: Scene) -> None:
    client = scene.client
    running = await scene.exam("quiz1")
    await scene.exam("quiz11", scene.other_supporter)
    await sign_in(client, "erika")
    page = await client.get("/exams")
    assert page.status_code == 200 and _exam_names(page.text) == ["Demo Quiz 1 (MOCKUP)", "Demo Quiz 11 (MOCKUP)"]
    assert 'class="missing-setup"' in page.text and "Missing: no exam configuration attached" in page.text
    assert "status-running" in page.text and "status-up_coming" in page.text
    assert 'data-flags="modifiable writable"' in page.text and 'href="/lms-lookup"' in page.text
    assert _exam_names((await client.get("/exams?status=UP_COMING")).text) == ["Demo Quiz 11 (MOCKUP)"]
    assert _exam_names((await client.get("/exams?name=quiz+1&sort=-name")).text) == ["Demo Quiz 11 (MOCKUP)",
                                                                                     "Demo Quiz 1 (MOCKUP)"]
    assert _exam_names((await client.get("/exams?start_from=2029-01-01")).text) == [
        "Demo Quiz 1 (MOCKUP)", "Demo Quiz 11 (MOCKUP)"]  # both never end
    bad = await client.get("/exams?start_from=soon")
    assert bad.status_code == 422 and "Start from" in bad.text
    assert (await client.get("/exams?status=NOPE")).status_code == 422
    view = await client.get(f"/exams/{running.id}")
    assert 'id="missing-setup"' in view.text and "no exam configuration attached" in view.text
    # A supporter sees only the exams assigned to them, and may edit but not delete.
    await sign_in(client, "sam")
    page = await client.get("/exams")
    assert _exam_names(page.text) == ["Demo Quiz 1 (MOCKUP)"] and 'data-flags="modifiable"' in page.text
    assert 'href="/lms-lookup"' not in page.text
    assert (await client.get(f"/exams/{running.id + 1}")).status_code == 404
    view = await client.get(f"/exams/{running.id}")
    assert "Edit Exam" in view.text and "Delete Exam" not in view.text and "Add Indicator" not in view.text
    assert (await client.get(f"/exams/{running.id}/delete")).status_code == 403
    assert (await client.get("/exam-templates")).status_code == 403


async def test_configuration_attach_export_key_and_remove(scene: Scene) -> None:
    services, client = scene.services, scene.client
    exam = await scene.exam("quiz1")
    await sign_in(client, "erika")
    empty = await client.get(f"/exams/{exam.id}/configuration")
    assert "no exam configuration that is Ready To Use" in empty.text
    configuration = await ready_config(services, scene.exam_admin, "Physics Final")
    page = await client.get(f"/exams/{exam.id}/configuration")
    assert f'<option value="{configuration.id}"' in page.text
    mismatch = await client.post(f"/exams/{exam.id}/configuration", data={
        "configuration_id": str(configuration.id), "password": "one", "confirm_password": "two"})
    assert mismatch.status_code == 422 and "confirmation differ" in mismatch.text
    attached = await client.post(f"/exams/{exam.id}/configuration", data={
        "configuration_id": str(configuration.id), "password": "exam-pw", "confirm_password": "exam-pw"})
    assert attached.status_code == 303
    view = await client.get(f"/exams/{exam.id}")
    assert "Physics Final" in view.text and "password protected" in view.text and "In Use" in view.text
    assert 'id="missing-setup"' not in view.text
    download = await client.get(f"/exams/{exam.id}/configuration/export")
    assert download.status_code == 200 and 'filename="SEBExamSettings.seb"' in download.headers["content-disposition"]
    key = decode_seb(download.content, password="exam-pw").config_key()
    dialog = await client.get(f"/exams/{exam.id}/configuration/config-key", headers=HX)
    assert "<dialog" in dialog.text and key in dialog.text
    assert restrictions()[(scene.setup.id, "quiz1")].config_keys == (key,)  # type: ignore[attr-defined]
    removed = await client.post(f"/exams/{exam.id}/configuration/remove")
    assert removed.status_code == 303
    assert (await services.exam_configs.get(scene.exam_admin, configuration.id)).status == ConfigStatus.READY_TO_USE
    again = await client.post(f"/exams/{exam.id}/configuration/remove", follow_redirects=True)
    assert "has no exam configuration" in again.text


async def test_indicator_editor(scene: Scene) -> None:
    exam = await scene.exam("quiz1")
    client = scene.client
    await sign_in(client, "erika")
    form = await client.get(f"/exams/{exam.id}/indicators/new")
    assert form.status_code == 200 and 'data-uses-tags="true"' in form.text and "&lt;battery&gt;" in form.text
    duplicate = await client.post(f"/exams/{exam.id}/indicators/new", data={
        "name": "Errors", "indicator_type": "ERROR_COUNT", "color": "#ffffff", "tags": "net",
        "threshold_value[]": ["2", "2", ""], "threshold_color[]": ["#ff0000", "#00ff00", "#ffc20e"]})
    assert duplicate.status_code == 422 and "must be unique" in duplicate.text
    bad_value = await client.post(f"/exams/{exam.id}/indicators/new", data={
        "name": "Errors", "indicator_type": "ERROR_COUNT", "threshold_value[]": ["two"],
        "threshold_color[]": ["#ff0000"]})
    assert bad_value.status_code == 422 and "threshold 1, value" in bad_value.text
    saved = await client.post(f"/exams/{exam.id}/indicators/new", data={
        "name": "Errors", "indicator_type": "ERROR_COUNT", "color": "#EEEEEE", "tags": "net, dns",
        "threshold_value[]": ["5", "1", ""], "threshold_color[]": ["#ff0000", "#ffc20e", "#ffc20e"]})
    assert saved.status_code == 303
    view = await client.get(f"/exams/{exam.id}")
    assert "Error-Log Counter" in view.text and "tags: net, dns" in view.text and "#eeeeee" in view.text
    [errors] = [row for row in await scene.services.exams.indicators.list(scene.exam_admin, exam.id)
                if row.name == "Errors"]
    edit = await client.get(f"/exams/{exam.id}/indicators/{errors.id}/edit")
    assert 'value="net, dns"' in edit.text and 'value="#ffc20e"' in edit.text
    changed = await client.post(f"/exams/{exam.id}/indicators/{errors.id}/edit", data={
        "name": "Errors", "indicator_type": "BATTERY_STATUS", "color": "#ffffff", "tags": "ignored",
        "threshold_value[]": ["20"], "threshold_color[]": ["#ff0000"]})
    assert changed.status_code == 303
    row = await scene.services.exams.indicators.get(scene.exam_admin, exam.id, errors.id)
    assert row.indicator_type == "BATTERY_STATUS" and row.tags == "<battery>"
    deleted = await client.post(f"/exams/{exam.id}/indicators/{errors.id}/delete")
    assert deleted.status_code == 303
    assert [i.name for i in await scene.services.exams.indicators.list(scene.exam_admin, exam.id)] == ["Ping"]


async def test_restriction_details_apply_release(scene: Scene) -> None:
    exam = await scene.exam("quiz11")  # up-coming: not restricted
    client = scene.client
    await sign_in(client, "erika")
    view = await client.get(f"/exams/{exam.id}")
    assert "Not applied" in view.text and "Apply SEB Lock" in view.text
    page = await client.get(f"/exams/{exam.id}/restriction")
    assert page.status_code == 200 and "attach an exam configuration" in page.text
    bad = await client.post(f"/exams/{exam.id}/restriction", data={"browser_exam_keys": "not-a-key!"})
    assert bad.status_code == 422 and "not a Browser Exam Key" in bad.text
    bek = "c" * 64
    saved = await client.post(f"/exams/{exam.id}/restriction", data={"browser_exam_keys": bek})
    assert saved.status_code == 303
    applied = await client.post(f"/exams/{exam.id}/restriction/apply", data={"next": f"/exams/{exam.id}"},
                                follow_redirects=True)
    assert "SEB restriction applied with 0 Config Keys and 1 Browser Exam Key" in applied.text
    assert restrictions()[(scene.setup.id, "quiz11")].browser_exam_keys == (bek,)  # type: ignore[attr-defined]
    released = await client.post(f"/exams/{exam.id}/restriction/release", follow_redirects=True)
    assert "SEB restriction released" in released.text and (scene.setup.id, "quiz11") not in restrictions()


async def test_edit_and_delete(scene: Scene) -> None:
    exam = await scene.exam("quiz1")
    client = scene.client
    await sign_in(client, "sam")  # an assigned supporter may edit
    form = await client.get(f"/exams/{exam.id}/edit")
    assert form.status_code == 200 and "supporter-search" in form.text
    refused = await client.post(f"/exams/{exam.id}/edit", data={"exam_type": "VDI"})
    assert refused.status_code == 422 and "at least one exam supporter" in refused.text
    saved = await client.post(f"/exams/{exam.id}/edit", data={
        "exam_type": "VDI", "supporter_ids[]": [str(scene.supporter.user_id), str(scene.other_supporter.user_id)]})
    assert saved.status_code == 303
    assert "VDI (Virtual Desktop Infrastructure)" in (await client.get(f"/exams/{exam.id}")).text
    await sign_in(client, "erika")
    report = await client.get(f"/exams/{exam.id}/delete")
    assert report.status_code == 200 and "Ping" in report.text and "Sam Tester (sam)" in report.text
    assert "is released" in report.text
    deleted = await client.post(f"/exams/{exam.id}/delete", follow_redirects=True)
    assert "Exam Demo Quiz 1 (MOCKUP) deleted." in deleted.text
    assert (scene.setup.id, "quiz1") not in restrictions()
    assert (await client.get(f"/exams/{exam.id}")).status_code == 404


async def test_readers_and_other_institutions(scene: Scene) -> None:
    exam = await scene.exam("quiz1")
    client = scene.client
    await sign_in(client, "ia")  # institutional administrators read
    view = await client.get(f"/exams/{exam.id}")
    assert view.status_code == 200 and "Edit Exam" not in view.text and "Apply SEB Lock" not in view.text
    assert (await client.post(f"/exams/{exam.id}/edit", data={"exam_type": "VDI"})).status_code == 403
    assert (await client.post(f"/exams/{exam.id}/restriction/release")).status_code == 403
    assert (await scene.services.exams.get(scene.exam_admin, exam.id)).restriction_applied
    assert (await client.get(f"/exams/{exam.id}/indicators/new")).status_code == 403
    refused = await client.post(f"/exams/{exam.id}/indicators/new", data={"name": "X", "indicator_type": "LAST_PING"})
    assert refused.status_code == 403
    uzh = await scene.factory.institution("UZH")
    await scene.factory.user(uzh, "ursula", Role.EXAM_ADMIN)
    await sign_in(client, "ursula")
    assert (await client.get(f"/exams/{exam.id}")).status_code == 404
    assert _exam_names((await client.get("/exams")).text) == []
    assert (await client.get(_import_url(scene, "quiz5"))).status_code == 404


async def test_edit_seb_client_checks(scene: Scene) -> None:
    exam = await scene.exam("quiz1")
    client = scene.client
    await sign_in(client, "erika")
    form = await client.get(f"/exams/{exam.id}/edit")
    assert "SEB client checks" in form.text and 'name="signature_key_trust_threshold"' in form.text
    assert 'name="signature_key_trust_threshold" type="number" value="2"' in form.text
    people = [str(scene.supporter.user_id)]
    grant = "0123456789abcdef" * 4
    bad = await client.post(f"/exams/{exam.id}/edit", data={
        "exam_type": "BYOD", "supporter_ids[]": people, "signature_key_check_enabled": "1",
        "signature_key_trust_threshold": "3", "signature_key_grants": f"{grant}\nnot-a-hash",
        "allowed_seb_versions": "Win.3.5.0.min, Mac.3", "alternative_bek": ""})
    assert bad.status_code == 422
    assert "&#39;not-a-hash&#39; is not an app signature key hash" in bad.text
    assert "&#39;Mac.3&#39; is not a SEB version: major and minor version are required" in bad.text
    assert "Win.3.5.0.min, Mac.3" in bad.text  # the input is kept
    assert 'name="signature_key_check_enabled" value="1" checked' in bad.text
    unchanged = await scene.services.exams.get(scene.exam_admin, exam.id)
    assert not unchanged.signature_key_check_enabled and unchanged.exam_type == "UNDEFINED"
    saved = await client.post(f"/exams/{exam.id}/edit", data={
        "exam_type": "BYOD", "supporter_ids[]": people, "signature_key_check_enabled": "1",
        "signature_key_trust_threshold": "3", "signature_key_grants": grant,
        "allowed_seb_versions": "Win.3.5.0.min, mac.3.3", "alternative_bek": "b" * 64})
    assert saved.status_code == 303
    view = (await client.get(f"/exams/{exam.id}")).text
    assert "SEB Client Checks" in view and grant in view and "Win.3.5.0.min, Mac.3.3" in view and "b" * 64 in view
    again = (await client.get(f"/exams/{exam.id}/edit")).text
    assert 'name="signature_key_check_enabled" value="1" checked' in again and f">{grant}</textarea>" in again
    # An unticked box switches the check off; the other fields stay as posted.
    await client.post(f"/exams/{exam.id}/edit", data={
        "exam_type": "BYOD", "supporter_ids[]": people, "signature_key_trust_threshold": "3",
        "signature_key_grants": grant, "allowed_seb_versions": "", "alternative_bek": ""})
    stored = await scene.services.exams.get(scene.exam_admin, exam.id)
    assert not stored.signature_key_check_enabled and stored.allowed_seb_versions == ""
    assert stored.alternative_bek is None and stored.signature_key_trust_threshold == 3


async def test_the_import_form_names_no_account_of_another_institution(scene: Scene) -> None:
    other = await scene.factory.institution("UZH")
    mallory = await scene.factory.user(other, "mallory", Role.EXAM_SUPPORTER)
    await sign_in(scene.client, "erika")
    refused = await scene.client.post("/exams/import", data={
        "lms_setup_id": str(scene.setup.id), "quiz_id": "quiz1", "exam_type": "NO_SUCH_TYPE",
        "supporter_ids[]": [str(scene.supporter.user_id), str(mallory.id)]})
    assert refused.status_code == 422
    assert f'name="supporter_ids[]" value="{scene.supporter.user_id}" checked' in refused.text
    assert "mallory" not in refused.text.lower()
