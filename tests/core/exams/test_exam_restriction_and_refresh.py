"""SEB restriction details and the refresh task: course data, status transitions, automatic apply/release,
with the Testing LMS and with the real Open edX plugin against the fake Open edX server."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
import sebframe_lms_openedx.plugin
from sqlalchemy import update

from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import Exam, LmsSetup
from sebframe.core.errors import Conflict, PermissionDenied, ValidationFailed
from sebframe.core.exams import ExamStatus
from sebframe.core.exams.schemas import ConfigurationAttach, ExamImport, RestrictionUpdate
from sebframe.core.lms.schemas import LmsSetupInput
from sebframe.core.validation import parse_input
from sebframe.settings import Settings
from sebframe.testing.fakes.openedx import FakeCourse, FakeOpenEdx
from sebframe.types import ChoiceSource, RestrictionField
from tests.conftest import Factory
from tests.core.exams.conftest import World
from tests.exam_helpers import exam_services, ready_config, restrictions

pytestmark = pytest.mark.anyio
BEK = "a" * 64


async def _import(exam_world: World, quiz_id: str):  # type: ignore[no-untyped-def]
    return await exam_world.services.exams.import_exam(exam_world.exam_admin, ExamImport(
        lms_setup_id=exam_world.setup.id, quiz_id=quiz_id, supporter_ids=[exam_world.supporter.user_id]))


async def _set(exam_world: World, exam_id: int, **values: object) -> None:
    async with exam_world.services.db.transaction() as session:
        await session.execute(update(Exam).where(Exam.id == exam_id).values(**values))


async def test_restriction_details_apply_and_release(exam_world: World) -> None:
    services = exam_world.services
    restriction = services.exams.restriction
    exam = await _import(exam_world, "quiz11")  # up-coming: not restricted yet
    details = await restriction.details(exam_world.supporter, exam.id)
    assert details.supported and not details.applied and details.config_keys == () and details.fields == ()
    details, outcome = await restriction.update(exam_world.exam_admin, exam.id, RestrictionUpdate(
        browser_exam_keys=f"{BEK}, {'b' * 64}\n{BEK}"))  # type: ignore[arg-type]
    assert details.browser_exam_keys == (BEK, "b" * 64) and outcome is None  # not applied: nothing pushed
    with pytest.raises(ValidationFailed, match="not a Browser Exam Key"):
        parse_input(RestrictionUpdate, {"browser_exam_keys": ["not a key!"]})
    with pytest.raises(ValidationFailed, match="not a restriction property"):
        await restriction.update(exam_world.exam_admin, exam.id, RestrictionUpdate(properties={"WHITELIST_PATHS": "x"}))
    applied = await restriction.apply(exam_world.exam_admin, exam.id)
    assert applied.ok and "1 Browser Exam Key" not in applied.message and "2 Browser Exam Keys" in applied.message
    stored = restrictions()[(exam_world.setup.id, "quiz11")]
    assert stored.browser_exam_keys == (BEK, "b" * 64)  # type: ignore[attr-defined]
    # Changing the keys of an applied restriction pushes them at once.
    _, outcome = await restriction.update(exam_world.supporter, exam.id, RestrictionUpdate(browser_exam_keys=[BEK]))
    assert outcome is not None and outcome.ok
    assert restrictions()[(exam_world.setup.id, "quiz11")].browser_exam_keys == (BEK,)  # type: ignore[attr-defined]
    with pytest.raises(PermissionDenied):
        await restriction.apply(exam_world.admin, exam.id)
    released = await restriction.release(exam_world.supporter, exam.id)
    assert released.ok and (exam_world.setup.id, "quiz11") not in restrictions()
    details = await restriction.details(exam_world.exam_admin, exam.id)
    assert not details.applied and "released" in details.message
    # An inactive LMS setup: applying is refused with the reason.
    async with services.db.transaction() as session:
        await session.execute(update(LmsSetup).where(LmsSetup.id == exam_world.setup.id).values(active=False))
    with pytest.raises(Conflict, match="inactive"):
        await restriction.apply(exam_world.exam_admin, exam.id)


async def test_refresh_updates_course_data_status_and_restriction(exam_world: World) -> None:
    services = exam_world.services
    running = await _import(exam_world, "quiz6")  # since 2019, ends a year or more from now
    upcoming = await _import(exam_world, "quiz11")  # starts five minutes after the Testing LMS was loaded
    assert (exam_world.setup.id, "quiz6") in restrictions() and (exam_world.setup.id, "quiz11") not in restrictions()
    await _set(exam_world, running.id, name="Old Name", description="", start_url="http://old/")
    report = await services.exams.refresher.run_once()
    assert report.updated == [running.id] and report.started == [] and report.failures == {}
    refreshed = await services.exams.get(exam_world.exam_admin, running.id)
    assert refreshed.name == "Demo Quiz 6 (MOCKUP)" and refreshed.start_url == "http://lms.mockup.com/api/"
    assert refreshed.quiz_refreshed_at is not None
    # Time passes: quiz 11 starts (restricted), then quiz 6 ends (released).
    later = datetime.now(UTC) + timedelta(minutes=10)
    report = await services.exams.refresher.run_once(now=later)
    assert report.started == [upcoming.id]
    assert (await services.exams.get(exam_world.exam_admin, upcoming.id)).status == ExamStatus.RUNNING
    assert (exam_world.setup.id, "quiz11") in restrictions()
    assert running.end_time is not None
    report = await services.exams.refresher.run_once(now=running.end_time + timedelta(days=1))
    assert report.finished == [running.id]
    finished = await services.exams.get(exam_world.exam_admin, running.id)
    assert finished.status == ExamStatus.FINISHED and not finished.restriction_applied
    assert (exam_world.setup.id, "quiz6") not in restrictions()
    # A quiz the LMS no longer has, or an LMS setup that is gone inactive: the exam is marked unavailable.
    await _set(exam_world, upcoming.id, external_id="quiz-gone")
    report = await services.exams.refresher.run_once(now=later)
    assert upcoming.id in report.unavailable
    gone = await services.exams.details(exam_world.exam_admin, upcoming.id)
    assert not gone.exam.lms_available and "the LMS is not available" in gone.missing


async def test_refresh_survives_a_broken_lms_and_runs_as_a_task(exam_world: World) -> None:
    services = exam_world.services
    exam = await _import(exam_world, "quiz1")

    def broken(setup):  # type: ignore[no-untyped-def]
        raise ValueError("Expecting value: line 1 column 1")

    original = services.lms_setups.adapter
    services.lms_setups.adapter = broken  # type: ignore[method-assign]
    try:
        report = await services.exams.refresher.run_once()
    finally:
        services.lms_setups.adapter = original  # type: ignore[method-assign]
    assert exam_world.setup.id in report.failures and report.unavailable == [exam.id]
    assert not (await services.exams.get(exam_world.exam_admin, exam.id)).lms_available
    refresher = services.exams.refresher
    refresher.interval_seconds = 0.05
    refresher.start()
    assert refresher.running
    for _ in range(500):  # the task's first round marks the exam available again (up to 10 s on a busy machine)
        if (await services.exams.get(exam_world.exam_admin, exam.id)).lms_available:
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the refresh task did not run")
    await refresher.stop()
    assert not refresher.running


async def test_open_edx_restriction_lifecycle_through_the_plugin(settings: Settings) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    courses = [FakeCourse("course-v1:ETH+Running+2026", "Running Exam", now - timedelta(days=1), None),
               FakeCourse("course-v1:ETH+Later+2026", "Later Exam", now + timedelta(hours=1), now + timedelta(hours=3))]
    with FakeOpenEdx(courses=courses) as lms:
        async with exam_services(settings, sebframe_lms_openedx.plugin) as services:
            factory = Factory(services)
            eth = await factory.institution("ETH")
            admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
            exam_admin = await factory.actor(eth, "erika", Role.EXAM_ADMIN)
            setup, result = await services.lms_setups.create(admin, LmsSetupInput(
                name="Open edX", lms_type="OPEN_EDX", url=lms.url,
                settings={"client_id": lms.client_id, "client_secret": lms.client_secret}), activate=True)
            assert result.ok, result.message
            running = await services.exams.import_exam(exam_admin, ExamImport(
                lms_setup_id=setup.id, quiz_id="course-v1:ETH+Running+2026", supporter_ids=[exam_admin.user_id]))
            # Imported while running: restricted at once, seb-openedx's default permissions.
            stored = lms.restrictions["course-v1:ETH+Running+2026"]
            assert stored["CONFIG_KEYS"] == [] and stored["PERMISSION_COMPONENTS"] == ["AlwaysAllowStaff"]
            details = await services.exams.restriction.details(exam_admin, running.id)
            assert [field.name for field in details.fields][:1] == ["WHITELIST_PATHS"]
            details, outcome = await services.exams.restriction.update(exam_admin, running.id, RestrictionUpdate(
                browser_exam_keys=[BEK], properties={"WHITELIST_PATHS": ["about", "progress"],
                                                     "USER_BANNING_ENABLED": "true"}))
            assert outcome is not None and outcome.ok
            assert details.properties == {"WHITELIST_PATHS": ["about", "progress"], "USER_BANNING_ENABLED": "true"}
            with pytest.raises(ValidationFailed, match="not one of"):
                await services.exams.restriction.update(exam_admin, running.id, RestrictionUpdate(
                    properties={"WHITELIST_PATHS": ["everything"]}))
            configuration = await ready_config(services, exam_admin)
            await services.exams.configuration.attach(exam_admin, running.id,
                                                      ConfigurationAttach(configuration_id=configuration.id))
            key = await services.exams.configuration.config_key(exam_admin, running.id)
            stored = lms.restrictions["course-v1:ETH+Running+2026"]
            assert stored["CONFIG_KEYS"] == [key] and stored["BROWSER_KEYS"] == [BEK]
            assert stored["WHITELIST_PATHS"] == ["about", "progress"] and stored["USER_BANNING_ENABLED"] is True
            assert stored["PERMISSION_COMPONENTS"] == ["AlwaysAllowStaff", "CheckSEBHashConfigKey",
                                                       "CheckSEBHashBrowserExamKey"]
            await services.exam_configs.working_copy.set_value(exam_admin, configuration.id, "allowQuit", "false")
            await services.exam_configs.revisions.publish(exam_admin, configuration.id)
            new_key = await services.exams.configuration.config_key(exam_admin, running.id)
            assert lms.restrictions["course-v1:ETH+Running+2026"]["CONFIG_KEYS"] == [new_key] != [key]

            later = await services.exams.import_exam(exam_admin, ExamImport(
                lms_setup_id=setup.id, quiz_id="course-v1:ETH+Later+2026", supporter_ids=[exam_admin.user_id]))
            assert "course-v1:ETH+Later+2026" not in lms.restrictions
            # The course moves on the LMS; the refresh follows, starts and ends the exam.
            lms.courses[1].name = "Later Exam (moved)"
            report = await services.exams.refresher.run_once(now=now + timedelta(hours=2))
            assert later.id in report.updated and later.id in report.started and report.failures == {}
            assert (await services.exams.get(exam_admin, later.id)).name == "Later Exam (moved)"
            assert "course-v1:ETH+Later+2026" in lms.restrictions
            report = await services.exams.refresher.run_once(now=now + timedelta(hours=4))
            assert report.finished == [later.id]
            assert "course-v1:ETH+Later+2026" not in lms.restrictions
            # An LMS failure is recorded with its reason, and the request does not fail.
            lms.fail_status, lms.failure_path = 500, "/seb-openedx/"
            outcome = await services.exams.restriction.reapply_if_applied(running.id, "test")
            assert outcome is not None and not outcome.ok and "HTTP 500" in outcome.message
            message = (await services.exams.restriction.details(exam_admin, running.id)).message
            assert "apply failed" in message and "HTTP 500" in message
            with pytest.raises(Conflict, match="HTTP 500"):
                await services.exams.restriction.apply(exam_admin, running.id)
            lms.fail_status = None
            report = await services.exams.delete(exam_admin, running.id)
            assert report.warnings == [] and "course-v1:ETH+Running+2026" not in lms.restrictions
            assert json.loads(json.dumps(report.indicators)) == ["Ping"]


async def test_deactivating_the_lms_setup_releases_the_restrictions(exam_world: World) -> None:
    running = await _import(exam_world, "quiz6")  # running: restricted on import
    assert (exam_world.setup.id, "quiz6") in restrictions()
    report = await exam_world.services.lms_setups.deactivate(exam_world.admin, exam_world.setup.id)
    assert (running.id, running.name) in report.exams
    assert (exam_world.setup.id, "quiz6") not in restrictions()
    async with exam_world.services.db.read() as session:
        exam = await session.get(Exam, running.id)
    assert exam is not None and not exam.active and not exam.restriction_applied


async def test_chapter_choices_come_from_the_open_edx_course(settings: Settings) -> None:
    course = "course-v1:ETH+Chapters+2030"
    chapters = [("c2", "Part B: Essay"), ("c1", "Part A: Multiple Choice")]  # outline order, not by name
    with FakeOpenEdx(courses=[FakeCourse(course, "Chapters Exam", "2030-01-01T08:00:00Z", None,
                                         chapters=chapters)]) as lms:
        async with exam_services(settings, sebframe_lms_openedx.plugin) as services:
            factory = Factory(services)
            eth = await factory.institution("ETH")
            admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
            exam_admin = await factory.actor(eth, "erika", Role.EXAM_ADMIN)
            setup, result = await services.lms_setups.create(admin, LmsSetupInput(
                name="Open edX", lms_type="OPEN_EDX", url=lms.url,
                settings={"client_id": lms.client_id, "client_secret": lms.client_secret}), activate=True)
            assert result.ok, result.message
            exam = await services.exams.import_exam(exam_admin, ExamImport(
                lms_setup_id=setup.id, quiz_id=course, supporter_ids=[exam_admin.user_id]))
            restriction = services.exams.restriction
            # Ids are stored as given, without asking the LMS: one of them is no chapter of the course.
            await restriction.update(exam_admin, exam.id, RestrictionUpdate(
                properties={"BLACKLIST_CHAPTERS": ["c1", "gone"]}))
            choices = await restriction.lms_choices(exam_admin, exam.id)
            assert list(choices) == ["BLACKLIST_CHAPTERS"]
            field = choices["BLACKLIST_CHAPTERS"]
            assert field.failure == ""
            assert [(o.value, o.label, o.missing) for o in field.options] == [
                ("c2", "Part B: Essay", False), ("c1", "Part A: Multiple Choice", False), ("gone", "gone", True)]
            [blocks] = lms.requests_to("/api/courses/v1/blocks/")
            assert blocks.query["course_id"] == course  # the exam's external id is the Open edX course id
            # Posted values (a form shown again) are kept instead of the stored ones.
            posted = await restriction.lms_choices(exam_admin, exam.id, {"BLACKLIST_CHAPTERS": ["other"]})
            assert [o.value for o in posted["BLACKLIST_CHAPTERS"].options if o.missing] == ["other"]
            # The LMS fails or is too slow: the reason, no options, never an exception.
            lms.fail_status, lms.failure_path = 500, "/api/courses/v1/blocks/"
            failed = (await restriction.lms_choices(exam_admin, exam.id))["BLACKLIST_CHAPTERS"]
            assert failed.options == () and "500" in failed.failure
            lms.fail_status, lms.delay = None, 2.0
            restriction.choices_timeout_seconds = 0.2
            slow = (await restriction.lms_choices(exam_admin, exam.id))["BLACKLIST_CHAPTERS"]
            assert slow.failure == "the LMS did not answer within 0.2 s"
            lms.delay = 0.0
            # An inactive LMS setup is not asked.
            async with services.db.transaction() as session:
                await session.execute(update(LmsSetup).where(LmsSetup.id == setup.id).values(active=False))
            inactive = (await restriction.lms_choices(exam_admin, exam.id))["BLACKLIST_CHAPTERS"]
            assert "inactive" in inactive.failure


async def test_restriction_types_without_lms_choices(exam_world: World) -> None:
    exam = await _import(exam_world, "quiz11")
    assert await exam_world.services.exams.restriction.lms_choices(exam_world.supporter, exam.id) == {}
    with pytest.raises(ValueError, match="not both"):
        RestrictionField("X", "X", ("a",), choices_from=ChoiceSource.CHAPTERS)
    assert RestrictionField("X", "X", choices_from="chapters").choices_from is ChoiceSource.CHAPTERS  # type: ignore[arg-type]
