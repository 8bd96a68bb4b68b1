"""The built-in Testing LMS passes the same contract as every LMS plugin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from sebframe.core.lms.testing_lms import TestingLmsAdapter, TestingLmsSettings, TestingRestrictionApi, mock_quizzes
from sebframe.testing import registry_with
from sebframe.testing.lms import LmsAdapterContract, RestrictionApiContract
from sebframe.types import IntegrationContext, QuizData, QuizFilter


def context(name: str = "client", secret: str = "secret", instance_id: int = 1) -> IntegrationContext:
    return IntegrationContext(instance_id=instance_id, institution_id=1, url="http://lms.mockup.com",
                              settings=TestingLmsSettings(client_name=name, client_secret=SecretStr(secret)),
                              http=httpx.AsyncClient())


class TestTestingLmsAdapter(LmsAdapterContract):
    @pytest.fixture
    def adapter(self) -> TestingLmsAdapter:
        return TestingLmsAdapter(context())

    @pytest.fixture
    def broken_adapter(self) -> TestingLmsAdapter:
        return TestingLmsAdapter(context(name=" "))

    @pytest.fixture
    def known_quiz(self) -> QuizData:
        return mock_quizzes()[0]

    @pytest.fixture
    def known_user_session_id(self) -> str:
        return "student-1"

    @pytest.fixture
    def known_user_name(self) -> str:
        return "student-1"


class TestTestingRestriction(RestrictionApiContract):
    @pytest.fixture
    def restriction_api(self) -> TestingRestrictionApi:
        return TestingRestrictionApi(context(instance_id=99), store={})

    @pytest.fixture
    def restricted_quiz(self) -> QuizData:
        return mock_quizzes()[1]


def test_registered_as_a_builtin() -> None:
    registry = registry_with()
    assert "TESTING" in registry.lms_types()
    assert "TESTING" in registry.restriction_types()


def test_some_quizzes_run_now_and_some_start_soon() -> None:
    now = datetime.now(UTC)
    quizzes = mock_quizzes(now)
    running = [q for q in quizzes if q.start_time and q.start_time <= now and (q.end_time is None or q.end_time > now)]
    upcoming = [q for q in quizzes if q.start_time and q.start_time > now]
    assert {"quiz1", "quiz7"} <= {q.id for q in running}
    assert {q.id for q in upcoming} == {"quiz10", "quiz11", "quiz12", "quiz13"}


@pytest.mark.anyio
async def test_start_filter_keeps_open_quizzes_and_drops_ended_ones() -> None:
    adapter = TestingLmsAdapter(context())
    found = {q.id for q in await adapter.find_quizzes(QuizFilter(start_from=datetime.now(UTC) - timedelta(days=365)))}
    assert "quiz3" not in found  # ended in 2018
    assert {"quiz1", "quiz10"} <= found
