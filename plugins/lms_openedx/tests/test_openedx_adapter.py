"""Course access against the fake Open edX: paging, token handling, throttling, failures explained by cause."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sebframe_lms_openedx.adapter import OpenEdxAdapter, matches
from sebframe_lms_openedx.client import OpenEdxClient, OpenEdxResponseError

from sebframe import create_http_client
from sebframe.testing.fakes.openedx import FakeClient, FakeCourse, FakeOpenEdx, FakeUser
from sebframe.types import QuizData, QuizFilter

pytestmark = pytest.mark.anyio

AdapterFor = Callable[..., OpenEdxAdapter]
COURSES = "/api/courses/v1/courses/"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def many_courses(count: int) -> list[FakeCourse]:
    return [FakeCourse(f"course-v1:ORG+C{number:02d}+2026", f"Course {number:02d}") for number in range(count)]


# -- lookup and quiz data ------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["nested", "flat"])
async def test_lookup_follows_both_pagination_shapes(shape: str, adapter_for: AdapterFor) -> None:
    with FakeOpenEdx(courses=many_courses(7), pagination=shape, max_page_size=3) as lms:  # type: ignore[arg-type]
        quizzes = await adapter_for(lms).find_quizzes(QuizFilter())
        pages = lms.requests_to(COURSES, "GET")
    assert [quiz.id for quiz in quizzes] == [f"course-v1:ORG+C{number:02d}+2026" for number in range(7)]
    assert [request.query.get("page") for request in pages] == [None, "2", "3"]
    assert all(request.query["page_size"] == "100" for request in pages)


async def test_next_links_with_another_host_are_read_from_the_configured_url(adapter_for: AdapterFor) -> None:
    with FakeOpenEdx(courses=many_courses(4), max_page_size=2, public_url="http://lms.internal:8000") as lms:
        quizzes = await adapter_for(lms).find_quizzes(QuizFilter())
        assert len(lms.requests_to(COURSES)) == 2  # the token never went to lms.internal
    assert len(quizzes) == 4


async def test_quiz_data_mapping(adapter: OpenEdxAdapter, fake: FakeOpenEdx) -> None:
    fake.courses.append(FakeCourse("course-v1:X+Y+Z", "Fractional", "2026-05-01T10:00:00.123456+02:00",
                                   datetime(2026, 5, 1, 12, tzinfo=UTC), "<p>desc</p>"))
    quizzes = {quiz.id: quiz for quiz in await adapter.find_quizzes(QuizFilter())}
    exam = quizzes["course-v1:ETH+SEB101+2026_T1"]
    assert exam == QuizData(
        id="course-v1:ETH+SEB101+2026_T1", name="Safe Exam Browser Final Exam",
        start_time=datetime(2026, 1, 15, 8, tzinfo=UTC), end_time=datetime(2026, 1, 15, 12, tzinfo=UTC),
        start_url=f"{fake.url}/courses/course-v1:ETH+SEB101+2026_T1", description="<p>Final exam, with SEB.</p>",
        course_id="course-v1:ETH+SEB101+2026_T1",
    )
    assert quizzes["course-v1:ETH+SEB102+2026_T1"].end_time is None
    assert quizzes["course-v1:ETH+SEB102+2026_T1"].description == ""
    odd = quizzes["course-v1:X+Y+Z"]
    assert odd.start_time == datetime(2026, 5, 1, 8, 0, 0, 123456, tzinfo=UTC)


async def test_trailing_slash_of_the_lms_url_is_ignored(fake: FakeOpenEdx, adapter_for: AdapterFor) -> None:
    quizzes = await adapter_for(fake.url + "/", client_id=fake.client_id).get_quizzes(["course-v1:UZH+Stat1+2025"])
    assert quizzes[0].start_url == f"{fake.url}/courses/course-v1:UZH+Stat1+2025"


def test_start_filter_is_seb_servers_rule() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    start_from = datetime(2026, 7, 1, tzinfo=UTC)

    def quiz(start: datetime | None, end: datetime | None) -> QuizData:
        return QuizData(id="q", name="Exam", start_time=start, end_time=end, start_url="u")

    later = QuizFilter(start_from=start_from)
    assert matches(quiz(start_from, None), later, now)  # starts at the day
    assert matches(quiz(start_from - timedelta(days=60), None), later, now)  # started, never ends
    assert matches(quiz(start_from - timedelta(days=60), start_from + timedelta(hours=1)), later, now)  # still open
    assert not matches(quiz(start_from - timedelta(days=60), start_from - timedelta(days=1)), later, now)  # over
    assert not matches(quiz(None, start_from), later, now)
    past = QuizFilter(start_from=datetime(2026, 1, 1))  # naive: read as UTC; max(now, from) decides for the end
    assert not matches(quiz(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)), past, now)
    assert matches(quiz(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC)), past, now)


async def test_lookup_by_name_and_start(adapter: OpenEdxAdapter) -> None:
    found = await adapter.find_quizzes(QuizFilter(name="STATISTICS", start_from=datetime(2029, 1, 1, tzinfo=UTC)))
    assert [quiz.id for quiz in found] == ["course-v1:UZH+Stat2+2030"]


async def test_get_quizzes_finds_restricted_courses_through_the_list(adapter: OpenEdxAdapter,
                                                                     fake: FakeOpenEdx) -> None:
    fake.courses[1].restricted = True  # the detail answers 403, as SEB Server saw for SEB-restricted courses
    ids = ["course-v1:UZH+Stat1+2025", "course-v1:ETH+SEB101+2026_T1", "nope", "course-v1:UZH+Stat1+2025"]
    quizzes = await adapter.get_quizzes(ids)
    assert [quiz.id for quiz in quizzes] == ["course-v1:UZH+Stat1+2025", "course-v1:ETH+SEB101+2026_T1"]
    details = [r.path for r in fake.requests_to(COURSES) if r.path != COURSES]
    assert details == [COURSES + "course-v1:UZH+Stat1+2025", COURSES + "course-v1:ETH+SEB101+2026_T1",
                       COURSES + "nope"]
    assert await adapter.get_quizzes([]) == []


async def test_many_ids_are_read_from_the_list(adapter_for: AdapterFor) -> None:
    with FakeOpenEdx(courses=many_courses(30)) as lms:
        ids = [f"course-v1:ORG+C{number:02d}+2026" for number in range(0, 30, 2)]
        quizzes = await adapter_for(lms).get_quizzes(ids)
        assert [r.path for r in lms.requests_to(COURSES)] == [COURSES]
    assert [quiz.id for quiz in quizzes] == ids


# -- examinees and chapters ----------------------------------------------------------------------


async def test_examinee_names(adapter: OpenEdxAdapter, fake: FakeOpenEdx) -> None:
    assert (await adapter.get_examinee("mmuster")).display_name == "Max Muster (mmuster)"
    jane = await adapter.get_examinee("jdoe")
    assert (jane.id, jane.username, jane.email) == ("jdoe", "jdoe", "jane.doe@example.org")
    assert (await adapter.get_examinee("nameless")).display_name == "nameless"
    assert (await adapter.get_examinee("unknown-user")).display_name == "unknown-user"
    assert (await adapter.get_examinee("a,b")).display_name == "a,b"
    assert [r.query for r in fake.requests_to("/api/user/v1/accounts")] == [
        {"username": name} for name in ("mmuster", "jdoe", "nameless", "unknown-user")]


async def test_examinee_name_of_a_non_staff_client_falls_back_to_the_id(adapter_for: AdapterFor) -> None:
    with FakeOpenEdx(clients=[FakeClient("plain", "secret", staff=False)], users=[FakeUser("jdoe", "Jane")]) as lms:
        account = await adapter_for(lms).get_examinee("jdoe")
    assert account.display_name == "jdoe"


async def test_chapters_in_outline_order(adapter: OpenEdxAdapter, fake: FakeOpenEdx) -> None:
    chapters = await adapter.get_course_chapters("course-v1:ETH+SEB101+2026_T1")
    assert [(chapter.id, chapter.name) for chapter in chapters] == [
        ("5e1f0a0c7d9b4a6e8e2f3b4c5d6e7f80", "Part B: Essay"),
        ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "Part A: Multiple Choice"),
    ]
    request = fake.requests_to("/api/courses/v1/blocks/")[0]
    assert request.query == {"depth": "1", "all_blocks": "true", "course_id": "course-v1:ETH+SEB101+2026_T1",
                             "requested_fields": "children"}
    assert await adapter.get_course_chapters("course-v1:UZH+Stat1+2025") == []
    with pytest.raises(httpx.HTTPStatusError):
        await adapter.get_course_chapters("course-v1:No+Such+Course")


# -- token ---------------------------------------------------------------------------------------


async def test_token_is_cached_and_renewed_once_on_401(adapter: OpenEdxAdapter, fake: FakeOpenEdx) -> None:
    await adapter.find_quizzes(QuizFilter())
    await adapter.get_examinee("jdoe")
    assert len(fake.requests_to("/oauth2/access_token")) == 1
    token = fake.requests_to("/oauth2/access_token")[0]
    assert token.headers["content-type"] == "application/x-www-form-urlencoded"
    assert token.form() == {"grant_type": "client_credentials", "client_id": fake.client_id,
                            "client_secret": fake.client_secret}
    fake.expire_tokens()
    assert (await adapter.get_examinee("jdoe")).name == "Jane Doe"
    assert len(fake.requests_to("/oauth2/access_token")) == 2
    assert [r.headers["authorization"].split()[0] for r in fake.requests_to("/api/")] == ["Bearer"] * 4


async def test_token_is_renewed_shortly_before_it_expires(fake: FakeOpenEdx, http: httpx.AsyncClient) -> None:
    now = [1000.0]
    client = OpenEdxClient(http, fake.url, fake.client_id, fake.client_secret, clock=lambda: now[0])
    fake.token_lifetime = 100
    await client.accounts("jdoe")
    now[0] += 89  # 100 s lifetime, renewed from 90 s on
    await client.accounts("jdoe")
    assert len(fake.requests_to("/oauth2/access_token")) == 1
    now[0] += 1
    await client.accounts("jdoe")
    assert len(fake.requests_to("/oauth2/access_token")) == 2


async def test_a_token_refused_again_after_renewal_is_an_error(adapter: OpenEdxAdapter, fake: FakeOpenEdx) -> None:
    await adapter.get_examinee("jdoe")
    fake.expire_tokens()
    fake.token_lifetime = -1  # every new token is expired at once
    with pytest.raises(httpx.HTTPStatusError) as raised:
        await adapter.get_examinee("jdoe")
    assert raised.value.response.status_code == 401
    assert len(fake.requests_to("/oauth2/access_token")) == 2  # renewed once, not in a loop


# -- throttling ----------------------------------------------------------------------------------


async def test_429_then_success(adapter_for: AdapterFor) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with FakeOpenEdx(throttle=1, retry_after=2) as lms:
        quizzes = await adapter_for(lms, sleep=sleep, max_retry_wait=5).find_quizzes(QuizFilter())
        assert len(lms.requests_to(COURSES)) == 2
    assert len(quizzes) == 5 and waits == [2.0]


async def test_throttling_that_does_not_stop_is_a_clear_failure(adapter_for: AdapterFor) -> None:
    with FakeOpenEdx(throttle=100, retry_after=60) as lms:
        result = await adapter_for(lms).test()
        assert len(lms.requests_to(COURSES)) == 4  # the first try and 3 retries, each waiting at most 0.05 s
    assert not result.ok and result.error_kind == "api"
    assert "HTTP 429" in result.message and "throttling" in result.message


# -- connection test: each cause named -----------------------------------------------------------


async def test_connection_test_success_message(adapter: OpenEdxAdapter) -> None:
    result = await adapter.test()
    assert result.ok and "lists 5 course(s)" in result.message


async def test_bad_credentials(adapter_for: AdapterFor) -> None:
    with FakeOpenEdx(reject_token=True) as lms:
        result = await adapter_for(lms).test()
    assert not result.ok and result.error_kind == "unauthorized"
    assert "/oauth2/access_token" in result.message and "invalid_client" in result.message


async def test_server_error(adapter_for: AdapterFor) -> None:
    with FakeOpenEdx(fail_status=500, failure_path=COURSES) as lms:
        adapter = adapter_for(lms)
        result = await adapter.test()
        with pytest.raises(httpx.HTTPStatusError):
            await adapter.find_quizzes(QuizFilter())
    assert not result.ok and result.error_kind == "api"
    assert "HTTP 500" in result.message and COURSES in result.message


async def test_timeout(http: httpx.AsyncClient) -> None:
    from sebframe_lms_openedx.settings import OpenEdxSettings

    from sebframe.types import IntegrationContext

    with FakeOpenEdx(delay=2.0, failure_path=COURSES) as lms:
        async with create_http_client(timeout=httpx.Timeout(0.2)) as short:
            settings = OpenEdxSettings.model_validate({"client_id": lms.client_id, "client_secret": lms.client_secret})
            context = IntegrationContext(instance_id=1, institution_id=1, url=lms.url, settings=settings, http=short)
            result = await OpenEdxAdapter(context).test()
    assert not result.ok and result.error_kind == "timeout" and COURSES in result.message


async def test_malformed_json(adapter_for: AdapterFor) -> None:
    with FakeOpenEdx(malformed_json=True, failure_path=COURSES) as lms:
        adapter = adapter_for(lms)
        result = await adapter.test()
        with pytest.raises(OpenEdxResponseError) as raised:
            await adapter.find_quizzes(QuizFilter())
    assert not result.ok and result.error_kind == "api"
    assert "not JSON" in result.message and f"GET {COURSES}" in result.message and "course-v1:" in result.message
    assert str(raised.value).startswith(f"GET {COURSES} answered HTTP 200 (application/json) that is not JSON")


async def test_malformed_token_answer(adapter_for: AdapterFor) -> None:
    with FakeOpenEdx(malformed_json=True, failure_path="/oauth2/") as lms:
        result = await adapter_for(lms).test()
    assert result.error_kind == "api" and "POST /oauth2/access_token" in result.message


async def test_unreachable_port_is_refused(adapter_for: AdapterFor) -> None:
    result = await adapter_for(f"http://127.0.0.1:{closed_port()}").test()
    assert not result.ok and result.error_kind == "refused"


async def test_unknown_host_is_dns(adapter_for: AdapterFor) -> None:
    result = await adapter_for("http://no-such-lms.invalid").test()
    assert not result.ok and result.error_kind == "dns"


async def test_wrong_api_is_404(fake: FakeOpenEdx, adapter_for: AdapterFor) -> None:
    result = await adapter_for(fake.url + "/not-open-edx", client_id=fake.client_id).test()
    assert not result.ok and result.error_kind == "api" and "HTTP 404" in result.message


async def test_tls_failure_is_named(fake: FakeOpenEdx, adapter_for: AdapterFor) -> None:
    result = await adapter_for(fake.url.replace("http://", "https://"), client_id=fake.client_id).test()
    assert not result.ok and result.error_kind in ("tls", "api")  # plain HTTP port answering a TLS handshake


async def test_missing_url(adapter_for: AdapterFor) -> None:
    result = await adapter_for("lms.example.org").test()
    assert not result.ok and result.error_kind == "api" and "https://lms.example.org" in result.message
