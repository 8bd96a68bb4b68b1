"""The built-in "Testing" LMS: mock courses served in-process, like SEB Server's MOCKUP type.

It lets an admin try lookup, import, SEB restriction and monitoring without a real LMS. Quiz 10 starts a
minute after the server started and quizzes 11-13 five minutes after, so there is always something about
to run; quizzes 1, 2 and 4-7 are running now, and 2 and 4-6 end at least a year after the start. "Started"
is when the server's plugin registry made its ``TestingLms`` (not when this module was imported), read from
a clock that tests can replace. Registered through the same hooks as any LMS plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from pydantic import BaseModel, SecretStr

from sebframe.core.db.base import utc_now
from sebframe.hookspecs import hookimpl
from sebframe.types import (
    Chapter,
    ConnectionTestResult,
    ExamineeAccount,
    IntegrationContext,
    LmsFeature,
    LmsType,
    QuizData,
    QuizFilter,
    RestrictionType,
    SebRestriction,
)

TESTING_LMS = "TESTING"
PLUGIN_NAME = "sebframe.core.lms.testing_lms"  # its name in the registry (and for SEBFRAME_DISABLE_PLUGINS)
START_URL = "http://lms.mockup.com/api/"
_DESCRIPTION = "<p>Demo Quiz Mockup</p>"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _a_year_ahead(end: datetime, started: datetime) -> datetime:
    """SEB Server's end date, moved on by whole years until it is at least a year after ``started``. Its mock
    ends quizzes 2 and 4-6 on 1 January 2028; unmoved, a server (or test) running later would have no running
    quiz that ends."""
    while end < started + timedelta(days=366):
        end = end.replace(year=end.year + 1)
    return end


def mock_quizzes(started: datetime) -> list[QuizData]:
    """The demo quizzes of a Testing LMS that started at ``started`` (quizzes 2, 4-6 and 10-13 count from it)."""
    def end(text: str) -> datetime:
        return _a_year_ahead(_at(text), started)

    fixed = [
        ("quiz1", "Demo Quiz 1 (MOCKUP)", _at("2020-01-01T09:00:00"), None),
        ("quiz2 äöüèÜÄÖ ?<", "Demo Quiz 2 (MOCKUP) äöüèÜÄÖ ?<", _at("2020-01-01T09:00:00"), end("2028-01-01T09:00:00")),
        ("quiz3", "Demo Quiz 3 (MOCKUP)", _at("2018-07-30T09:00:00"), _at("2018-08-01T00:00:00")),
        ("quiz4", "Demo Quiz 4 (MOCKUP)", _at("2018-01-01T00:00:00"), end("2028-01-01T00:00:00")),
        ("quiz5", "Demo Quiz 5 (MOCKUP)", _at("2018-01-01T09:00:00"), end("2028-01-01T09:00:00")),
        ("quiz6", "Demo Quiz 6 (MOCKUP)", _at("2019-01-01T09:00:00"), end("2028-01-01T09:00:00")),
        ("quiz7", "Demo Quiz 7 (MOCKUP)", _at("2018-01-01T09:00:00"), None),
        ("quiz10", "Demo Quiz 10 (MOCKUP)", started + timedelta(minutes=1), started + timedelta(minutes=6)),
    ]
    quizzes = [QuizData(id=quiz_id, name=name, start_time=start, end_time=stop, start_url=START_URL,
                        description=_DESCRIPTION) for quiz_id, name, start, stop in fixed]
    quizzes[-1] = QuizData(id="quiz10", name="Demo Quiz 10 (MOCKUP)", start_time=fixed[-1][2], end_time=fixed[-1][3],
                           start_url=START_URL, description="Starts in a minute and ends after five minutes")
    for number in (11, 12, 13):
        quizzes.append(QuizData(id=f"quiz{number}", name=f"Demo Quiz {number} (MOCKUP)",
                                start_time=started + timedelta(minutes=5), end_time=None, start_url=START_URL,
                                description="Starts in five minutes and ends never"))
    return quizzes


class TestingLmsSettings(BaseModel):
    """Any non-blank client name and secret are accepted."""

    __test__ = False  # not a pytest test class, despite the name

    client_name: str = ""
    client_secret: SecretStr = SecretStr("")


def matches(quiz: QuizData, quiz_filter: QuizFilter, now: datetime) -> bool:
    """SEB Server's lookup rule: name contains (any case); starts after ``start_from`` or is still open then."""
    if quiz_filter.name and quiz_filter.name.lower() not in quiz.name.lower():
        return False
    if quiz_filter.start_from is not None:
        starts_later = quiz.start_time is not None and quiz.start_time >= quiz_filter.start_from
        still_open = quiz.end_time is None or quiz.end_time > max(now, quiz_filter.start_from)
        return starts_later or still_open
    return True


@dataclass
class TestingLmsAdapter:
    __test__ = False
    context: IntegrationContext
    lms: TestingLms

    @property
    def settings(self) -> TestingLmsSettings:
        settings = self.context.settings
        assert isinstance(settings, TestingLmsSettings)
        return settings

    async def test(self) -> ConnectionTestResult:
        if not self.context.url.strip():
            return ConnectionTestResult.failure("api", "the LMS URL is missing")
        if not self.settings.client_name.strip() or not self.settings.client_secret.get_secret_value().strip():
            return ConnectionTestResult.failure("unauthorized", "the Testing LMS needs a client name and secret")
        return ConnectionTestResult.success("the Testing LMS serves its demo quizzes")

    async def find_quizzes(self, quiz_filter: QuizFilter) -> list[QuizData]:
        now = self.lms.clock()
        return [quiz for quiz in self.lms.quizzes() if matches(quiz, quiz_filter, now)]

    async def get_quizzes(self, ids: Sequence[str]) -> list[QuizData]:
        wanted = set(ids)
        return [quiz for quiz in self.lms.quizzes() if quiz.id in wanted]

    async def get_examinee(self, user_session_id: str) -> ExamineeAccount:
        return ExamineeAccount(id=user_session_id, name=user_session_id)

    async def get_course_chapters(self, course_id: str) -> list[Chapter]:
        return []


# Restrictions live in memory per LMS setup, like SEB Server's mock: enough to try the workflow.
_RESTRICTIONS: dict[tuple[int, str], SebRestriction] = {}


@dataclass
class TestingRestrictionApi:
    __test__ = False
    context: IntegrationContext
    store: dict[tuple[int, str], SebRestriction] = field(default_factory=lambda: _RESTRICTIONS)

    async def test(self) -> ConnectionTestResult:
        return ConnectionTestResult.success("the Testing LMS keeps SEB restrictions in memory")

    async def get(self, quiz: QuizData) -> SebRestriction | None:
        return self.store.get((self.context.instance_id, quiz.id))

    async def apply(self, quiz: QuizData, restriction: SebRestriction) -> SebRestriction:
        self.store[(self.context.instance_id, quiz.id)] = restriction
        return restriction

    async def release(self, quiz: QuizData) -> None:
        self.store.pop((self.context.instance_id, quiz.id), None)


class TestingLms:
    """The Testing LMS of one server, made with its plugin registry: the demo quizzes' times count from
    ``started``, the moment it was made, read from ``clock`` (aware UTC; tests pass their own)."""

    __test__ = False

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock
        self.started = clock().replace(microsecond=0)

    def quizzes(self) -> list[QuizData]:
        return mock_quizzes(self.started)

    @hookimpl
    def sebframe_lms_types(self) -> Iterator[LmsType]:
        yield LmsType(
            name=TESTING_LMS,
            display_name="Testing",
            settings_model=TestingLmsSettings,
            create_adapter=partial(TestingLmsAdapter, lms=self),
            features=frozenset({LmsFeature.COURSE_API, LmsFeature.SEB_RESTRICTION}),
        )

    @hookimpl
    def sebframe_restriction_apis(self) -> Iterator[RestrictionType]:
        yield RestrictionType(lms_type=TESTING_LMS, create_api=TestingRestrictionApi)
