"""Attaching exam configurations to exams: only Ready To Use ones, In Use while attached, export and Config Key,
the SEB restriction following the Config Key, and the publish guard."""

from __future__ import annotations

import pytest

from sebframe.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sebframe.core.exams.schemas import ConfigurationAttach, ExamImport
from sebframe.core.sebconfig import config_key, decode_seb
from sebframe.core.sebconfig.exam_configs import ConfigStatus, ExamConfigCreate
from tests.core.exams.conftest import World
from tests.exam_helpers import ready_config, restrictions

pytestmark = pytest.mark.anyio


async def _exam(exam_world: World, quiz_id: str = "quiz1"):  # type: ignore[no-untyped-def]
    return await exam_world.services.exams.import_exam(exam_world.exam_admin, ExamImport(
        lms_setup_id=exam_world.setup.id, quiz_id=quiz_id, supporter_ids=[exam_world.supporter.user_id]))


async def test_attach_only_ready_to_use_and_unused_configurations(exam_world: World) -> None:
    services, admin = exam_world.services, exam_world.exam_admin
    exam = await _exam(exam_world)
    other = await _exam(exam_world, "quiz5")
    ready = await ready_config(services, admin, "Ready One")
    await ready_config(services, admin, "Ready Two")
    draft = await services.exam_configs.create(admin, ExamConfigCreate(name="Draft"))
    foreign = await ready_config(services, exam_world.foreign, "Foreign Ready")
    assert [c.name for c in await services.exams.configuration.available(admin, exam.id)] == ["Ready One", "Ready Two"]
    with pytest.raises(Conflict, match="Ready To Use"):
        await services.exams.configuration.attach(admin, exam.id, ConfigurationAttach(configuration_id=draft.id))
    with pytest.raises(ValidationFailed, match="not found"):
        await services.exams.configuration.attach(admin, exam.id, ConfigurationAttach(configuration_id=foreign.id))
    attached = await services.exams.configuration.attach(
        admin, exam.id, ConfigurationAttach(configuration_id=ready.id, password="exam-secret"))
    assert attached.password_set and attached.configuration.status == ConfigStatus.IN_USE
    assert (await services.exam_configs.get(admin, ready.id)).status == ConfigStatus.IN_USE
    assert [c.name for c in await services.exams.configuration.available(admin, exam.id)] == ["Ready Two"]
    with pytest.raises(Conflict, match="remove it first"):
        await services.exams.configuration.attach(admin, exam.id, ConfigurationAttach(configuration_id=ready.id))
    with pytest.raises(Conflict, match="In Use"):  # used by the first exam
        await services.exams.configuration.attach(admin, other.id, ConfigurationAttach(configuration_id=ready.id))
    with pytest.raises(Conflict, match="in use by an exam"):
        await services.exam_configs.delete(admin, ready.id)
    # Supporters and institutional administrators may not attach; other institutions do not see the exam.
    with pytest.raises(PermissionDenied):
        await services.exams.configuration.remove(exam_world.supporter, exam.id)
    with pytest.raises(PermissionDenied):
        await services.exams.configuration.remove(exam_world.admin, exam.id)
    with pytest.raises(NotFound):
        await services.exams.configuration.remove(exam_world.foreign, exam.id)

    # Export: encrypted with the exam's password; the Config Key is the published settings'.
    exported = await services.exams.configuration.export(exam_world.supporter, exam.id)
    decoded = decode_seb(exported, password="exam-secret")
    key = await services.exams.configuration.config_key(exam_world.supporter, exam.id)
    assert decoded.config_key() == key == config_key(decoded.settings)
    assert key == await services.exam_configs.files.config_key(admin, ready.id)

    removed = await services.exams.configuration.remove(admin, exam.id)
    assert removed.status == ConfigStatus.READY_TO_USE
    assert await services.exams.configuration.attached(admin, exam.id) is None
    with pytest.raises(NotFound, match="no exam configuration"):
        await services.exams.configuration.config_key(admin, exam.id)
    with pytest.raises(Conflict, match="has no exam configuration"):
        await services.exams.configuration.remove(admin, exam.id)
    # Attached again, then the exam is deleted: the configuration is Ready To Use again.
    await services.exams.configuration.attach(admin, exam.id, ConfigurationAttach(configuration_id=ready.id))
    report = await services.exams.delete(admin, exam.id)
    assert report.configuration == "Ready One"
    assert (await services.exam_configs.get(admin, ready.id)).status == ConfigStatus.READY_TO_USE


async def test_restriction_follows_the_config_key(exam_world: World) -> None:
    services, admin = exam_world.services, exam_world.exam_admin
    exam = await _exam(exam_world)  # running: restricted on import, without Config Key
    stored = restrictions()[(exam_world.setup.id, "quiz1")]
    assert stored.config_keys == ()  # type: ignore[attr-defined]
    configuration = await ready_config(services, admin)
    await services.exams.configuration.attach(admin, exam.id, ConfigurationAttach(configuration_id=configuration.id))
    first_key = await services.exams.configuration.config_key(admin, exam.id)
    assert restrictions()[(exam_world.setup.id, "quiz1")].config_keys == (first_key,)  # type: ignore[attr-defined]
    # Publishing a change of the attached configuration pushes the new Config Key.
    await services.exam_configs.working_copy.set_value(admin, configuration.id, "allowQuit", "false")
    await services.exam_configs.revisions.publish(admin, configuration.id, "no quitting")
    second_key = await services.exams.configuration.config_key(admin, exam.id)
    assert second_key != first_key
    assert restrictions()[(exam_world.setup.id, "quiz1")].config_keys == (second_key,)  # type: ignore[attr-defined]
    details = await services.exams.restriction.details(admin, exam.id)
    assert details.applied and details.config_keys == (second_key,)
    assert "exam configuration published" in details.message
    # Removing the configuration takes its key off the LMS.
    await services.exams.configuration.remove(admin, exam.id)
    assert restrictions()[(exam_world.setup.id, "quiz1")].config_keys == ()  # type: ignore[attr-defined]
    # A released restriction is not pushed again by a publish.
    await services.exams.configuration.attach(admin, exam.id, ConfigurationAttach(configuration_id=configuration.id))
    await services.exams.restriction.release(admin, exam.id)
    assert (exam_world.setup.id, "quiz1") not in restrictions()
    await services.exam_configs.working_copy.set_value(admin, configuration.id, "allowQuit", "true")
    await services.exam_configs.revisions.publish(admin, configuration.id)
    assert (exam_world.setup.id, "quiz1") not in restrictions()


async def test_publish_guard_checks_running_exams_for_active_connections(exam_world: World) -> None:
    services, admin = exam_world.services, exam_world.exam_admin
    exam = await _exam(exam_world)
    configuration = await ready_config(services, admin)
    await services.exams.configuration.attach(admin, exam.id, ConfigurationAttach(configuration_id=configuration.id))
    await services.exam_configs.working_copy.set_value(admin, configuration.id, "allowQuit", "false")

    async def two_connections(session, exam_id):  # type: ignore[no-untyped-def]
        return 2 if exam_id == exam.id else 0

    services.exams.connections.counter = two_connections  # stands in for real ones (see tests/api/exam)
    with pytest.raises(Conflict, match="running with 2 active SEB connection"):
        await services.exam_configs.revisions.publish(admin, configuration.id)
    with pytest.raises(Conflict, match="active SEB connection"):
        await services.exams.restriction.release(admin, exam.id)
    with pytest.raises(Conflict, match="active SEB connection"):
        await services.exams.configuration.remove(admin, exam.id)
    services.exams.connections.counter = lambda session, exam_id: _zero()
    revision = await services.exam_configs.revisions.publish(admin, configuration.id)
    assert revision.number == 1


async def _zero() -> int:
    return 0
