"""Course access: quiz records, ids, filters, paging, examinees, chapters, connection test."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sebframe_lms_moodle.adapter import MoodleAdapter, display_name
from sebframe_lms_moodle.client import MoodleNotFound
from sebframe_lms_moodle.quiz_ids import internal_quiz_id, mask_shortname, parse_internal_quiz_id
from sebframe_lms_moodle.responses import MoodleUser

from sebframe.testing.fakes.moodle import FakeCourse, FakeMoodle, FakeQuiz, FakeUser
from sebframe.types import LmsAdapter, QuizFilter

pytestmark = pytest.mark.anyio

T0 = 1767225600  # 2026-01-01T00:00:00Z
T_END = 4102444800  # 2100-01-01T00:00:00Z


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# -- internal quiz ids --------------------------------------------------------------------------------------


def test_internal_quiz_id_masks_the_short_name_like_seb_server() -> None:
    assert internal_quiz_id(101, 1, "c1", "i1") == "101:1:c1:i1"
    assert internal_quiz_id(7, 2, None, "") == "7:2:--:--"
    assert mask_shortname("A;B:C/D\\E&F<G>") == "A_SC_B_COLON_C_SL_D_BSL_E_AMP_F_AO_G_AC_"
    assert len(mask_shortname("x" * 300)) == 200
    parsed = parse_internal_quiz_id("7:2:A_COLON_B:id:with:colons")
    assert parsed is not None and (parsed.quiz_id, parsed.course_id) == (7, 2)
    assert parsed.shortname == "A:B" and parsed.idnumber == "id:with:colons"
    assert parse_internal_quiz_id("7:2:--:--") is not None and parse_internal_quiz_id("7:2:--:--").shortname is None
    for bad in ("no-such-quiz", "7", "a:1", "7:b", ""):
        assert parse_internal_quiz_id(bad) is None


# -- QuizData -----------------------------------------------------------------------------------------------


@pytest.fixture
def special() -> FakeMoodle:
    courses = [
        FakeCourse(3, "Ma:th/1", "Mathematics 1", idnumber="M-1", summary="<p>Sum</p>", startdate=T0,
                   enddate=T_END, timecreated=T0 - 86400),
        FakeCourse(4, "phys", "Physics", startdate=0, enddate=0),
    ]
    quizzes = [
        FakeQuiz(31, 3, 301, "Final", intro="<b>Good luck</b>", timeopen=T0 + 86400, timeclose=T0 + 2 * 86400,
                 timelimit=5400),
        FakeQuiz(32, 3, 302, "Mock exam"),  # no own times: the course's
        FakeQuiz(41, 4, 401, "Lab test"),  # no times at all
    ]
    users = [FakeUser(5, "nolast", "Solo", ""), FakeUser(6, "x", "", "")]
    return FakeMoodle(courses=courses, quizzes=quizzes, users=users, base_path="/moodle")


@pytest.mark.parametrize(("lms_type", "first_slot"), [("MOODLE_PLUGIN", 31), ("MOODLE", 301)])
async def test_quiz_data_like_seb_server(special: FakeMoodle, adapter_for: Callable[..., LmsAdapter],
                                         lms_type: str, first_slot: int) -> None:
    with special:
        found = {q.name: q for q in await adapter_for(special.url + "/", lms_type, username=special.username,
                                                      password=special.password).find_quizzes(QuizFilter())}
    final = found["Ma:th/1 : Final"]
    assert final.id == f"{first_slot}:3:Ma_COLON_th_SL_1:M-1"
    assert final.start_url == f"{special.url}/mod/quiz/view.php?id=301"  # course module id, one slash
    assert (final.start_time, final.end_time) == (_at(T0 + 86400), _at(T0 + 2 * 86400))
    assert final.description == "<b>Good luck</b>" and final.course_id == "3"
    assert final.additional["course_short_name"] == "Ma:th/1" and final.additional["idnumber"] == "M-1"
    assert final.additional["course_full_name"] == "Mathematics 1"
    assert final.additional["time_created"] == str(T0 - 86400)
    if lms_type == "MOODLE":  # only the core functions tell the time limit and summary
        assert final.additional["time_limit"] == "5400" and final.additional["course_summary"] == "<p>Sum</p>"
    mock = found["Ma:th/1 : Mock exam"]
    assert (mock.start_time, mock.end_time) == (_at(T0), _at(T_END))
    lab = found["phys : Lab test"]
    assert (lab.start_time, lab.end_time) == (None, None) and lab.id.endswith(":4:phys:--")


async def test_names_without_course_prefix(shared_moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> None:
    adapter = adapter_for(shared_moodle, username=shared_moodle.username, password=shared_moodle.password,
                          prepend_course_short_name=False)
    names = [q.name for q in await adapter.find_quizzes(QuizFilter(name="QUIZ 101"))]
    assert "quiz 101" in names and all(name.startswith("quiz 101") for name in names)


@pytest.mark.parametrize("lms_type", ["MOODLE_PLUGIN", "MOODLE"])
async def test_start_filter_keeps_later_or_still_open_quizzes(lms_type: str, special: FakeMoodle,
                                                              adapter_for: Callable[..., LmsAdapter]) -> None:
    with special:
        adapter = adapter_for(special, lms_type)
        names = {q.name for q in await adapter.find_quizzes(QuizFilter(start_from=datetime(2026, 1, 1, 12)))}
        # Final starts later; Mock exam started before but is open then; Lab test has no end: still open.
        assert names == {"Ma:th/1 : Final", "Ma:th/1 : Mock exam", "phys : Lab test"}
        names = {q.name for q in await adapter.find_quizzes(QuizFilter(start_from=datetime(2101, 1, 1, tzinfo=UTC)))}
        assert names == {"phys : Lab test"}
        assert {q.name for q in await adapter.find_quizzes(QuizFilter(name="  mock "))} == {"Ma:th/1 : Mock exam"}


@pytest.mark.parametrize("lms_type", ["MOODLE_PLUGIN", "MOODLE"])
async def test_lookup_pages_through_all_courses(lms_type: str, moodle: FakeMoodle,
                                                adapter_for: Callable[..., LmsAdapter]) -> None:
    adapter = adapter_for(moodle, lms_type)
    assert isinstance(adapter, MoodleAdapter)
    adapter.page_size = 4
    quizzes = await adapter.find_quizzes(QuizFilter())
    assert len(quizzes) == 30 and len({q.id for q in quizzes}) == 30  # 20 + 10 quizzes in 21 courses
    if lms_type == "MOODLE_PLUGIN":
        needles = [call.arg("startneedle") for call in moodle.calls_of("quizaccess_sebserver_get_exams")]
        assert needles == ["0", "4", "8", "12", "16", "20"]  # the last page holds one course: done
    else:
        pages = [call.arg("page") for call in moodle.calls_of("core_course_search_courses")]
        assert pages == ["0", "1", "2", "3", "4", "5"]
        assert moodle.calls_of("core_course_search_courses")[0].arg("criteriavalue") == ""


async def test_lookup_stops_at_nocoursefound_and_at_the_cap(moodle: FakeMoodle,
                                                           adapter_for: Callable[..., LmsAdapter]) -> None:
    adapter = adapter_for(moodle)
    assert isinstance(adapter, MoodleAdapter)
    adapter.page_size = 7  # 21 courses: three full pages, then Moodle's nocoursefound
    assert len(await adapter.find_quizzes(QuizFilter())) == 30
    assert len(moodle.calls_of("quizaccess_sebserver_get_exams")) == 4
    adapter.max_quizzes = 5
    assert 5 <= len(await adapter.find_quizzes(QuizFilter())) < 30


@pytest.mark.parametrize(("lms_type", "ids", "expected"), [
    ("MOODLE_PLUGIN", ["101:1:c1:i1", "1113:13:c13:i13", "101:1:c1:i1", "999:1:c1:i1", "101:99:x:y", "junk", "1:x"],
     ["101:1:c1:i1", "1113:13:c13:i13"]),
    ("MOODLE_PLUGIN", ["101:1:renamed:--"], ["101:1:c1:i1"]),  # found by quiz and course id; the id is current
    ("MOODLE", ["501:1:c1:i1", "5113:13:c13:i13", "101:1:c1:i1"], ["501:1:c1:i1", "5113:13:c13:i13"]),
    ("MOODLE", ["junk"], []),
])
async def test_get_quizzes(lms_type: str, ids: list[str], expected: list[str], shared_moodle: FakeMoodle,
                           adapter_for: Callable[..., LmsAdapter]) -> None:
    quizzes = await adapter_for(shared_moodle, lms_type).get_quizzes(ids)
    assert [quiz.id for quiz in quizzes] == expected


async def test_get_quizzes_of_unknown_courses_is_empty(shared_moodle: FakeMoodle,
                                                       adapter_for: Callable[..., LmsAdapter]) -> None:
    assert await adapter_for(shared_moodle).get_quizzes(["1:4242:x:y"]) == []  # Moodle: nocoursefound
    assert await adapter_for(shared_moodle, "MOODLE").get_quizzes(["1:4242:x:y"]) == []
    assert await adapter_for(shared_moodle).get_quizzes([]) == []


# -- examinees and chapters ---------------------------------------------------------------------------------


async def test_examinee(shared_moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> None:
    account = await adapter_for(shared_moodle, "MOODLE").get_examinee(" 12 ")
    assert (account.id, account.name, account.username, account.email) == ("12", "Lovelace Ada", "ada",
                                                                           "ada@example.org")
    assert account.display_name == "Lovelace Ada (12)"
    with pytest.raises(LookupError, match="no user with id 99"):
        await adapter_for(shared_moodle).get_examinee("99")
    with pytest.raises(MoodleNotFound, match="not a Moodle user id"):
        await adapter_for(shared_moodle).get_examinee("machine-7")


async def test_examinee_display_names(special: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> None:
    assert display_name(MoodleUser(id=1, lastname="Last", fullname="Full Name"), "1") == "Last Full Name"
    assert display_name(MoodleUser(id=1), "1") == "1"
    with special:
        assert (await adapter_for(special).get_examinee("5")).display_name == "Solo (5)"  # fullname
        assert (await adapter_for(special).get_examinee("6")).display_name == "6"  # nothing: the id


async def test_no_chapters_in_moodle(shared_moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> None:
    assert await adapter_for(shared_moodle).get_course_chapters("1") == []
    assert await adapter_for(shared_moodle, "MOODLE").get_course_chapters("1") == []


# -- connection test ----------------------------------------------------------------------------------------


async def test_connection_test_names_the_site_and_user(shared_moodle: FakeMoodle,
                                                       adapter_for: Callable[..., LmsAdapter]) -> None:
    result = await adapter_for(shared_moodle).test()
    assert result.ok and "Fake Moodle" in result.message and shared_moodle.username in result.message


async def test_connection_test_lists_missing_core_functions(moodle: FakeMoodle,
                                                            adapter_for: Callable[..., LmsAdapter]) -> None:
    moodle.services["moodle_mobile_app"].discard("mod_quiz_get_quizzes_by_courses")
    result = await adapter_for(moodle, "MOODLE").test()
    assert not result.ok and result.error_kind == "api"
    assert "'moodle_mobile_app' does not offer mod_quiz_get_quizzes_by_courses" in result.message
    assert "plugin" not in result.message
