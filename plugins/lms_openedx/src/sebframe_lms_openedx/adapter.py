"""Course access to Open edX (SEB Server's ``OpenEdxCourseAccess``): lookup, quizzes by id, names, chapters.

An Open edX course is what sebframe imports as an exam: the quiz id is the course key
(``course-v1:ORG+NUMBER+RUN``) and SEB opens ``{lms url}/courses/{course key}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sebframe.types import (
    Chapter,
    ConnectionTestResult,
    ExamineeAccount,
    IntegrationContext,
    QuizData,
    QuizFilter,
)
from sebframe_lms_openedx.client import COURSES_PATH, TOKEN_PATH, Course, OpenEdxClient, describe_failure
from sebframe_lms_openedx.settings import OpenEdxSettings

# Up to this many ids, get_quizzes asks for each course; beyond, one pass through the course list is cheaper.
DETAIL_LOOKUP_LIMIT = 10


def client_for(context: IntegrationContext, **options: Any) -> OpenEdxClient:
    """The HTTP client of one LMS setup; ``options`` tune paging and throttling (see ``OpenEdxClient``)."""
    settings = OpenEdxSettings.of(context.settings)
    return OpenEdxClient(context.http, context.url, settings.client_id, settings.client_secret.get_secret_value(),
                         **options)


def url_problem(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"the LMS URL {url!r} is not an http(s) address such as https://lms.example.org"
    return None


def start_url(base_url: str, course_id: str) -> str:
    """Where SEB opens the course, built like SEB Server: ``{lms url}/courses/{course id}``."""
    return f"{base_url.strip().rstrip('/')}/courses/{course_id}"


def matches(quiz: QuizData, quiz_filter: QuizFilter, now: datetime | None = None) -> bool:
    """SEB Server's lookup filter: the name contains ``name`` (any case); with ``start_from``, the quiz starts
    then or later, or is still open then (no end, or an end after ``max(now, start_from)``)."""
    if quiz_filter.name and quiz_filter.name.lower() not in quiz.name.lower():
        return False
    if quiz_filter.start_from is None:
        return True
    start_from = _aware(quiz_filter.start_from)
    starts_later = quiz.start_time is not None and quiz.start_time >= start_from
    still_open = quiz.end_time is None or quiz.end_time > max(now or datetime.now(UTC), start_from)
    return starts_later or still_open


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class OpenEdxAdapter:
    """``LmsAdapter`` for one Open edX LMS setup."""

    def __init__(self, context: IntegrationContext, *, client: OpenEdxClient | None = None, **options: Any) -> None:
        self.context = context
        self.client = client or client_for(context, **options)

    @property
    def base_url(self) -> str:
        return self.client.base_url

    def quiz_of(self, course: Course) -> QuizData:
        return QuizData(
            id=course.id,
            name=course.name,
            start_time=course.start,
            end_time=course.end,
            start_url=start_url(self.base_url, course.id),
            description=course.short_description or "",
            course_id=course.id,
        )

    async def test(self) -> ConnectionTestResult:
        problem = url_problem(self.context.url)
        if problem:
            return ConnectionTestResult.failure("api", problem)
        try:
            await self.client.fetch_token()
        except Exception as exc:
            return describe_failure(exc, self.client.url(TOKEN_PATH))
        try:
            page = await self.client.first_course_page()
        except Exception as exc:
            return describe_failure(exc, self.client.url(COURSES_PATH))
        count = page.total if page.total is not None else len(page.results)
        return ConnectionTestResult.success(
            f"Open edX at {self.base_url} issued a token and its course API lists {count} course(s)"
        )

    async def find_quizzes(self, quiz_filter: QuizFilter) -> list[QuizData]:
        now = datetime.now(UTC)
        found = []
        async with aclosing(self.client.iter_courses()) as courses:
            async for course in courses:
                quiz = self.quiz_of(course)
                if matches(quiz, quiz_filter, now):
                    found.append(quiz)
        return found

    async def get_quizzes(self, ids: Sequence[str]) -> list[QuizData]:
        wanted = list(dict.fromkeys(quiz_id for quiz_id in ids if quiz_id))
        found: dict[str, QuizData] = {}
        if len(wanted) <= DETAIL_LOOKUP_LIMIT:
            for quiz_id in wanted:
                course = await self.client.course(quiz_id)
                if course is not None and course.id == quiz_id:
                    found[quiz_id] = self.quiz_of(course)
        missing = set(wanted) - found.keys()
        if missing:  # restricted courses answer 403 on the detail (SEB Server's observation): page through the list
            async with aclosing(self.client.iter_courses()) as courses:
                async for course in courses:
                    if course.id in missing:
                        found[course.id] = self.quiz_of(course)
                        missing.discard(course.id)
                        if not missing:
                            break
        return [found[quiz_id] for quiz_id in wanted if quiz_id in found]

    async def get_examinee(self, user_session_id: str) -> ExamineeAccount:
        """The Open edX account whose username is the SEB session's user id; an unknown user (or an id that is
        not a username) gives an account with only the id, shown as the id."""
        if not user_session_id.strip() or "," in user_session_id:  # a comma would ask for several users
            return ExamineeAccount(id=user_session_id)
        accounts = await self.client.accounts(user_session_id)
        account = next((item for item in accounts if item.username == user_session_id), None)
        if account is None and accounts:
            account = accounts[0]
        if account is None:
            return ExamineeAccount(id=user_session_id)
        return ExamineeAccount(id=account.username, name=account.name or None, username=account.username,
                               email=account.email or None)

    async def get_course_chapters(self, course_id: str) -> list[Chapter]:
        """The course's chapters in outline order (by name when the LMS does not give the order); the chapter
        ids are what ``BLACKLIST_CHAPTERS`` takes."""
        structure = await self.client.course_blocks(course_id)
        chapters = {key: block for key, block in structure.blocks.items() if block.type == "chapter"}
        root = structure.blocks.get(structure.root)
        outline = {key: index for index, key in enumerate(root.children or [])} if root is not None else {}

        def order(item: tuple[str, Any]) -> tuple[int, str]:
            key, block = item
            return outline.get(key, len(outline)), (block.display_name or block.block_id).lower()

        return [Chapter(id=block.block_id, name=block.display_name or block.block_id)
                for _, block in sorted(chapters.items(), key=order)]
