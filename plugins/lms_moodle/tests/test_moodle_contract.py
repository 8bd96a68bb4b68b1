"""sebframe's LMS contract tests for both Moodle types, and the restriction contract for MOODLE_PLUGIN."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sebframe.testing.fakes.moodle import FakeMoodle
from sebframe.testing.lms import LmsAdapterContract, RestrictionApiContract
from sebframe.types import LmsAdapter, QuizData, RestrictionApi, SebRestriction


def _quiz(quiz_id: str, name: str) -> QuizData:
    return QuizData(id=quiz_id, name=name, start_time=None, end_time=None, start_url="")


class _Examinee:
    @pytest.fixture
    def known_user_session_id(self) -> str:
        return "2"

    @pytest.fixture
    def known_user_name(self) -> str:
        return "User Test (2)"  # SEB Server's "lastname firstname (id)"


class TestMoodlePluginAdapterContract(_Examinee, LmsAdapterContract):
    @pytest.fixture
    def adapter(self, shared_moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> LmsAdapter:
        return adapter_for(shared_moodle, "MOODLE_PLUGIN")

    @pytest.fixture
    def broken_adapter(self, shared_moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> LmsAdapter:
        return adapter_for(shared_moodle, "MOODLE_PLUGIN", username=shared_moodle.username, password="wrong")

    @pytest.fixture
    def known_quiz(self) -> QuizData:
        return _quiz("101:1:c1:i1", "c1 : quiz 101")  # SEB Server's fixture id, quiz id in the first slot


class TestMoodleCoreAdapterContract(_Examinee, LmsAdapterContract):
    @pytest.fixture
    def adapter(self, shared_moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> LmsAdapter:
        return adapter_for(shared_moodle, "MOODLE")

    @pytest.fixture
    def broken_adapter(self, shared_moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> LmsAdapter:
        return adapter_for(shared_moodle, "MOODLE", token="0" * 32)

    @pytest.fixture
    def known_quiz(self) -> QuizData:
        return _quiz("501:1:c1:i1", "c1 : quiz 101")  # legacy ids carry the course module id


class TestMoodleRestrictionContract(RestrictionApiContract):
    stores_config_keys = False  # the SEB Server Moodle plugin enforces Browser Exam Keys only

    @pytest.fixture
    def fake(self) -> Iterator[FakeMoodle]:
        with FakeMoodle() as server:
            yield server

    @pytest.fixture
    def restriction_api(self, fake: FakeMoodle, restriction_for: Callable[..., RestrictionApi]) -> RestrictionApi:
        self.server: FakeMoodle = fake  # for the Moodle-specific round trip below
        return restriction_for(fake)

    @pytest.fixture
    def restricted_quiz(self) -> QuizData:
        return _quiz("101:1:c1:i1", "c1 : quiz 101")

    async def test_the_fake_holds_exactly_the_browser_exam_keys(
        self, restriction_api: RestrictionApi, restricted_quiz: QuizData
    ) -> None:
        restriction = SebRestriction(config_keys=("c" * 64,), browser_exam_keys=("d" * 64,))
        await restriction_api.apply(restricted_quiz, restriction)
        assert self.server.browser_keys_of(101) == ["d" * 64]
        await restriction_api.release(restricted_quiz)
        assert self.server.browser_keys_of(101) is None
