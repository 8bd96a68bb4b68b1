"""Admin UI: the LMS exam lookup. The page answers at once; each LMS's answer is its own (htmx) request."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import BaseModel

from sebframe import hookimpl
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import Institution, LmsSetup
from sebframe.core.lms.schemas import LmsSetupInput
from sebframe.core.lms.testing_lms import mock_quizzes
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.testing.fakes.openedx import FakeOpenEdx
from sebframe.types import ConnectionTestResult, IntegrationContext, LmsType, QuizData, QuizFilter
from tests.conftest import Factory, sign_in
from tests.lms_support import lms_services, web_client

pytestmark = pytest.mark.anyio

BASE = "/lms-lookup"
TIMEOUT = 0.3
ZURICH = ZoneInfo("Europe/Zurich")


class NoSettings(BaseModel):
    pass


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class RecordingAdapter:
    """Answers three fixed quizzes and records every filter it was asked with."""

    context: IntegrationContext
    filters: ClassVar[list[QuizFilter]] = []

    async def test(self) -> ConnectionTestResult:
        return ConnectionTestResult.success()

    async def find_quizzes(self, quiz_filter: QuizFilter) -> list[QuizData]:
        self.filters.append(quiz_filter)
        quizzes = [
            QuizData(id="r-a", name="Alpha", start_time=_at("2026-03-01T08:00:00"), end_time=None,
                     start_url="https://recording.example.org/a", description="<b>Bold</b> <script>x()</script>text",
                     additional={"course_short_name": "ALP"}),
            QuizData(id="r-b", name="beta", start_time=_at("2026-01-01T08:00:00"), end_time=_at("2099-12-31T08:00:00"),
                     start_url="javascript:alert(1)"),
            QuizData(id="r-c/ä ?&=", name="Gamma", start_time=None, end_time=_at("2020-06-01T08:00:00"),
                     start_url="https://recording.example.org/c"),
        ]
        return [quiz for quiz in quizzes if not quiz_filter.name or quiz_filter.name.lower() in quiz.name.lower()]


@dataclass
class SlowAdapter(RecordingAdapter):
    async def find_quizzes(self, quiz_filter: QuizFilter) -> list[QuizData]:
        await asyncio.sleep(TIMEOUT * 10)
        return []


@dataclass
class BrokenAdapter(RecordingAdapter):
    async def find_quizzes(self, quiz_filter: QuizFilter) -> list[QuizData]:
        raise ValueError("Expecting value: line 1 column 1 (char 0)")


class LookupTestTypes:
    __name__ = "lookup-test-types"

    @hookimpl
    def sebframe_lms_types(self) -> Iterator[LmsType]:
        yield LmsType(name="RECORDING", display_name="Recording", settings_model=NoSettings,
                      create_adapter=RecordingAdapter)
        yield LmsType(name="SLOW", display_name="Slow", settings_model=NoSettings, create_adapter=SlowAdapter)
        yield LmsType(name="BROKEN", display_name="Broken", settings_model=NoSettings, create_adapter=BrokenAdapter)


@pytest.fixture
async def lms(settings: Settings, services: Services) -> AsyncIterator[Services]:
    RecordingAdapter.filters.clear()
    async with lms_services(settings, lookup_timeout=TIMEOUT, extra_plugins=(LookupTestTypes(),)) as own:
        yield own


@pytest.fixture
async def web(lms: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with web_client(lms) as client:
        yield client


@dataclass
class World:
    eth: Institution
    uzh: Institution
    setups: dict[str, LmsSetup]


async def _world(lms: Services, *types: str) -> World:
    factory = Factory(lms)
    eth = await factory.institution("ETH")
    uzh = await factory.institution("UZH")
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    await factory.user(eth, "ea", Role.EXAM_ADMIN, timezone="Europe/Zurich")
    await factory.user(eth, "sup", Role.EXAM_SUPPORTER)
    uzh_admin = await factory.actor(uzh, "uzh-ia", Role.INSTITUTIONAL_ADMIN)
    await factory.user(uzh, "uzh-ea", Role.EXAM_ADMIN)
    setups = {}
    for lms_type in types or ("TESTING", "RECORDING", "SLOW", "BROKEN"):
        settings = {"client_name": "a", "client_secret": "b"} if lms_type == "TESTING" else {}
        setup, result = await lms.lms_setups.create(admin, LmsSetupInput(
            name=f"{lms_type.title()} LMS", lms_type=lms_type, url="https://lms.example.org", settings=settings),
            activate=True)
        assert result.ok and setup.active
        setups[lms_type] = setup
    inactive, _ = await lms.lms_setups.create(admin, LmsSetupInput(
        name="Inactive LMS", lms_type="RECORDING", url="https://lms.example.org"))
    setups["INACTIVE"] = inactive
    other, _ = await lms.lms_setups.create(uzh_admin, LmsSetupInput(
        name="UZH LMS", lms_type="RECORDING", url="https://lms.example.org"), activate=True)
    setups["UZH"] = other
    return World(eth, uzh, setups)


def _status_urls(html: str) -> dict[str, str]:
    """Status line URLs by setup name, of the lines that load themselves."""
    lines = re.findall(r'<li id="lookup-status-\d+"[^>]*hx-get="([^"]+)" hx-trigger="load"[^>]*>\s*<strong>([^<:]+):',
                       html)
    return {name: unescape(url) for url, name in lines}


def _rows(html: str) -> list[tuple[str, str]]:
    """(quiz name, LMS setup name) of the results table rows."""
    rows = re.findall(r'<tr data-href=.*?data-show-dialog="[^"]+">([^<]+)</a></td>.*?<td>([^<]+)</td>\s*</tr>',
                      html, re.S)
    return [(unescape(name), unescape(setup)) for name, setup in rows]


def _one_year_ago_midnight_in_zurich() -> str:
    local = (datetime.now(UTC) - timedelta(days=365)).astimezone(ZURICH)
    return local.strftime("%Y-%m-%dT00:00")


async def test_page_answers_at_once_with_one_loading_line_per_active_setup(web: httpx.AsyncClient,
                                                                          lms: Services) -> None:
    world = await _world(lms)
    await sign_in(web, "ea")
    before = _one_year_ago_midnight_in_zurich()  # midnight in Zurich may pass while the page is made
    page = await web.get(BASE)
    assert page.status_code == 200
    assert RecordingAdapter.filters == []  # no LMS was asked for the page itself
    urls = _status_urls(page.text)
    assert set(urls) == {"Testing LMS", "Recording LMS", "Slow LMS", "Broken LMS"}  # active, own institution
    assert page.text.count("loading…") == 4
    shown = re.search(r'name="start_from" value="([^"]*)"', page.text)
    assert shown is not None and "Europe/Zurich" in page.text
    default_start = shown.group(1)
    assert default_start in {before, _one_year_ago_midnight_in_zurich()}
    assert urls["Recording LMS"] == (f"/lms-lookup/setups/{world.setups['RECORDING'].id}?"
                                     f"start_from={default_start.replace(':', '%3A')}")
    assert 'id="lookup-results"' in page.text and 'hx-trigger="lmsLookupAnswered from:body delay:150ms"' in page.text
    assert 'hx-include=".lookup-answered, .lookup-table-state"' in page.text
    assert "Waiting for the LMSs to answer" in page.text
    assert 'data-row-action="/exams/import?{row:import}"' in page.text and "Show LMS Exam Details" in page.text


async def test_each_setup_answers_on_its_own(web: httpx.AsyncClient, lms: Services) -> None:
    world = await _world(lms)
    await sign_in(web, "ea")
    urls = _status_urls((await web.get(BASE)).text)

    recording = await web.get(urls["Recording LMS"])
    assert recording.status_code == 200 and recording.headers["hx-trigger"] == "lmsLookupAnswered"
    assert 'data-state="OK"' in recording.text and "3 quizzes" in recording.text
    assert f'class="lookup-answered" name="answered" value="{world.setups["RECORDING"].id}"' in recording.text

    slow = await web.get(urls["Slow LMS"])
    assert slow.status_code == 200 and "hx-trigger" not in slow.headers
    assert 'data-state="TIMEOUT"' in slow.text and "did not answer within 0.3 s" in slow.text
    assert "Retry" in slow.text and 'class="lookup-answered"' not in slow.text
    assert f'hx-target="#lookup-status-{world.setups["SLOW"].id}"' in slow.text

    broken = await web.get(urls["Broken LMS"])
    assert 'data-state="FAILED"' in broken.text and "not the expected API" in broken.text

    inactive = await web.get(f"{BASE}/setups/{world.setups['INACTIVE'].id}")
    assert 'data-state="FAILED"' in inactive.text and "inactive" in inactive.text
    assert (await web.get(f"{BASE}/setups/{world.setups['UZH'].id}")).status_code == 404


async def test_results_combine_the_answered_setups_with_sorting_and_paging(web: httpx.AsyncClient,
                                                                           lms: Services) -> None:
    world = await _world(lms)
    await sign_in(web, "ea")
    start = "2000-01-01T00:00"
    answered = [world.setups["RECORDING"].id, world.setups["TESTING"].id]
    params: dict[str, Any] = {"start_from": start, "answered": answered}

    waiting = await web.get(f"{BASE}/results", params={"start_from": start})
    assert "Waiting for the LMSs to answer" in waiting.text and "Quizzes of 0 of 4 LMS setups" in waiting.text

    only_recording = await web.get(f"{BASE}/results", params={**params, "answered": answered[:1]})
    assert _rows(only_recording.text) == [("Alpha", "Recording LMS"), ("beta", "Recording LMS"),
                                          ("Gamma", "Recording LMS")]
    assert "Quizzes of 1 of 4 LMS setups (the others are still loading or failed" in only_recording.text

    both = await web.get(f"{BASE}/results", params=params)
    rows = _rows(both.text)
    total = len(mock_quizzes(datetime.now(UTC))) + 3  # the count does not depend on the start
    assert len(rows) == total and {setup for _, setup in rows} == {"Recording LMS", "Testing LMS"}
    assert [name for name, _ in rows][:3] == ["Alpha", "beta", "Demo Quiz 1 (MOCKUP)"]  # by name, any case
    assert "Quizzes of 2 of 4 LMS setups" in both.text
    assert f"{total} entries · page 1 of 1" in both.text

    by_name_desc = _rows((await web.get(f"{BASE}/results", params={**params, "sort": "-name"})).text)
    assert [name for name, _ in by_name_desc][-2:] == ["beta", "Alpha"]
    by_start = _rows((await web.get(f"{BASE}/results", params={**params, "sort": "start"})).text)
    assert by_start[0][0] == "Demo Quiz 4 (MOCKUP)" and by_start[-1][0] == "Gamma"  # no start time: last
    by_end_desc = _rows((await web.get(f"{BASE}/results", params={**params, "sort": "-end"})).text)
    assert by_end_desc[0][0] == "beta"
    by_lms = _rows((await web.get(f"{BASE}/results", params={**params, "sort": "lms"})).text)
    assert by_lms[0][1] == "Recording LMS" and by_lms[-1][1] == "Testing LMS"

    paged = await web.get(f"{BASE}/results", params={**params, "sort": "name", "size": "4", "page": "2"})
    assert len(_rows(paged.text)) == 4 and f"{total} entries · page 2 of 4" in paged.text
    assert 'name="page" value="2"' in paged.text and 'name="sort" value="name"' in paged.text  # kept on reloads
    # Paging and sorting links ask only the answered setups again (hx-include) and keep the filter.
    assert re.search(r'hx-get="/lms-lookup/results\?start_from=2000-01-01T00%3A00&amp;sort=name&amp;size=4&amp;'
                     r'page=3" hx-target="#lookup-results" hx-include=".lookup-answered"', paged.text)
    beyond = await web.get(f"{BASE}/results", params={**params, "size": "4", "page": "99"})
    assert "page 4 of 4" in beyond.text

    # Ids of setups that are not active or not the user's are ignored.
    foreign = await web.get(f"{BASE}/results", params={"start_from": start,
                                                       "answered": [world.setups["UZH"].id, "x", "-1"]})
    assert foreign.status_code == 200 and _rows(foreign.text) == []


async def test_details_dialog_and_import_link(web: httpx.AsyncClient, lms: Services) -> None:
    world = await _world(lms, "RECORDING")
    await sign_in(web, "ea")
    recording_id = world.setups["RECORDING"].id
    html = (await web.get(f"{BASE}/results", params={"start_from": "2000-01-01T00:00",
                                                     "answered": recording_id})).text
    dialogs = re.findall(r'<dialog id="(quiz-dialog-\d+)".*?</dialog>', html, re.S)
    assert dialogs == ["quiz-dialog-1", "quiz-dialog-2", "quiz-dialog-3"]
    alpha = re.search(r'<dialog id="quiz-dialog-1".*?</dialog>', html, re.S).group(0)  # type: ignore[union-attr]
    assert "<dt>Start Time</dt>" in alpha and "2026-03-01 09:00:00 <small>CET</small>" in alpha  # user time zone
    assert "2026-03-01 08:00:00 UTC" in alpha
    assert "<dt>End Time</dt><dd>—</dd>" in alpha
    assert "<dt>LMS Setup</dt><dd>Recording LMS</dd>" in alpha
    assert '<a href="https://recording.example.org/a" target="_blank" rel="noopener noreferrer">' in alpha
    assert "<dt>course_short_name</dt><dd>ALP</dd>" in alpha
    assert "Bold x() text" in alpha and "<b>" not in alpha and "<script>" not in alpha  # LMS HTML as text
    assert f'href="/exams/import?lms_setup_id={recording_id}&amp;quiz_id=r-a">Import as Exam' in alpha
    beta = re.search(r'<dialog id="quiz-dialog-2".*?</dialog>', html, re.S).group(0)  # type: ignore[union-attr]
    assert 'href="javascript' not in beta and "javascript:alert(1)" in beta  # shown, never a link
    gamma = re.search(r'<dialog id="quiz-dialog-3".*?</dialog>', html, re.S).group(0)  # type: ignore[union-attr]
    assert "Import as Exam" not in gamma and "has ended" in gamma
    # The rows: double click opens the dialog; the action pane reads data-import; ended quizzes are flagged.
    assert re.search(r'data-dialog="quiz-dialog-1"\s+data-import="lms_setup_id=\d+&amp;quiz_id=r-a" '
                     r'data-flags="importable"', html)
    assert f'data-import="lms_setup_id={recording_id}&amp;quiz_id=r-c%2F%C3%A4+%3F%26%3D" data-flags="ended"' in html

    # The same details as a page, for browsers without JavaScript.
    page = await web.get(f"{BASE}/details", params={"lms_setup_id": recording_id, "quiz_id": "r-c/ä ?&=",
                                                    "start_from": "2000-01-01T00:00"})
    assert page.status_code == 200 and "<h1>Gamma</h1>" in page.text and "has ended" in page.text
    missing = await web.get(f"{BASE}/details", params={"lms_setup_id": recording_id, "quiz_id": "nope"})
    assert missing.status_code == 404


async def test_filters_reach_the_lms_in_utc(web: httpx.AsyncClient, lms: Services) -> None:
    world = await _world(lms, "RECORDING", "TESTING")
    await sign_in(web, "ea")
    page = await web.get(BASE, params={"name": "alp", "start_from": "2026-01-15T09:00",
                                       "lms_setup_id": world.setups["RECORDING"].id})
    urls = _status_urls(page.text)
    assert list(urls) == ["Recording LMS"]  # only the chosen setup is asked
    assert 'value="alp"' in page.text and 'value="2026-01-15T09:00"' in page.text
    answer = await web.get(urls["Recording LMS"])
    assert "1 quiz" in answer.text
    assert RecordingAdapter.filters[-1] == QuizFilter(name="alp", start_from=_at("2026-01-15T08:00:00"))

    bad = await web.get(BASE, params={"start_from": "next tuesday", "lms_setup_id": "abc"})
    assert bad.status_code == 422 and "enter a date and time" in bad.text
    assert "choose an LMS setup from the list" in bad.text and not _status_urls(bad.text)
    foreign = await web.get(BASE, params={"lms_setup_id": world.setups["UZH"].id})
    assert foreign.status_code == 422 and "not active" in foreign.text


async def test_without_javascript_everything_comes_in_one_response(web: httpx.AsyncClient, lms: Services) -> None:
    await _world(lms)
    await sign_in(web, "ea")
    page = await web.get(BASE, params={"wait": "1", "start_from": "2000-01-01T00:00"})
    assert page.status_code == 200 and "loading…" not in page.text
    assert 'data-state="OK"' in page.text and 'data-state="TIMEOUT"' in page.text and 'data-state="FAILED"' in page.text
    names = {name for name, _ in _rows(page.text)}
    assert "Alpha" in names and "Gamma" in names and "Demo Quiz 1 (MOCKUP)" in names


async def test_lookup_is_for_exam_writers_of_the_own_institution(web: httpx.AsyncClient, lms: Services) -> None:
    world = await _world(lms, "RECORDING")
    setup_id = world.setups["RECORDING"].id
    for username in ("ia", "sup"):
        await sign_in(web, username)
        for path in (BASE, f"{BASE}/setups/{setup_id}", f"{BASE}/results",
                     f"{BASE}/details?lms_setup_id={setup_id}&quiz_id=r-a"):
            assert (await web.get(path)).status_code == 403, (username, path)
    await sign_in(web, "uzh-ea")
    page = await web.get(BASE)
    assert list(_status_urls(page.text)) == ["UZH LMS"]
    assert (await web.get(f"{BASE}/setups/{setup_id}")).status_code == 404
    assert (await web.get(f"{BASE}/details?lms_setup_id={setup_id}&quiz_id=r-a")).status_code == 404
    await web.post("/logout")
    assert (await web.get(f"{BASE}/setups/{setup_id}", headers={"HX-Request": "true"})).status_code == 401


async def test_no_active_setup(web: httpx.AsyncClient, lms: Services) -> None:
    factory = Factory(lms)
    eth = await factory.institution("ETH")
    await factory.user(eth, "ea", Role.EXAM_ADMIN)
    await sign_in(web, "ea")
    page = await web.get(BASE)
    assert page.status_code == 200 and "No active LMS setup in your institution" in page.text


async def test_real_open_edx_lmss_answer_independently(web: httpx.AsyncClient, lms: Services) -> None:
    factory = Factory(lms)
    eth = await factory.institution("ETH")
    admin = await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    await factory.user(eth, "ea", Role.EXAM_ADMIN)
    with FakeOpenEdx() as healthy, FakeOpenEdx() as failing:
        for name, fake in (("Healthy edX", healthy), ("Failing edX", failing)):
            _, result = await lms.lms_setups.create(admin, LmsSetupInput(
                name=name, lms_type="OPEN_EDX", url=fake.url,
                settings={"client_id": fake.client_id, "client_secret": fake.client_secret}), activate=True)
            assert result.ok
        failing.fail_status = 500
        await sign_in(web, "ea")
        urls = _status_urls((await web.get(BASE, params={"start_from": "2000-01-01T00:00"})).text)
        ok = await web.get(urls["Healthy edX"])
        assert 'data-state="OK"' in ok.text and f"{len(healthy.courses)} quizzes" in ok.text
        failed = await web.get(urls["Failing edX"])
        assert 'data-state="FAILED"' in failed.text and "HTTP 500" in failed.text
        setup_id = re.search(r'name="answered" value="(\d+)"', ok.text).group(1)  # type: ignore[union-attr]
        results = await web.get(f"{BASE}/results", params={"start_from": "2000-01-01T00:00", "answered": setup_id})
        assert {name for name, _ in _rows(results.text)} == {course.name for course in healthy.courses}
        assert "client_secret" not in results.text and healthy.client_secret not in results.text
