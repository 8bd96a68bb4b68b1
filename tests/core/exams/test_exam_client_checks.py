"""The exam's SEB client checks: defaults, validated updates, what is stored and logged."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from sebframe.core.db.models import ActivityLogEntry, Exam
from sebframe.core.errors import PermissionDenied, ValidationFailed
from sebframe.core.exams.client_checks import allowed_versions, signature_key_grants
from sebframe.core.exams.schemas import ExamImport, ExamUpdate
from sebframe.core.exams.seb_versions import SebOs
from sebframe.core.validation import parse_input
from tests.core.exams.conftest import World

pytestmark = pytest.mark.anyio

GRANT = "ab" * 32


async def _exam(exam_world: World) -> Exam:
    return await exam_world.services.exams.import_exam(exam_world.exam_admin, ExamImport(
        lms_setup_id=exam_world.setup.id, quiz_id="quiz1", supporter_ids=[exam_world.supporter.user_id]))


async def _messages(exam_world: World, exam_id: int) -> list[str]:
    async with exam_world.services.db.read() as session:
        rows = await session.execute(select(ActivityLogEntry.message).where(
            ActivityLogEntry.entity_id == str(exam_id), ActivityLogEntry.activity == "MODIFY"))
        return list(rows.scalars())


async def test_defaults_of_an_imported_exam(exam_world: World) -> None:
    exam = await exam_world.services.exams.get(exam_world.exam_admin, (await _exam(exam_world)).id)
    assert exam.signature_key_check_enabled is False
    assert exam.signature_key_trust_threshold == 2
    assert signature_key_grants(exam) == [] and allowed_versions(exam) == ()
    assert exam.alternative_bek is None and exam.app_signature_salt is None


async def test_valid_update_is_stored_canonically_and_logged(exam_world: World) -> None:
    exams = exam_world.services.exams
    exam = await _exam(exam_world)
    data = parse_input(ExamUpdate, {
        "signature_key_check_enabled": True, "signature_key_trust_threshold": 5,
        "signature_key_grants": f"{GRANT.upper()}\n{'cd' * 32}, {GRANT}",
        "allowed_seb_versions": " win.3.5.0.MIN, Mac.3.3 ", "alternative_bek": "c0ffee" * 10})
    await exams.update(exam_world.exam_admin, exam.id, data)
    stored = await exams.get(exam_world.exam_admin, exam.id)
    assert stored.signature_key_check_enabled is True and stored.signature_key_trust_threshold == 5
    assert signature_key_grants(stored) == [GRANT, "cd" * 32]
    assert stored.allowed_seb_versions == "Win.3.5.0.min,Mac.3.3"
    assert [version.os for version in allowed_versions(stored)] == [SebOs.WINDOWS, SebOs.MAC]
    assert stored.alternative_bek == "c0ffee" * 10
    [message] = await _messages(exam_world, exam.id)
    assert message == ("app signature key check on; trust threshold 5; 2 granted app signature key(s); "
                       "allowed SEB versions Win.3.5.0.min,Mac.3.3; alternative Browser Exam Key set")
    # The same again changes nothing and logs nothing; "" removes the key, the empty list all grants.
    await exams.update(exam_world.exam_admin, exam.id, data)
    assert len(await _messages(exam_world, exam.id)) == 1
    await exams.update(exam_world.supporter, exam.id, ExamUpdate(alternative_bek="", signature_key_grants=[],
                                                            allowed_seb_versions=""))
    stored = await exams.get(exam_world.exam_admin, exam.id)
    assert stored.alternative_bek is None and signature_key_grants(stored) == [] and allowed_versions(stored) == ()
    assert stored.signature_key_check_enabled is True  # left out: unchanged
    assert (await _messages(exam_world, exam.id))[-1] == ("0 granted app signature key(s); allowed SEB versions any; "
                                                      "alternative Browser Exam Key removed")


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"allowed_seb_versions": "Win.3.5.0.min, Mac.3"}, "allowed_seb_versions",
     "'Mac.3' is not a SEB version: major and minor version are required"),
    ({"allowed_seb_versions": "Linux.6.1"}, "allowed_seb_versions", "unknown OS 'Linux'"),
    ({"allowed_seb_versions": "Win.3.5.0.beta"}, "allowed_seb_versions", "unexpected part 'beta'"),
    ({"signature_key_grants": [GRANT, "abc123"]}, "signature_key_grants",
     "'abc123' is not an app signature key hash (64 hex digits"),
    ({"signature_key_grants": "g" * 64}, "signature_key_grants", "is not an app signature key hash"),
    ({"signature_key_grants": [f"{i:064x}" for i in range(101)]}, "signature_key_grants", "at most 100"),
    ({"signature_key_trust_threshold": -1}, "signature_key_trust_threshold", "greater than or equal to 0"),
    ({"signature_key_trust_threshold": "many"}, "signature_key_trust_threshold", "valid integer"),
    ({"alternative_bek": "not a key!"}, "alternative_bek", "Browser Exam Key of letters and digits"),
    ({"alternative_bek": "a" * 256}, "alternative_bek", "at most 255"),
    ({"app_signature_salt": "00"}, "app_signature_salt", "Extra inputs are not permitted"),  # not editable
])
async def test_invalid_input_names_the_problem_and_changes_nothing(exam_world: World, data: dict[str, Any], field: str,
                                                                   message: str) -> None:
    exam = await _exam(exam_world)
    with pytest.raises(ValidationFailed) as raised:
        await exam_world.services.exams.update(exam_world.exam_admin, exam.id, parse_input(ExamUpdate, {
            "signature_key_check_enabled": True, **data}))
    assert message in raised.value.field_errors[field]
    stored = await exam_world.services.exams.get(exam_world.exam_admin, exam.id)
    assert stored.signature_key_check_enabled is False and await _messages(exam_world, exam.id) == []


async def test_readers_may_not_change_them(exam_world: World) -> None:
    exam = await _exam(exam_world)
    for reader in (exam_world.admin, exam_world.root):
        with pytest.raises(PermissionDenied):
            await exam_world.services.exams.update(reader, exam.id, ExamUpdate(signature_key_check_enabled=True))
