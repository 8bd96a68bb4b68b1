"""Quiz lookup: every active setup asked at once; a slow or broken LMS only affects its own status."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pydantic import BaseModel

from sebframe import hookimpl
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import Exam
from sebframe.core.lms.lookup import LookupState, QuizLookupService
from sebframe.core.lms.schemas import LmsSetupInput
from sebframe.core.services import Services
from sebframe.testing import registry_with
from sebframe.types import ConnectionTestResult, IntegrationContext, LmsType, QuizData, QuizFilter
from tests.conftest import Factory

pytestmark = pytest.mark.anyio


class NoSettings(BaseModel):
    pass


@dataclass
class SlowAdapter:
    context: IntegrationContext

    async def test(self) -> ConnectionTestResult:
        return ConnectionTestResult.success()

    async def find_quizzes(self, quiz_filter: QuizFilter) -> list[QuizData]:
        await asyncio.sleep(30)
        return []


@dataclass
class BrokenAdapter(SlowAdapter):
    async def find_quizzes(self, quiz_filter: QuizFilter) -> list[QuizData]:
        raise ValueError("Expecting value: line 1 column 1")


class ExtraLmsTypes:
    __name__ = "extra-lms"

    @hookimpl
    def sebframe_lms_types(self) -> Iterator[LmsType]:
        yield LmsType(name="SLOW", display_name="Slow", settings_model=NoSettings, create_adapter=SlowAdapter)
        yield LmsType(name="BROKEN", display_name="Broken", settings_model=NoSettings, create_adapter=BrokenAdapter)


@pytest.fixture
async def lookup_world(settings, services):  # type: ignore[no-untyped-def]
    """Quiz lookup world: own services with a Testing, a slow and a broken LMS setup; (services, lookup, admin, eth)."""
    own = Services.create(settings, registry_with(ExtraLmsTypes()))
    lookup = QuizLookupService(own.db, own.lms_setups, timeout_seconds=0.3)
    factory = Factory(own)
    eth = await factory.institution()
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    for name, lms_type, settings_value in (("Mock", "TESTING", {"client_name": "a", "client_secret": "b"}),
                                           ("Slow", "SLOW", {}), ("Broken", "BROKEN", {})):
        data = LmsSetupInput(name=f"{name} LMS", lms_type=lms_type, url="https://lms.example.org",
                             settings=settings_value)
        await own.lms_setups.create(admin, data, activate=True)
    yield own, lookup, admin, eth
    await own.close()


async def test_each_setup_answers_for_itself(lookup_world) -> None:  # type: ignore[no-untyped-def]
    services, lookup, admin, _ = lookup_world
    results = {result.setup_name: result for result in await lookup.lookup(admin, QuizFilter(name="QUIZ 7"))}
    assert results["Mock LMS"].state == LookupState.OK
    assert [found.quiz.id for found in results["Mock LMS"].quizzes] == ["quiz7"]
    assert results["Slow LMS"].state == LookupState.TIMEOUT and "did not answer" in results["Slow LMS"].message
    assert results["Broken LMS"].state == LookupState.FAILED
    assert "not the expected API" in results["Broken LMS"].message


async def test_imported_quizzes_are_left_out(lookup_world) -> None:  # type: ignore[no-untyped-def]
    services, lookup, admin, eth = lookup_world
    mock = next(r for r in await lookup.lookup(admin, QuizFilter()) if r.setup_name == "Mock LMS")
    async with services.db.transaction() as session:
        session.add(Exam(institution_id=eth.id, lms_setup_id=mock.setup_id, external_id="quiz1", name="Demo Quiz 1"))
    again = await lookup.lookup_setup(admin, mock.setup_id, QuizFilter())
    assert "quiz1" not in {found.quiz.id for found in again.quizzes}
    assert len(again.quizzes) == len(mock.quizzes) - 1
