"""Course access for Moodle: quizzes as ``QuizData``, examinee names, (no) chapters.

Two flavours, as in SEB Server:

- ``MOODLE`` (:class:`MoodleCoreAdapter`): core web services only. Courses are paged with
  ``core_course_search_courses`` (empty search value = all courses), their details come from
  ``core_course_get_courses_by_field`` and their quizzes from ``mod_quiz_get_quizzes_by_courses``. The first
  slot of the internal quiz id is the course module id, as SEB Server's legacy code stores it.
- ``MOODLE_PLUGIN`` (:class:`MoodlePluginAdapter`): the SEB Server Moodle plugin's
  ``quizaccess_sebserver_get_exams`` returns courses with their quizzes in one call per page; the first slot of
  the internal quiz id is the quiz id.

Both look users up with ``core_user_get_users_by_field`` and filter quizzes on the sebframe side: the name
contains the filter text (any case), and with a start date the quiz starts then or later or is still open then
(SEB Server's rule). The plugin's SQL ``conditions`` filter is not used, as in SEB Server (SEBSERV-705).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from sebframe.types import (
    Chapter,
    ConnectionTestResult,
    ExamineeAccount,
    IntegrationContext,
    QuizData,
    QuizFilter,
)
from sebframe_lms_moodle.client import (
    MOBILE_APP_SERVICE,
    SEB_SERVER_SERVICE,
    MoodleClient,
    MoodleError,
    MoodleNotFound,
    parse,
)
from sebframe_lms_moodle.quiz_ids import internal_quiz_id, parse_internal_quiz_id
from sebframe_lms_moodle.responses import Courses, ExamsPage, MoodleUser, MoodleWarning, Quizzes, SearchPage, Users

log = logging.getLogger(__name__)

SITE_INFO = "core_webservice_get_site_info"
USERS_BY_FIELD = "core_user_get_users_by_field"
SEARCH_COURSES = "core_course_search_courses"
COURSES_BY_FIELD = "core_course_get_courses_by_field"
QUIZZES_BY_COURSES = "mod_quiz_get_quizzes_by_courses"
GET_EXAMS = "quizaccess_sebserver_get_exams"
QUIZ_START_PATH = "mod/quiz/view.php?id="

# QuizData.additional keys, as SEB Server names them (QuizData.ATTR_ADDITIONAL_*).
ATTR_TIME_CREATED = "time_created"
ATTR_SHORT_NAME = "course_short_name"
ATTR_ID_NUMBER = "idnumber"
ATTR_FULL_NAME = "course_full_name"
ATTR_DISPLAY_NAME = "course_display_name"
ATTR_SUMMARY = "course_summary"
ATTR_TIME_LIMIT = "time_limit"


def matches(quiz: QuizData, quiz_filter: QuizFilter) -> bool:
    """SEB Server's lookup rule: name contains (any case); starts at ``start_from`` or later, or is still open then."""
    if quiz_filter.name and quiz_filter.name.strip().lower() not in quiz.name.lower():
        return False
    if quiz_filter.start_from is not None:
        start_from = _aware(quiz_filter.start_from)
        starts_later = quiz.start_time is not None and quiz.start_time >= start_from
        still_open = quiz.end_time is None or quiz.end_time > max(datetime.now(UTC), start_from)
        return starts_later or still_open
    return True


def display_name(user: MoodleUser, fallback: str) -> str:
    """SEB Server's ``MoodleUtils.getDisplayName``: "last first", else "last full", else full, else ``fallback``."""
    first, last, full = (user.firstname or "").strip(), (user.lastname or "").strip(), (user.fullname or "").strip()
    if first and last:
        return f"{last} {first}"
    if last and full:
        return f"{last} {full}"
    return full or fallback


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _time(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds and seconds > 0 else None


class MoodleAdapter(ABC):
    """What both Moodle flavours share: sign-in, connection test, user lookup, quiz records."""

    lms_type: ClassVar[str] = ""
    default_services: ClassVar[tuple[str, ...]] = ()
    required_functions: ClassVar[tuple[str, ...]] = ()
    page_size: int = 500
    max_quizzes: int = 10_000  # SEB Server's sebserver.webservice.cache.moodle.course.maxSize
    max_pages: int = 1_000

    def __init__(self, context: IntegrationContext) -> None:
        self.context = context
        self.client = MoodleClient(context, default_services=self.default_services)
        self.settings = self.client.settings

    # -- LmsAdapter ------------------------------------------------------------------------------------------

    async def test(self) -> ConnectionTestResult:
        """Token, ``core_webservice_get_site_info``, and the functions this LMS type calls."""
        if not self.context.url.strip():
            return ConnectionTestResult.failure("config", "the Moodle URL is missing")
        try:
            info = await self.client.require_functions((SITE_INFO, *self.required_functions))
        except MoodleError as exc:
            return ConnectionTestResult.failure(exc.kind, exc.message)
        site = info.sitename or "Moodle"
        release = f" {info.release.split(' ')[0]}" if info.release else ""
        return ConnectionTestResult.success(f"signed in to {site} (Moodle{release}) as {info.username}; the web "
                                            f"service offers the functions sebframe needs")

    async def find_quizzes(self, quiz_filter: QuizFilter) -> list[QuizData]:
        return [quiz for quiz in await self._all_quizzes() if matches(quiz, quiz_filter)]

    async def get_quizzes(self, ids: Sequence[str]) -> list[QuizData]:
        """Quizzes by internal id; ids of unknown quizzes or courses, and malformed ids, are left out."""
        wanted = [(raw, parsed) for raw in dict.fromkeys(ids) if (parsed := parse_internal_quiz_id(raw)) is not None]
        if not wanted:
            return []
        found = {self._key(quiz): quiz for quiz in
                 await self._quizzes_of_courses(sorted({parsed.course_id for _, parsed in wanted}))}
        result: list[QuizData] = []
        seen: set[str] = set()
        for _, parsed in wanted:
            quiz = found.get((parsed.quiz_id, parsed.course_id))
            if quiz is not None and quiz.id not in seen:
                seen.add(quiz.id)
                result.append(quiz)
        return result

    async def get_examinee(self, user_session_id: str) -> ExamineeAccount:
        """The Moodle user whose id the SEB client sent (from the plugin's ``user.php``); unknown: ``LookupError``."""
        user_id = user_session_id.strip()
        if not user_id.isdigit():
            raise MoodleNotFound(f"{user_session_id!r} is not a Moodle user id", function=USERS_BY_FIELD)
        answer = await self.client.call(USERS_BY_FIELD, {"field": "id", "values": [user_id]})
        users: Users = parse(Users, {"users": answer}, USERS_BY_FIELD)
        if not users.users:
            raise MoodleNotFound(f"Moodle has no user with id {user_id} (or the web-service user may not see it)",
                                 function=USERS_BY_FIELD)
        user = users.users[0]
        return ExamineeAccount(id=str(user.id), name=display_name(user, user_id), username=user.username or None,
                               email=user.email or None)

    async def get_course_chapters(self, course_id: str) -> list[Chapter]:
        """Moodle has no chapter-based SEB restriction (SEB Server: empty list, or "not available"): always ``[]``."""
        return []

    # -- per flavour -----------------------------------------------------------------------------------------

    @abstractmethod
    async def _all_quizzes(self) -> list[QuizData]:
        """Every quiz this flavour can see."""

    @abstractmethod
    async def _quizzes_of_courses(self, course_ids: Sequence[int]) -> list[QuizData]:
        """The quizzes of the given courses."""

    def _key(self, quiz: QuizData) -> tuple[int, int]:
        parsed = parse_internal_quiz_id(quiz.id)
        assert parsed is not None
        return parsed.quiz_id, parsed.course_id

    # -- QuizData ------------------------------------------------------------------------------------------

    def _quiz_data(self, course: Any, quiz: Any, first_slot: int) -> QuizData:
        """One quiz as SEB Server's ``MoodleUtils.quizDataOf`` builds it."""
        shortname: str = course.shortname or ""
        idnumber: str | None = getattr(course, "idnumber", None)
        additional: dict[str, str] = {}
        for key, value in ((ATTR_TIME_CREATED, getattr(course, "timecreated", None)),
                           (ATTR_SHORT_NAME, shortname), (ATTR_ID_NUMBER, idnumber),
                           (ATTR_FULL_NAME, getattr(course, "fullname", None)),
                           (ATTR_DISPLAY_NAME, getattr(course, "displayname", None)),
                           (ATTR_SUMMARY, getattr(course, "summary", None)),
                           (ATTR_TIME_LIMIT, getattr(quiz, "timelimit", None))):
            if value is not None and str(value).strip():
                additional[key] = str(value)
        name = f"{shortname} : {quiz.name}" if self.settings.prepend_course_short_name else quiz.name
        return QuizData(
            id=internal_quiz_id(first_slot, course.id, shortname, idnumber),
            name=name,
            start_time=_time(quiz.timeopen) or _time(course.startdate),
            end_time=_time(quiz.timeclose) or _time(course.enddate),
            start_url=f"{self.client.base_url}{QUIZ_START_PATH}{quiz.coursemodule}",
            description=quiz.intro or "",
            course_id=str(course.id),
            additional=additional,
        )

    def _capped(self, quizzes: list[QuizData]) -> bool:
        if len(quizzes) >= self.max_quizzes:
            log.warning("Moodle %s: stopped the quiz lookup at %d quizzes", self.client.base_url, self.max_quizzes)
            return True
        return False


def _log_warnings(function: str, warnings: Iterable[MoodleWarning], base_url: str) -> None:
    listed = list(warnings)
    if listed:
        log.info("Moodle %s: %d warning(s) from %s, e.g. %s", base_url, len(listed), function, listed[0].message)


class MoodlePluginAdapter(MoodleAdapter):
    """``MOODLE_PLUGIN``: courses and quizzes from the SEB Server Moodle plugin (``quizaccess_sebserver``)."""

    lms_type = "MOODLE_PLUGIN"
    default_services = (SEB_SERVER_SERVICE,)
    required_functions = (GET_EXAMS, USERS_BY_FIELD)
    page_size = 1_000  # SEB Server's sebserver.webservice.cache.moodle.course.pageSize

    async def _all_quizzes(self) -> list[QuizData]:
        quizzes: list[QuizData] = []
        needle = 0
        for _ in range(self.max_pages):
            answer = await self.client.call(GET_EXAMS, {"courseid": [0], "startneedle": needle,
                                                        "perpage": self.page_size}, tolerate=("nocoursefound",))
            if _is_error(answer):  # nocoursefound: past the last page
                break
            page: ExamsPage = parse(ExamsPage, answer, GET_EXAMS)
            _log_warnings(GET_EXAMS, page.warnings, self.client.base_url)
            quizzes.extend(self._quiz_data(course, quiz, quiz.id) for course in page.results for quiz in course.quizzes)
            if self._capped(quizzes):
                break
            on_page = page.stats.coursecount if page.stats and page.stats.coursecount is not None \
                else len(page.results)
            if on_page < self.page_size:
                break
            needle += self.page_size
        return quizzes

    async def _quizzes_of_courses(self, course_ids: Sequence[int]) -> list[QuizData]:
        answer = await self.client.call(GET_EXAMS, {"courseid": list(course_ids)}, tolerate=("nocoursefound",))
        if _is_error(answer):
            return []
        page: ExamsPage = parse(ExamsPage, answer, GET_EXAMS)
        return [self._quiz_data(course, quiz, quiz.id) for course in page.results for quiz in course.quizzes]


class MoodleCoreAdapter(MoodleAdapter):
    """``MOODLE``: courses and quizzes from Moodle's core web services (no plugin needed)."""

    lms_type = "MOODLE"
    default_services = (MOBILE_APP_SERVICE,)
    required_functions = (SEARCH_COURSES, COURSES_BY_FIELD, QUIZZES_BY_COURSES, USERS_BY_FIELD)
    page_size = 500  # SEB Server's legacy default

    async def _all_quizzes(self) -> list[QuizData]:
        quizzes: list[QuizData] = []
        for page_number in range(self.max_pages):
            answer = await self.client.call(SEARCH_COURSES, {"criterianame": "search", "criteriavalue": "",
                                                             "page": page_number, "perpage": self.page_size})
            page: SearchPage = parse(SearchPage, answer, SEARCH_COURSES)
            _log_warnings(SEARCH_COURSES, page.warnings, self.client.base_url)
            ids = [course.id for course in page.courses]
            if not ids:
                break
            quizzes.extend(await self._quizzes_of_courses(ids))
            if self._capped(quizzes) or len(ids) < self.page_size or (page_number + 1) * self.page_size >= page.total:
                break
        return quizzes

    async def _quizzes_of_courses(self, course_ids: Sequence[int]) -> list[QuizData]:
        answer = await self.client.call(COURSES_BY_FIELD, {"field": "ids",
                                                           "value": ",".join(str(i) for i in course_ids)})
        courses: Courses = parse(Courses, answer, COURSES_BY_FIELD)
        _log_warnings(COURSES_BY_FIELD, courses.warnings, self.client.base_url)
        by_id = {course.id: course for course in courses.courses}
        if not by_id:
            return []
        answer = await self.client.call(QUIZZES_BY_COURSES, {"courseids": sorted(by_id)})
        found: Quizzes = parse(Quizzes, answer, QUIZZES_BY_COURSES)
        _log_warnings(QUIZZES_BY_COURSES, found.warnings, self.client.base_url)
        return [self._quiz_data(by_id[quiz.course], quiz, quiz.coursemodule) for quiz in found.quizzes
                if quiz.course in by_id]


def _is_error(answer: Any) -> bool:
    return isinstance(answer, dict) and "exception" in answer and "errorcode" in answer
