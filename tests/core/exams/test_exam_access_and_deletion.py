"""Who sees and changes which exam; listing; deleting exams, also with their owner's account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from sebframe.core.accounts.dependencies import DeleteOption
from sebframe.core.db.models import Exam, Indicator
from sebframe.core.errors import NotFound, PermissionDenied, ValidationFailed
from sebframe.core.exams.schemas import ConfigurationAttach, ExamImport, ExamUpdate
from sebframe.core.paging import ListParams
from sebframe.core.sebconfig.exam_configs import ConfigStatus
from tests.core.exams.conftest import World
from tests.exam_helpers import add_testing_setup, ready_config, restrictions

pytestmark = pytest.mark.anyio


async def _names(exam_world: World, actor, **filters: str) -> list[str]:  # type: ignore[no-untyped-def]
    page = await exam_world.services.exams.list(actor, ListParams(size=50, filters=filters))
    return [exam.name for exam in page.items]


async def test_scoping_and_role_rules(exam_world: World) -> None:
    services = exam_world.services
    mine = await services.exams.import_exam(exam_world.exam_admin, ExamImport(
        lms_setup_id=exam_world.setup.id, quiz_id="quiz1", supporter_ids=[exam_world.supporter.user_id]))
    await services.exams.import_exam(exam_world.exam_admin, ExamImport(
        lms_setup_id=exam_world.setup.id, quiz_id="quiz11", supporter_ids=[exam_world.other_supporter.user_id]))
    uzh_setup = await add_testing_setup(services, await exam_world.factory.actor(exam_world.uzh, "uzh-ia",
                                                                            *exam_world.admin.roles), "UZH LMS")
    foreign = await services.exams.import_exam(exam_world.foreign, ExamImport(
        lms_setup_id=uzh_setup.id, quiz_id="quiz1", supporter_ids=[exam_world.foreign.user_id]))
    both = ["Demo Quiz 1 (MOCKUP)", "Demo Quiz 11 (MOCKUP)"]
    assert await _names(exam_world, exam_world.exam_admin) == both
    assert await _names(exam_world, exam_world.admin) == both  # institutional administrators read
    assert await _names(exam_world, exam_world.root) == ["Demo Quiz 1 (MOCKUP)", "Demo Quiz 1 (MOCKUP)",
                                               "Demo Quiz 11 (MOCKUP)"]  # everything
    assert await _names(exam_world, exam_world.supporter) == ["Demo Quiz 1 (MOCKUP)"]  # only assigned exams
    assert await _names(exam_world, exam_world.other_supporter) == ["Demo Quiz 11 (MOCKUP)"]
    assert await _names(exam_world, exam_world.foreign) == ["Demo Quiz 1 (MOCKUP)"]
    with pytest.raises(NotFound):
        await services.exams.get(exam_world.foreign, mine.id)
    with pytest.raises(NotFound):
        await services.exams.get(exam_world.other_supporter, mine.id)
    with pytest.raises(NotFound):
        await services.exams.get(exam_world.exam_admin, foreign.id)
    assert (await services.exams.get(exam_world.root, foreign.id)).id == foreign.id
    # The assigned supporter may modify (type, supporters) but not delete; readers may not change.
    updated = await services.exams.update(exam_world.supporter, mine.id, ExamUpdate(
        exam_type="VDI", supporter_ids=[exam_world.supporter.user_id, exam_world.other_supporter.user_id]))
    assert updated.exam_type == "VDI"
    assert await _names(exam_world, exam_world.other_supporter) == both
    with pytest.raises(PermissionDenied):
        await services.exams.deletion_report(exam_world.supporter, mine.id)
    for reader in (exam_world.admin, exam_world.root):
        with pytest.raises(PermissionDenied):
            await services.exams.update(reader, mine.id, ExamUpdate(exam_type="BYOD"))
    with pytest.raises(ValidationFailed, match="at least one"):
        await services.exams.update(exam_world.exam_admin, mine.id, ExamUpdate(supporter_ids=[]))
    details = await services.exams.details(exam_world.supporter, mine.id)
    assert details.may_modify and not details.may_write
    assert (await services.exams.details(exam_world.exam_admin, mine.id)).may_write
    assert not (await services.exams.details(exam_world.admin, mine.id)).may_modify


async def test_list_filters_and_sorting(exam_world: World) -> None:
    services = exam_world.services
    imported = {}
    for quiz_id in ("quiz1", "quiz6", "quiz11"):
        imported[quiz_id] = await services.exams.import_exam(exam_world.exam_admin, ExamImport(
            lms_setup_id=exam_world.setup.id, quiz_id=quiz_id, supporter_ids=[exam_world.supporter.user_id],
            exam_type="BYOD" if quiz_id == "quiz6" else None))
    actor = exam_world.exam_admin
    assert await _names(exam_world, actor, status="UP_COMING") == ["Demo Quiz 11 (MOCKUP)"]
    assert await _names(exam_world, actor, exam_type="BYOD") == ["Demo Quiz 6 (MOCKUP)"]
    assert await _names(exam_world, actor, name="quiz 6") == ["Demo Quiz 6 (MOCKUP)"]
    assert await _names(exam_world, actor, lms_setup_id=str(exam_world.setup.id)) == [
        "Demo Quiz 1 (MOCKUP)", "Demo Quiz 11 (MOCKUP)", "Demo Quiz 6 (MOCKUP)"]
    # quiz1 started 2020 and never ends, quiz6 ends a year or more from now: all open until then, not after.
    quiz6_end = imported["quiz6"].end_time
    assert quiz6_end is not None
    assert len(await _names(exam_world, actor, start_from=(quiz6_end - timedelta(days=1)).isoformat())) == 3
    assert await _names(exam_world, actor, start_from=(quiz6_end + timedelta(days=1)).isoformat()) == [
        "Demo Quiz 1 (MOCKUP)", "Demo Quiz 11 (MOCKUP)"]
    page = await services.exams.list(actor, ListParams(sort="start_time", descending=True))
    assert [exam.external_id for exam in page.items] == ["quiz11", "quiz1", "quiz6"]
    for bad in ({"status": "OPEN"}, {"exam_type": "X"}, {"start_from": "soon"}, {"lms_setup_id": "x"}):
        with pytest.raises(ValidationFailed):
            await services.exams.list(actor, ListParams(filters=bad))
    rows = await services.exams.rows(actor, ListParams(filters={"status": "RUNNING"}))
    assert {row.setup_name for row in rows.items} == {"Testing LMS"}
    assert all(row.missing == ["no exam configuration attached"] for row in rows.items)


async def test_delete_exam_with_report_and_restriction_release(exam_world: World) -> None:
    services, admin = exam_world.services, exam_world.exam_admin
    exam = await services.exams.import_exam(admin, ExamImport(
        lms_setup_id=exam_world.setup.id, quiz_id="quiz1", supporter_ids=[exam_world.supporter.user_id]))
    configuration = await ready_config(services, admin)
    await services.exams.configuration.attach(admin, exam.id, ConfigurationAttach(configuration_id=configuration.id))
    assert (exam_world.setup.id, "quiz1") in restrictions()
    report = await services.exams.deletion_report(admin, exam.id)
    assert report.indicators == ["Ping"] and report.configuration == "Physics Final"
    assert report.supporters == ["Sam Tester (sam)"] and report.restriction and "Testing LMS" in report.restriction
    deleted = await services.exams.delete(admin, exam.id)
    assert deleted.warnings == []
    assert (exam_world.setup.id, "quiz1") not in restrictions()
    assert (await services.exam_configs.get(admin, configuration.id)).status == ConfigStatus.READY_TO_USE
    async with services.db.read() as session:
        assert (await session.execute(select(Indicator))).first() is None
    with pytest.raises(NotFound):
        await services.exams.get(admin, exam.id)


async def test_user_deletion_with_exams_deletes_the_users_exams(exam_world: World) -> None:
    services = exam_world.services
    owner = await exam_world.factory.actor(exam_world.eth, "olga", *exam_world.exam_admin.roles)
    owned = await services.exams.import_exam(owner, ExamImport(
        lms_setup_id=exam_world.setup.id, quiz_id="quiz1", supporter_ids=[exam_world.supporter.user_id]))
    kept = await services.exams.import_exam(exam_world.exam_admin, ExamImport(
        lms_setup_id=exam_world.setup.id, quiz_id="quiz5", supporter_ids=[exam_world.supporter.user_id]))
    configuration = await ready_config(services, owner)
    await services.exams.configuration.attach(owner, owned.id, ConfigurationAttach(configuration_id=configuration.id))
    only_account = await services.users.deletion_report(exam_world.admin, owner.user_id, DeleteOption.ACCOUNT_ONLY)
    assert ("Exams", ["Demo Quiz 1 (MOCKUP)"]) in [(label, [d.name for d in items])
                                                   for label, items in only_account.kept]
    report = await services.users.delete(exam_world.admin, owner.user_id, DeleteOption.WITH_EXAMS)
    assert "Exams" in [label for label, _ in report.deleted]
    async with services.db.read() as session:
        remaining = [row.id for row in await session.execute(select(Exam.id))]
    assert remaining == [kept.id]
    # The configuration stays (WITH_EXAMS), Ready To Use again; the restriction is released in the background.
    assert ((await services.exam_configs.get(exam_world.exam_admin, configuration.id)).status
            == ConfigStatus.READY_TO_USE)
    await services.exams.close()  # waits for the background release
    assert (exam_world.setup.id, "quiz1") not in restrictions()
    assert (exam_world.setup.id, "quiz5") in restrictions()


async def test_user_deletion_with_all_deletes_exams_and_attached_configurations(exam_world: World) -> None:
    services = exam_world.services
    owner = await exam_world.factory.actor(exam_world.eth, "olga", *exam_world.exam_admin.roles)
    owned = await services.exams.import_exam(owner, ExamImport(
        lms_setup_id=exam_world.setup.id, quiz_id="quiz1", supporter_ids=[exam_world.supporter.user_id]))
    other = await services.exams.import_exam(exam_world.exam_admin, ExamImport(
        lms_setup_id=exam_world.setup.id, quiz_id="quiz5", supporter_ids=[exam_world.supporter.user_id]))
    mine = await ready_config(services, owner, "Olga's")
    used_elsewhere = await ready_config(services, owner, "Olga's, used by Erika")
    await services.exams.configuration.attach(owner, owned.id, ConfigurationAttach(configuration_id=mine.id))
    await services.exams.configuration.attach(exam_world.exam_admin, other.id,
                                              ConfigurationAttach(configuration_id=used_elsewhere.id))
    await services.users.delete(exam_world.admin, owner.user_id, DeleteOption.WITH_ALL)
    async with services.db.read() as session:
        assert [row.id for row in await session.execute(select(Exam.id))] == [other.id]
    assert await services.exams.configuration.attached(exam_world.exam_admin, other.id) is None
