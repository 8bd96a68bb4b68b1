"""Indicators of exams and exam templates: validation against the installed types; exam templates."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from sebframe.core.errors import NotFound, PermissionDenied, ValidationFailed
from sebframe.core.exams.indicators import validate_indicator
from sebframe.core.exams.schemas import ExamImport, ExamTemplateInput, IndicatorInput
from sebframe.core.paging import ListParams
from sebframe.core.validation import parse_input
from tests.core.exams.conftest import World
from tests.exam_helpers import make_config_template

pytestmark = pytest.mark.anyio


def _indicator(**fields: object) -> IndicatorInput:
    return parse_input(IndicatorInput, {"name": "Errors", "indicator_type": "ERROR_COUNT", **fields})


async def test_indicator_validation(exam_world: World) -> None:
    types = exam_world.services.exams.indicators.types()
    assert {"LAST_PING", "ERROR_COUNT", "BATTERY_STATUS"} <= set(types)
    spec = validate_indicator(_indicator(color="#AbCdEf", tags="net, dns ,net", thresholds=[
        {"value": "10", "color": "ff0000"}, {"value": 2.5, "color": "#00FF00"}]), types)
    assert spec.color == "abcdef" and spec.tags == ("net", "dns")
    assert spec.thresholds == ((2.5, "00ff00"), (10.0, "ff0000"))
    battery = validate_indicator(_indicator(indicator_type="battery_status", tags="anything"), types)
    assert battery.indicator_type == "BATTERY_STATUS" and battery.tags == ("<battery>",)  # fixed tags
    ping = validate_indicator(_indicator(indicator_type="LAST_PING", tags="ignored"), types)
    assert ping.tags == ()  # the type reads no tags
    with pytest.raises(ValidationFailed) as duplicate:
        validate_indicator(_indicator(thresholds=[{"value": 1, "color": "ff0000"}, {"value": 1.0, "color": "00ff00"}]),
                           types)
    assert "unique" in duplicate.value.field_errors["thresholds"]
    with pytest.raises(ValidationFailed) as unknown:
        validate_indicator(_indicator(indicator_type="HEARTBEAT"), types)
    assert "choose one of" in unknown.value.field_errors["indicator_type"]
    assert "LAST_PING (Last Ping Time)" in unknown.value.field_errors["indicator_type"]
    with pytest.raises(ValidationFailed) as none_installed:
        validate_indicator(_indicator(), {})
    assert none_installed.value.field_errors["indicator_type"].startswith("no indicator types installed")
    for bad in ({"color": "red"}, {"thresholds": [{"value": "many", "color": "ff0000"}]},
                {"thresholds": [{"value": 1, "color": "12345"}]}, {"name": ""},
                {"thresholds": [{"value": "nan", "color": "ff0000"}]}):
        with pytest.raises(ValidationFailed):
            _indicator(**bad)
    with pytest.raises(ValidationError):
        IndicatorInput(name="x", indicator_type="LAST_PING", thresholds=[{"value": float("inf"), "color": "ff0000"}])


async def test_exam_indicator_crud_and_privileges(exam_world: World) -> None:
    services = exam_world.services
    exam = await services.exams.import_exam(exam_world.exam_admin, ExamImport(
        lms_setup_id=exam_world.setup.id, quiz_id="quiz1", supporter_ids=[exam_world.supporter.user_id]))
    indicators = services.exams.indicators
    created = await indicators.create(exam_world.exam_admin, exam.id,
                                      _indicator(thresholds=[{"value": 3, "color": "ff0000"}]))
    assert [i.name for i in await indicators.list(exam_world.supporter, exam.id)] == ["Ping", "Errors"]
    with pytest.raises(ValidationFailed, match="has an indicator named 'errors'"):
        await indicators.create(exam_world.exam_admin, exam.id, _indicator(name="errors"))
    # An assigned supporter may adjust an indicator but not add or delete one.
    changed = await indicators.update(exam_world.supporter, exam.id, created.id,
                                      _indicator(name="Errors", thresholds=[{"value": 4, "color": "ff0000"}]))
    assert json.loads(changed.thresholds) == [{"value": 4, "color": "ff0000"}]
    with pytest.raises(PermissionDenied):
        await indicators.create(exam_world.supporter, exam.id, _indicator(name="More"))
    with pytest.raises(PermissionDenied):
        await indicators.delete(exam_world.supporter, exam.id, created.id)
    with pytest.raises(PermissionDenied):  # institutional administrators only read
        await indicators.update(exam_world.admin, exam.id, created.id, _indicator())
    with pytest.raises(NotFound):
        await indicators.list(exam_world.other_supporter, exam.id)  # not assigned
    with pytest.raises(NotFound):
        await indicators.get(exam_world.foreign, exam.id, created.id)
    other = await services.exams.import_exam(exam_world.exam_admin, ExamImport(
        lms_setup_id=exam_world.setup.id, quiz_id="quiz5", supporter_ids=[exam_world.supporter.user_id]))
    with pytest.raises(NotFound):  # an indicator of another exam
        await indicators.get(exam_world.exam_admin, other.id, created.id)
    await indicators.delete(exam_world.exam_admin, exam.id, created.id)
    assert [i.name for i in await indicators.list(exam_world.exam_admin, exam.id)] == ["Ping"]


async def test_exam_templates_crud_default_and_indicators(exam_world: World) -> None:
    services, admin = exam_world.services, exam_world.exam_admin
    templates = services.exams.templates
    base = await make_config_template(services, admin)
    first = await templates.create(admin, ExamTemplateInput(name="First", institutional_default=True))
    second = await templates.create(admin, ExamTemplateInput(
        name="Second", exam_type="BYOD", configuration_template_id=base.id,
        supporter_ids=[exam_world.supporter.user_id], indicators=[_indicator()]))
    assert (await templates.get(admin, first.id)).institutional_default
    # Only one institutional default per institution: the new default replaces the old one.
    await templates.update(admin, second.id, ExamTemplateInput(
        name="Second", exam_type="BYOD", configuration_template_id=base.id, institutional_default=True))
    assert not (await templates.get(admin, first.id)).institutional_default
    assert (await templates.get(admin, second.id)).institutional_default
    assert [t.name for t in await templates.choices(admin)] == ["Second", "First"]  # default first
    foreign = await templates.create(exam_world.foreign, ExamTemplateInput(name="Foreign", institutional_default=True))
    assert (await templates.get(exam_world.foreign, foreign.id)).institutional_default
    assert (await templates.get(admin, second.id)).institutional_default  # other institutions are untouched
    # Updating without indicators keeps them; the indicator editor works by position.
    kept = await templates.get(admin, second.id)
    assert [spec["name"] for spec in json.loads(kept.indicators)] == ["Errors"]
    await templates.add_indicator(admin, second.id, _indicator(name="Ping", indicator_type="LAST_PING"))
    with pytest.raises(ValidationFailed, match="of that name already"):
        await templates.add_indicator(admin, second.id, _indicator(name="ping", indicator_type="LAST_PING"))
    await templates.update_indicator(admin, second.id, 0, _indicator(name="Warnings", indicator_type="WARN_COUNT"))
    with pytest.raises(NotFound):
        await templates.delete_indicator(admin, second.id, 5)
    await templates.delete_indicator(admin, second.id, 1)
    assert [spec["name"] for spec in json.loads((await templates.get(admin, second.id)).indicators)] == ["Warnings"]
    # Validation: unique names, a configuration template and supporters of the institution.
    with pytest.raises(ValidationFailed, match="already exists"):
        await templates.create(admin, ExamTemplateInput(name="first"))
    foreign_base = await make_config_template(services, exam_world.foreign, "Foreign Base")
    with pytest.raises(ValidationFailed, match="not found in your institution"):
        await templates.create(admin, ExamTemplateInput(name="Third", configuration_template_id=foreign_base.id))
    with pytest.raises(ValidationFailed, match="not a user of this institution"):
        await templates.create(admin, ExamTemplateInput(name="Third", supporter_ids=[exam_world.foreign.user_id]))
    with pytest.raises(ValidationFailed) as bad_indicator:
        await templates.create(admin, ExamTemplateInput(name="Third", indicators=[_indicator(indicator_type="NOPE")]))
    assert "indicators.0.indicator_type" in bad_indicator.value.field_errors
    # Reading and writing: institutional administrators read, supporters see nothing, others not found.
    assert [t.name for t in (await templates.list(exam_world.admin, ListParams())).items] == ["First", "Second"]
    assert [t.name for t in (await templates.list(exam_world.root, ListParams(sort="name"))).items] == \
        ["First", "Foreign", "Second"]
    with pytest.raises(PermissionDenied):
        await templates.update(exam_world.admin, first.id, ExamTemplateInput(name="First"))
    with pytest.raises(PermissionDenied):
        await templates.list(exam_world.supporter, ListParams())
    with pytest.raises(NotFound):
        await templates.get(exam_world.foreign, first.id)
    page = await templates.list(admin, ListParams(filters={"exam_type": "BYOD"}))
    assert [t.name for t in page.items] == ["Second"]
    # A deleted template leaves the exams imported with it alone (only the reference goes).
    exam = await services.exams.import_exam(admin, ExamImport(lms_setup_id=exam_world.setup.id, quiz_id="quiz1",
                                                              exam_template_id=second.id,
                                                              supporter_ids=[exam_world.supporter.user_id]))
    await templates.delete(admin, second.id)
    details = await services.exams.details(admin, exam.id)
    assert details.template is None and details.exam.exam_type == "BYOD"
