"""Importing quizzes of the Testing LMS as exams: with and without an exam template, and what is refused."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from sebframe.core.db.models import Exam, ExamConfiguration, ExamConfigurationMapping, Indicator
from sebframe.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sebframe.core.exams import ExamStatus, status_at
from sebframe.core.exams.schemas import ExamImport, ExamTemplateInput, IndicatorInput
from sebframe.core.sebconfig.exam_configs import ConfigStatus
from tests.core.exams.conftest import World
from tests.exam_helpers import add_testing_setup, make_config_template, restrictions

pytestmark = pytest.mark.anyio


def _import(exam_world: World, quiz_id: str = "quiz1", **fields: object) -> ExamImport:
    fields.setdefault("supporter_ids", [exam_world.supporter.user_id])
    return ExamImport(lms_setup_id=exam_world.setup.id, quiz_id=quiz_id, **fields)  # type: ignore[arg-type]


async def _indicators(exam_world: World, exam_id: int) -> list[Indicator]:
    async with exam_world.services.db.read() as session:
        return list((await session.execute(select(Indicator).where(Indicator.exam_id == exam_id)
                                           .order_by(Indicator.id))).scalars())


def test_status_follows_start_and_end() -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    hour = timedelta(hours=1)
    assert status_at(now + hour, None, now) == ExamStatus.UP_COMING
    assert status_at(now - hour, None, now) == ExamStatus.RUNNING
    assert status_at(None, None, now) == ExamStatus.RUNNING
    assert status_at(now - hour, now + hour, now) == ExamStatus.RUNNING
    assert status_at(now - 2 * hour, now, now) == ExamStatus.FINISHED
    assert status_at(now + hour, now + 2 * hour, now) == ExamStatus.UP_COMING


async def test_import_without_template_gets_the_default_ping_indicator(exam_world: World) -> None:
    services = exam_world.services
    exam = await services.exams.import_exam(exam_world.exam_admin, _import(exam_world, "quiz1", exam_type="BYOD"))
    assert exam.name == "Demo Quiz 1 (MOCKUP)" and exam.external_id == "quiz1"
    assert exam.status == ExamStatus.RUNNING and exam.exam_type == "BYOD" and exam.lms_available
    assert exam.owner_id == exam_world.exam_admin.user_id and exam.start_url == "http://lms.mockup.com/api/"
    assert exam.description == "<p>Demo Quiz Mockup</p>" and exam.end_time is None
    [ping] = await _indicators(exam_world, exam.id)
    assert (ping.name, ping.indicator_type, ping.color) == ("Ping", "LAST_PING", "ffffff")
    assert json.loads(ping.thresholds) == [{"value": 5000, "color": "ffc20e"}, {"value": 10000, "color": "ff7e00"},
                                           {"value": 15000, "color": "ed1c24"}]
    details = await services.exams.details(exam_world.exam_admin, exam.id)
    assert [user.username for user in details.supporters] == ["sam"]
    assert details.template is None and details.restriction_supported
    # A running exam is restricted on the LMS at once (no configuration yet: no Config Key).
    stored = restrictions()[(exam_world.setup.id, "quiz1")]
    assert stored.config_keys == ()  # type: ignore[attr-defined]
    assert (await services.exams.get(exam_world.exam_admin, exam.id)).restriction_applied
    assert details.missing == ["no exam configuration attached"]
    upcoming = await services.exams.import_exam(exam_world.exam_admin, _import(exam_world, "quiz11"))
    assert upcoming.status == ExamStatus.UP_COMING and (exam_world.setup.id, "quiz11") not in restrictions()
    assert await services.exams.missing_setup(exam_world.exam_admin, upcoming.id) == []


def _dated(name: str) -> tuple[date, str]:
    """A generated configuration name: (its date, the rest)."""
    day, _, rest = name.partition(" ")
    return date.fromisoformat(day), rest


async def test_import_with_template_applies_type_supporters_indicators_and_configuration(exam_world: World) -> None:
    first_day = datetime.now(UTC).date()  # the names carry the day of the import (midnight may pass meanwhile)
    services = exam_world.services
    base = await make_config_template(services, exam_world.exam_admin, "Strict Template")
    template = await services.exams.templates.create(exam_world.exam_admin, ExamTemplateInput(
        name="Final Exams", exam_type="MANAGED", configuration_template_id=base.id, institutional_default=True,
        supporter_ids=[exam_world.supporter.user_id, exam_world.other_supporter.user_id],
        indicators=[IndicatorInput(name="Errors", indicator_type="ERROR_COUNT", color="#FF0000", tags=["net"],
                                   thresholds=[{"value": 5, "color": "ff0000"}, {"value": 1, "color": "ffc20e"}])],
    ))
    exam = await services.exams.import_exam(exam_world.exam_admin, ExamImport(
        lms_setup_id=exam_world.setup.id, quiz_id="quiz4", exam_template_id=template.id))
    assert exam.exam_type == "MANAGED" and exam.exam_template_id == template.id
    [errors] = await _indicators(exam_world, exam.id)
    assert (errors.name, errors.indicator_type, errors.color, errors.tags) == ("Errors", "ERROR_COUNT", "ff0000", "net")
    assert json.loads(errors.thresholds) == [{"value": 1, "color": "ffc20e"}, {"value": 5, "color": "ff0000"}]
    details = await services.exams.details(exam_world.exam_admin, exam.id)
    assert sorted(user.username for user in details.supporters) == ["sam", "sue"]
    assert details.template is not None and details.template.name == "Final Exams"
    attached = await services.exams.configuration.attached(exam_world.exam_admin, exam.id)
    assert attached is not None and not attached.password_set
    configuration = attached.configuration
    day, rest = _dated(configuration.name)
    assert rest == "Demo Quiz 4 (MOCKUP)" and first_day <= day <= datetime.now(UTC).date()
    assert configuration.status == ConfigStatus.IN_USE and configuration.template_id == base.id
    assert "Final Exams" in configuration.description
    values = await services.exam_configs.files.published_values(exam_world.exam_admin, configuration.id)
    assert values["allowQuit"] == "false"  # the configuration template's published settings
    # The exam was running on import: restricted with the new configuration's Config Key.
    key = await services.exams.configuration.config_key(exam_world.exam_admin, exam.id)
    assert restrictions()[(exam_world.setup.id, "quiz4")].config_keys == (key,)  # type: ignore[attr-defined]
    assert details.missing == []
    # The explicit choices of the import form win over the template's.
    other = await services.exams.import_exam(exam_world.exam_admin, ExamImport(
        lms_setup_id=exam_world.setup.id, quiz_id="quiz5", exam_template_id=template.id, exam_type="VDI",
        supporter_ids=[exam_world.other_supporter.user_id]))
    other_config = await services.exams.configuration.attached(exam_world.exam_admin, other.id)
    assert other.exam_type == "VDI" and other_config is not None
    other_day, rest = _dated(other_config.configuration.name)
    assert rest == "Demo Quiz 5 (MOCKUP)" and day <= other_day <= datetime.now(UTC).date()
    assert [u.username for u in (await services.exams.details(exam_world.exam_admin, other.id)).supporters] == ["sue"]


async def test_ended_duplicate_and_unusable_imports_are_refused(exam_world: World) -> None:
    services, admin = exam_world.services, exam_world.exam_admin
    with pytest.raises(ValidationFailed) as ended:
        await services.exams.import_exam(admin, _import(exam_world, "quiz3"))
    assert "ended" in ended.value.field_errors["quiz_id"]
    preview = await services.exams.preview_import(admin, exam_world.setup.id, "quiz3")
    assert preview.refusal and "ended courses cannot be imported" in preview.refusal
    first = await services.exams.import_exam(admin, _import(exam_world, "quiz2 äöüèÜÄÖ ?<"))
    assert first.name == "Demo Quiz 2 (MOCKUP) äöüèÜÄÖ ?<"
    with pytest.raises(Conflict, match="imported already"):
        await services.exams.import_exam(admin, _import(exam_world, "quiz2 äöüèÜÄÖ ?<"))
    again = await services.exams.preview_import(admin, exam_world.setup.id, "quiz2 äöüèÜÄÖ ?<")
    assert again.imported_exam_id == first.id and again.refusal and "imported already" in again.refusal
    with pytest.raises(ValidationFailed, match="has no quiz"):
        await services.exams.import_exam(admin, _import(exam_world, "quiz99"))
    with pytest.raises(ValidationFailed, match="at least one exam supporter"):
        await services.exams.import_exam(admin, _import(exam_world, "quiz6", supporter_ids=[]))
    foreign_user = await exam_world.factory.user(exam_world.uzh, "ulrich")
    with pytest.raises(ValidationFailed, match="not a user of this institution"):
        await services.exams.import_exam(admin, _import(exam_world, "quiz6", supporter_ids=[foreign_user.id]))
    inactive = await add_testing_setup(services, exam_world.admin, "Sleeping LMS", active=False)
    with pytest.raises(ValidationFailed, match="inactive"):
        await services.exams.import_exam(admin, ExamImport(lms_setup_id=inactive.id, quiz_id="quiz6",
                                                           supporter_ids=[exam_world.supporter.user_id]))
    with pytest.raises(PermissionDenied):
        await services.exams.import_exam(exam_world.admin, _import(exam_world, "quiz6"))
    with pytest.raises(PermissionDenied):
        await services.exams.import_exam(exam_world.supporter, _import(exam_world, "quiz6"))
    with pytest.raises(NotFound):  # another institution's LMS setup
        await services.exams.import_exam(exam_world.foreign, _import(exam_world, "quiz6"))
    async with services.db.read() as session:
        names = [row.name for row in await session.execute(select(Exam.name))]
        configs = (await session.execute(select(ExamConfiguration))).scalars().all()
        mappings = (await session.execute(select(ExamConfigurationMapping))).scalars().all()
    assert names == ["Demo Quiz 2 (MOCKUP) äöüèÜÄÖ ?<"] and configs == [] and mappings == []


async def test_a_failed_import_leaves_no_configuration_behind(exam_world: World) -> None:
    services = exam_world.services
    base = await make_config_template(services, exam_world.exam_admin)
    template = await services.exams.templates.create(exam_world.exam_admin, ExamTemplateInput(
        name="With Config", configuration_template_id=base.id))
    with pytest.raises(ValidationFailed, match="not a user of this institution"):
        await services.exams.import_exam(exam_world.exam_admin, ExamImport(
            lms_setup_id=exam_world.setup.id, quiz_id="quiz1", exam_template_id=template.id, supporter_ids=[999999]))
    async with services.db.read() as session:
        kinds = [row.kind for row in await session.execute(select(ExamConfiguration.kind))]
    assert kinds == ["TEMPLATE"]
