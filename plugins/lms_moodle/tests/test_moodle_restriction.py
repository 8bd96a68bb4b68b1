"""SEB restriction through the SEB Server Moodle plugin: arguments, the alternative BEK, Moodle's refusals."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sebframe_lms_moodle.client import MoodleError, MoodleNotFound
from sebframe_lms_moodle.restriction import ALTERNATIVE_SEB_BEK, MoodleRestrictionRefused

from sebframe.testing.fakes.moodle import FakeMoodle
from sebframe.types import QuizData, RestrictionApi, SebRestriction

pytestmark = pytest.mark.anyio

BEK = "b" * 64
ALT = "e" * 64
CK = "c" * 64


def _quiz(quiz_id: str = "101:1:c1:i1") -> QuizData:
    return QuizData(id=quiz_id, name=quiz_id, start_time=None, end_time=None, start_url="")


async def test_apply_sends_the_plugins_arguments_and_adds_the_alternative_bek(
        moodle: FakeMoodle, restriction_for: Callable[..., RestrictionApi]) -> None:
    api = restriction_for(moodle)
    applied = await api.apply(_quiz(), SebRestriction(config_keys=(CK,), browser_exam_keys=(BEK,),
                                                      properties={ALTERNATIVE_SEB_BEK: ALT}))
    call = moodle.calls_of("quizaccess_sebserver_set_restriction")[-1]
    assert ("quizid", "101") in call.query
    assert call.form[1:] == (("configkeys[0]", CK), ("browserkeys[0]", BEK), ("browserkeys[1]", ALT))
    assert applied.browser_exam_keys == (BEK, ALT) and applied.config_keys == ()
    assert applied.properties[ALTERNATIVE_SEB_BEK] == ALT
    assert moodle.browser_keys_of(101) == [BEK, ALT]
    # Applying again with the alternative BEK already listed does not send it twice.
    await api.apply(_quiz(), SebRestriction(browser_exam_keys=(ALT.upper(),), properties={ALTERNATIVE_SEB_BEK: ALT}))
    assert moodle.browser_keys_of(101) == [ALT.upper()]
    # Moodle lower-cases the keys it reports.
    current = await api.get(_quiz())
    assert current is not None and current.browser_exam_keys == (ALT,)


async def test_release_sends_empty_lists(moodle: FakeMoodle, restriction_for: Callable[..., RestrictionApi]) -> None:
    api = restriction_for(moodle)
    await api.apply(_quiz(), SebRestriction(browser_exam_keys=(BEK,)))
    await api.release(_quiz())
    call = moodle.calls_of("quizaccess_sebserver_set_restriction")[-1]
    assert call.form[1:] == (("configkeys[0]", ""), ("browserkeys[0]", ""))
    assert moodle.browser_keys_of(101) is None and not moodle.sebserver[101].restricted
    assert await api.get(_quiz()) is None  # "SEB Client is not enabled for quiz ID 101"
    await api.release(_quiz())  # releasing again is fine
    # An empty restriction is a release too (Moodle deletes on empty lists).
    assert await api.apply(_quiz(), SebRestriction()) == SebRestriction()


async def test_get_of_a_quiz_without_restriction(moodle: FakeMoodle,
                                                 restriction_for: Callable[..., RestrictionApi]) -> None:
    api = restriction_for(moodle)
    assert await api.get(_quiz()) is None
    del moodle.sebserver[101]  # SEB Server not enabled for the quiz at all
    assert await api.get(_quiz()) is None
    with pytest.raises(MoodleNotFound, match="no quiz 4242"):
        await api.get(_quiz("4242:1:c1:i1"))
    with pytest.raises(MoodleNotFound, match="not a Moodle quiz id"):
        await api.get(_quiz("quiz1"))


async def test_config_keys_alone_are_refused(moodle: FakeMoodle,
                                             restriction_for: Callable[..., RestrictionApi]) -> None:
    with pytest.raises(MoodleRestrictionRefused, match="Browser Exam Keys only") as raised:
        await restriction_for(moodle).apply(_quiz(), SebRestriction(config_keys=(CK,)))
    assert "browserkeysempty" in raised.value.message and raised.value.kind == "api"


async def test_quiz_with_attempts_cannot_change(moodle: FakeMoodle,
                                                restriction_for: Callable[..., RestrictionApi]) -> None:
    api = restriction_for(moodle)
    await api.apply(_quiz(), SebRestriction(browser_exam_keys=(BEK,)))
    moodle.quizzes[101].has_attempts = True
    with pytest.raises(MoodleRestrictionRefused, match="already has attempts"):
        await api.apply(_quiz(), SebRestriction(browser_exam_keys=("d" * 64,)))
    with pytest.raises(MoodleRestrictionRefused, match="did not release .* already has attempts"):
        await api.release(_quiz())
    assert moodle.browser_keys_of(101) == [BEK]


async def test_quiz_without_seb_server_is_refused(moodle: FakeMoodle,
                                                  restriction_for: Callable[..., RestrictionApi]) -> None:
    del moodle.sebserver[101]
    with pytest.raises(MoodleRestrictionRefused, match="no SebServer Info.*enable SEB Server for this quiz"):
        await restriction_for(moodle).apply(_quiz(), SebRestriction(browser_exam_keys=(BEK,)))
    moodle.sebserver[102] = moodle.sebserver[102].__class__(enabled=False)
    with pytest.raises(MoodleRestrictionRefused, match="SebServer disabled"):
        await restriction_for(moodle).apply(_quiz("102:2:c2:i2"), SebRestriction(browser_exam_keys=(BEK,)))


async def test_missing_capability(moodle: FakeMoodle, restriction_for: Callable[..., RestrictionApi]) -> None:
    moodle.can_manage_quizzes = False
    with pytest.raises(MoodleRestrictionRefused, match="mod/quiz:manage") as raised:
        await restriction_for(moodle).apply(_quiz(), SebRestriction(browser_exam_keys=(BEK,)))
    assert raised.value.kind == "unauthorized"
    with pytest.raises(MoodleRestrictionRefused, match="not allowed to GET"):
        await restriction_for(moodle).get(_quiz())


async def test_unknown_quiz(moodle: FakeMoodle, restriction_for: Callable[..., RestrictionApi]) -> None:
    with pytest.raises(MoodleNotFound, match="no quiz 4242"):
        await restriction_for(moodle).apply(_quiz("4242:1:c1:i1"), SebRestriction(browser_exam_keys=(BEK,)))


async def test_plugin_v1_takes_quit_link_and_secret(restriction_for: Callable[..., RestrictionApi]) -> None:
    with FakeMoodle(plugin="v1") as old:
        api = restriction_for(old)
        assert "(V1)" in (await api.test()).message
        del old.sebserver[101]  # V1 creates the SEB Server record itself
        applied = await api.apply(_quiz(), SebRestriction(browser_exam_keys=(BEK,), properties={
            "quitlink": "https://moodle/quit", "quitsecret": "s3cret"}))
        assert applied.properties == {"quitlink": "https://moodle/quit", "quitsecret": "s3cret"}
        assert old.calls_of("quizaccess_sebserver_set_restriction")[-1].arg("quitsecret") == "s3cret"
        current = await api.get(_quiz())
        assert current is not None and current.properties["quitlink"] == "https://moodle/quit"


async def test_plugin_v2_gets_no_quit_link(moodle: FakeMoodle,
                                           restriction_for: Callable[..., RestrictionApi]) -> None:
    api = restriction_for(moodle)
    assert "(V2)" in (await api.test()).message
    await api.apply(_quiz(), SebRestriction(browser_exam_keys=(BEK,), properties={"quitlink": "https://q"}))
    assert moodle.calls_of("quizaccess_sebserver_set_restriction")[-1].arg("quitlink") is None  # V2 would refuse it


async def test_restriction_test_without_plugin(restriction_for: Callable[..., RestrictionApi]) -> None:
    with FakeMoodle(plugin=None) as plain:
        result = await restriction_for(plain, token=plain.issue_token("moodle_mobile_app")).test()
        assert not result.ok and "SEB Server Moodle plugin is not installed or not enabled" in result.message
        assert "quizaccess_sebserver_get_restriction" in result.message
        with pytest.raises(MoodleError, match="SEB Server Moodle plugin is not installed"):
            await restriction_for(plain, token=plain.issue_token("moodle_mobile_app")).get(_quiz())
