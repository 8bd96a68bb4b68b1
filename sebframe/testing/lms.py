"""Contract tests every LMS plugin should pass; subclass them in the plugin's test suite.

Provide the fixtures named in each class's docstring (usually backed by a fake LMS server on 127.0.0.1)
and the inherited tests check the behaviour sebframe relies on::

    from sebframe.testing.lms import LmsAdapterContract

    class TestMyLmsAdapter(LmsAdapterContract):
        @pytest.fixture
        def adapter(self, fake_lms): ...
"""

from __future__ import annotations

import pytest

from sebframe.types import LmsAdapter, QuizData, QuizFilter, RestrictionApi, SebRestriction


class LmsAdapterContract:
    """Fixtures: ``adapter`` (working credentials), ``broken_adapter`` (wrong credentials), ``known_quiz``
    (a ``QuizData`` the LMS has), ``known_user_session_id`` and ``known_user_name`` (its display name)."""

    pytestmark = pytest.mark.anyio

    async def test_connection_test_passes(self, adapter: LmsAdapter) -> None:
        result = await adapter.test()
        assert result.ok, result.message

    async def test_wrong_credentials_fail_with_a_message(self, broken_adapter: LmsAdapter) -> None:
        result = await broken_adapter.test()
        assert not result.ok
        assert result.message and result.error_kind

    async def test_lookup_finds_the_known_quiz(self, adapter: LmsAdapter, known_quiz: QuizData) -> None:
        quizzes = {quiz.id: quiz for quiz in await adapter.find_quizzes(QuizFilter())}
        assert known_quiz.id in quizzes
        found = quizzes[known_quiz.id]
        assert found.name == known_quiz.name
        assert found.start_url

    async def test_lookup_filters_by_name_case_insensitively(self, adapter: LmsAdapter, known_quiz: QuizData) -> None:
        part = known_quiz.name[1:-1].swapcase() if len(known_quiz.name) > 2 else known_quiz.name
        matches = await adapter.find_quizzes(QuizFilter(name=part))
        assert known_quiz.id in {quiz.id for quiz in matches}
        assert all(part.lower() in quiz.name.lower() for quiz in matches)
        assert await adapter.find_quizzes(QuizFilter(name="no quiz is called like this 7f3a")) == []

    async def test_get_quizzes_by_id_leaves_unknown_ids_out(self, adapter: LmsAdapter, known_quiz: QuizData) -> None:
        quizzes = await adapter.get_quizzes([known_quiz.id, "no-such-quiz-7f3a"])
        assert [quiz.id for quiz in quizzes] == [known_quiz.id]

    async def test_examinee_name_is_resolved(
        self, adapter: LmsAdapter, known_user_session_id: str, known_user_name: str
    ) -> None:
        account = await adapter.get_examinee(known_user_session_id)
        assert account.display_name == known_user_name


class RestrictionApiContract:
    """Fixtures: ``restriction_api`` (working credentials) and ``restricted_quiz`` (a ``QuizData`` to restrict).

    Set ``stores_config_keys = False`` for an LMS that enforces Browser Exam Keys only (the SEB Server Moodle
    plugin): the cycle is then checked on the Browser Exam Keys, and Config Keys must be reported as not kept.
    """

    pytestmark = pytest.mark.anyio

    stores_config_keys = True
    config_keys = ("a" * 64,)
    browser_exam_keys = ("b" * 64,)

    def _kept(self, restriction: SebRestriction) -> set[str]:
        return set(restriction.config_keys if self.stores_config_keys else restriction.browser_exam_keys)

    async def test_connection_test_passes(self, restriction_api: RestrictionApi) -> None:
        result = await restriction_api.test()
        assert result.ok, result.message

    async def test_apply_read_update_release(self, restriction_api: RestrictionApi, restricted_quiz: QuizData) -> None:
        first = SebRestriction(config_keys=self.config_keys, browser_exam_keys=self.browser_exam_keys)
        expected = self._kept(first)
        applied = await restriction_api.apply(restricted_quiz, first)
        assert self._kept(applied) == expected
        if not self.stores_config_keys:
            assert applied.config_keys == ()
        current = await restriction_api.get(restricted_quiz)
        assert current is not None and current.is_restricting and self._kept(current) == expected
        second = SebRestriction(config_keys=("c" * 64,), browser_exam_keys=("d" * 64,))
        updated = await restriction_api.apply(restricted_quiz, second)
        assert self._kept(updated) == self._kept(second)
        await restriction_api.release(restricted_quiz)
        released = await restriction_api.get(restricted_quiz)
        assert released is None or not released.is_restricting


__all__ = ["LmsAdapterContract", "RestrictionApiContract"]
