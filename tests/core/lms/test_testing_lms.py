"""The built-in Testing LMS passes the same contract as every LMS plugin; its demo quizzes' times count from
when the server's registry was made, on the clock it is given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine
from pydantic import SecretStr

from sebframe.core.lms.testing_lms import (
    PLUGIN_NAME,
    TestingLms,
    TestingLmsAdapter,
    TestingLmsSettings,
    TestingRestrictionApi,
)
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
        return TestingLmsAdapter(context(), TestingLms())

    @pytest.fixture
    def broken_adapter(self) -> TestingLmsAdapter:
        return TestingLmsAdapter(context(name=" "), TestingLms())

    @pytest.fixture
    def known_quiz(self) -> QuizData:
        return TestingLms().quizzes()[0]

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
        return TestingLms().quizzes()[1]


def test_registered_as_a_builtin() -> None:
    registry = registry_with()
    assert "TESTING" in registry.lms_types()
    assert "TESTING" in registry.restriction_types()


def _running_and_upcoming(quizzes: list[QuizData], now: datetime) -> tuple[set[str], set[str]]:
    started = [q for q in quizzes if q.start_time and q.start_time <= now]
    running = {q.id for q in started if q.end_time is None or q.end_time > now}
    upcoming = {q.id for q in quizzes if q.start_time and q.start_time > now}
    return running, upcoming


def test_some_quizzes_run_now_and_some_start_soon() -> None:
    now = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    lms = TestingLms(clock=lambda: now)
    running, upcoming = _running_and_upcoming(lms.quizzes(), now)
    assert {"quiz1", "quiz2 äöüèÜÄÖ ?<", "quiz4", "quiz5", "quiz6", "quiz7"} == running
    assert upcoming == {"quiz10", "quiz11", "quiz12", "quiz13"}
    by_id = {q.id: q for q in lms.quizzes()}
    assert by_id["quiz10"].start_time == now + timedelta(minutes=1)
    assert by_id["quiz11"].start_time == now + timedelta(minutes=5)


def test_quiz_times_count_from_when_the_registry_was_made_not_from_the_import() -> None:
    # As if the server (or the test suite) had run for six hours since this module was imported.
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=6), tick=False):
        now = datetime.now(UTC)
        lms = registry_with().pm.get_plugin(PLUGIN_NAME)
        assert isinstance(lms, TestingLms) and lms.started == now.replace(microsecond=0)
        _, upcoming = _running_and_upcoming(lms.quizzes(), now)
        assert upcoming == {"quiz10", "quiz11", "quiz12", "quiz13"}
    assert registry_with().pm.get_plugin(PLUGIN_NAME) is not lms  # each registry (server) has its own


@pytest.mark.anyio
async def test_adapters_of_the_registry_serve_its_quizzes() -> None:
    registry = registry_with()
    lms = registry.pm.get_plugin(PLUGIN_NAME)
    adapter = registry.get_lms_type("TESTING").create_adapter(context())
    quizzes = {q.id: q for q in await adapter.get_quizzes(["quiz11", "quiz1"])}
    assert quizzes["quiz11"].start_time == lms.started + timedelta(minutes=5) and set(quizzes) == {"quiz1", "quiz11"}


@pytest.mark.anyio
async def test_start_filter_keeps_open_quizzes_and_drops_ended_ones() -> None:
    adapter = TestingLmsAdapter(context(), TestingLms())
    found = {q.id for q in await adapter.find_quizzes(QuizFilter(start_from=datetime.now(UTC) - timedelta(days=365)))}
    assert "quiz3" not in found  # ended in 2018
    assert {"quiz1", "quiz10"} <= found


@pytest.mark.anyio
async def test_start_filter_reads_the_injected_clock() -> None:
    now = [datetime(2026, 3, 2, tzinfo=UTC)]
    adapter = TestingLmsAdapter(context(), TestingLms(clock=lambda: now[0]))
    start_from = QuizFilter(start_from=datetime(2027, 1, 1, tzinfo=UTC))
    assert {"quiz2 äöüèÜÄÖ ?<", "quiz6"} <= {q.id for q in await adapter.find_quizzes(start_from)}
    now[0] = datetime(2029, 6, 1, tzinfo=UTC)  # the server has run past 1 January 2028: quizzes 2, 4-6 have ended
    found = {q.id for q in await adapter.find_quizzes(start_from)}
    assert found == {"quiz1", "quiz7", "quiz11", "quiz12", "quiz13"}  # quiz 10 ended six minutes after the start


def test_quizzes_that_end_keep_ending_a_year_or_more_after_the_start() -> None:
    ends = {q.id: q.end_time for q in TestingLms(clock=lambda: datetime(2026, 3, 2, tzinfo=UTC)).quizzes()}
    assert ends["quiz6"] == datetime(2028, 1, 1, 9, tzinfo=UTC)  # SEB Server's own date, while it is ahead
    assert ends["quiz3"] == datetime(2018, 8, 1, tzinfo=UTC)  # the ended quiz stays ended
    later = datetime(2031, 5, 1, tzinfo=UTC)
    lms = TestingLms(clock=lambda: later)
    ends = {q.id: q.end_time for q in lms.quizzes()}
    assert ends["quiz6"] == datetime(2033, 1, 1, 9, tzinfo=UTC) and ends["quiz4"] == datetime(2033, 1, 1, tzinfo=UTC)
    running, upcoming = _running_and_upcoming(lms.quizzes(), later)
    assert running == {"quiz1", "quiz2 äöüèÜÄÖ ?<", "quiz4", "quiz5", "quiz6", "quiz7"}
    assert upcoming == {"quiz10", "quiz11", "quiz12", "quiz13"}
