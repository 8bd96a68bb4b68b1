"""LMS setups and the quiz lookup through the real Open edX and Moodle plugins, against the fake LMS servers.

Each test starts its fakes (real HTTP servers on 127.0.0.1) and stops them when it ends; the lookup's deadline
is short so the slow-LMS case stays fast.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import pytest
import sebframe_lms_moodle.plugin
import sebframe_lms_openedx.plugin

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import Institution, LmsSetup
from sebframe.core.errors import ValidationFailed
from sebframe.core.lms.lookup import LookupState, default_start_from
from sebframe.core.lms.schemas import LmsSetupInput
from sebframe.core.paging import ListParams
from sebframe.core.services import Services
from sebframe.core.validation import parse_input
from sebframe.settings import Settings
from sebframe.testing.fakes.moodle import FakeMoodle
from sebframe.testing.fakes.openedx import FakeOpenEdx
from sebframe.types import QuizFilter
from tests.conftest import Factory
from tests.lms_support import lms_services

pytestmark = pytest.mark.anyio

LOOKUP_TIMEOUT = 0.5


@pytest.fixture
def openedx() -> ModuleType:
    return sebframe_lms_openedx.plugin


@pytest.fixture
def moodle() -> ModuleType:
    return sebframe_lms_moodle.plugin


@pytest.fixture
async def lms(settings: Settings, services: Services) -> AsyncIterator[Services]:
    """Services whose registry holds the built-ins and the installed LMS plugins (``services`` cleans up)."""
    async with lms_services(settings, lookup_timeout=LOOKUP_TIMEOUT) as own:
        own.quiz_lookup.cache_seconds = 0  # every lookup asks the fakes again
        yield own


async def _admin(lms: Services, name: str = "ETH") -> tuple[Institution, Actor]:
    factory = Factory(lms)
    institution = await factory.institution(name)
    return institution, await factory.actor(institution, f"{name.lower()}-admin", Role.INSTITUTIONAL_ADMIN)


def openedx_input(fake: FakeOpenEdx, name: str = "Open edX", secret: str | None = None) -> LmsSetupInput:
    return LmsSetupInput(name=name, lms_type="OPEN_EDX", url=fake.url,
                         settings={"client_id": fake.client_id,
                                   "client_secret": fake.client_secret if secret is None else secret})


def moodle_input(fake: FakeMoodle, lms_type: str = "MOODLE_PLUGIN", name: str = "Moodle",
                 password: str | None = None) -> LmsSetupInput:
    return LmsSetupInput(name=name, lms_type=lms_type, url=fake.url,
                         settings={"username": fake.username,
                                   "password": fake.password if password is None else password})


async def test_open_edx_setup_is_tested_activated_and_its_courses_are_found(lms: Services, openedx) -> None:
    _, admin = await _admin(lms)
    with FakeOpenEdx() as fake:
        setup, result = await lms.lms_setups.create(admin, openedx_input(fake))
        assert result.ok, result.message
        assert "issued a token" in result.message and not setup.active and setup.last_test_ok
        assert fake.requests_to("/oauth2/access_token") and fake.requests_to("/api/courses/v1/courses/")

        setup, result = await lms.lms_setups.activate(admin, setup.id)
        assert setup.active and result.ok

        answers = await lms.quiz_lookup.lookup(admin, QuizFilter())
        assert [(answer.setup_name, answer.state) for answer in answers] == [("Open edX", LookupState.OK)]
        found = {quiz.quiz.id: quiz for quiz in answers[0].quizzes}
        assert set(found) == {course.id for course in fake.courses}
        demo = found["course-v1:edX+DemoX+Demo_Course"]
        assert demo.quiz.name == "Demonstration Course" and demo.setup_id == setup.id and demo.lms_type == "OPEN_EDX"
        assert demo.quiz.start_url.startswith(fake.url)

        # The default filter (one year back) leaves out courses that ended before it.
        recent = await lms.quiz_lookup.lookup_setup(admin, setup.id, QuizFilter(start_from=default_start_from()))
        ids = {quiz.quiz.id for quiz in recent.quizzes}
        assert "course-v1:UZH+Stat2+2030" in ids and "course-v1:UZH+Stat1+2025" not in ids
        named = await lms.quiz_lookup.lookup_setup(admin, setup.id, QuizFilter(name="statistics"))
        assert {quiz.quiz.name for quiz in named.quizzes} == {"Statistics 1", "Statistics 2"}


@pytest.mark.parametrize("lms_type", ["MOODLE_PLUGIN", "MOODLE"])
async def test_moodle_setup_is_tested_activated_and_its_quizzes_are_found(lms: Services, moodle,
                                                                          lms_type: str) -> None:
    _, admin = await _admin(lms)
    with FakeMoodle(lifetime=30) as fake:
        setup, result = await lms.lms_setups.create(admin, moodle_input(fake, lms_type), activate=True)
        assert result.ok, result.message
        assert setup.active and "signed in" in result.message
        answer = await lms.quiz_lookup.lookup_setup(admin, setup.id, QuizFilter())
        assert answer.state == LookupState.OK, answer.message
        assert len(answer.quizzes) >= len(fake.courses)  # every seeded course has at least one quiz but one
        names = [found.quiz.name for found in answer.quizzes]
        assert any("c1 : " in name for name in names)  # course short name prefix, as SEB Server shows it
        assert all(found.quiz.start_url.startswith(fake.url) for found in answer.quizzes)


async def test_wrong_secret_fails_the_test_as_unauthorized_and_activation_is_refused(lms: Services,
                                                                                      openedx) -> None:
    _, admin = await _admin(lms)
    with FakeOpenEdx() as fake:
        setup, result = await lms.lms_setups.create(admin, openedx_input(fake, secret="wrong-secret"), activate=True)
        assert not result.ok and result.error_kind == "unauthorized", result
        assert "refused the credentials" in result.message or "401" in result.message
        assert not setup.active and setup.last_test_ok is False  # saved, inactive
        with pytest.raises(ValidationFailed, match="connection test failed"):
            await lms.lms_setups.activate(admin, setup.id)
        assert not (await lms.lms_setups.get(admin, setup.id)).active
        assert await lms.quiz_lookup.lookup(admin, QuizFilter()) == []  # inactive setups are not asked

        # Fixing the secret (the other settings unchanged) makes it pass.
        fixed, result = await lms.lms_setups.update(admin, setup.id, openedx_input(fake), activate=True)
        assert result.ok and fixed.active


async def test_wrong_moodle_password_is_unauthorized(lms: Services, moodle) -> None:
    _, admin = await _admin(lms)
    with FakeMoodle(lifetime=30) as fake:
        setup, result = await lms.lms_setups.create(admin, moodle_input(fake, password="not-it"))
        assert not result.ok and result.error_kind == "unauthorized", result
        assert "invalidlogin" in result.message
        with pytest.raises(ValidationFailed, match="connection test failed"):
            await lms.lms_setups.activate(admin, setup.id)


async def test_failing_lmss_show_their_own_status_while_the_others_list_quizzes(lms: Services, openedx,
                                                                                moodle) -> None:
    _, admin = await _admin(lms)
    with FakeOpenEdx() as healthy, FakeOpenEdx() as broken, FakeOpenEdx() as slow, \
            FakeMoodle(lifetime=30) as garbled:
        ids: dict[str, int] = {}
        for name, data in (("Healthy", openedx_input(healthy, "Healthy")), ("Broken", openedx_input(broken, "Broken")),
                           ("Slow", openedx_input(slow, "Slow")), ("Garbled", moodle_input(garbled, name="Garbled"))):
            setup, result = await lms.lms_setups.create(admin, data, activate=True)
            assert result.ok and setup.active, (name, result)
            ids[name] = setup.id
        broken.fail_status = 500
        slow.delay = LOOKUP_TIMEOUT * 3
        garbled.malformed_json = True

        answers = {answer.setup_name: answer for answer in await lms.quiz_lookup.lookup(admin, QuizFilter())}
        assert answers["Healthy"].state == LookupState.OK and len(answers["Healthy"].quizzes) == len(healthy.courses)
        assert answers["Broken"].state == LookupState.FAILED and "500" in answers["Broken"].message
        assert answers["Slow"].state == LookupState.TIMEOUT and "did not answer" in answers["Slow"].message
        assert answers["Garbled"].state == LookupState.FAILED and answers["Garbled"].message
        assert all(not answer.quizzes for name, answer in answers.items() if name != "Healthy")

        # One setup at a time (what the web page does per status line) gives the same answers.
        single = await lms.quiz_lookup.lookup_setup(admin, ids["Slow"], QuizFilter())
        assert single.state == LookupState.TIMEOUT
        healthy_again = await lms.quiz_lookup.lookup_setup(admin, ids["Healthy"], QuizFilter())
        assert healthy_again.state == LookupState.OK

        # The connection test names the cause too.
        assert not (await lms.lms_setups.test(admin, ids["Broken"])).ok
        garbled_test = await lms.lms_setups.test(admin, ids["Garbled"])
        assert not garbled_test.ok and garbled_test.error_kind == "api"


async def test_unreachable_lms_is_reported_as_refused(lms: Services, openedx) -> None:
    _, admin = await _admin(lms)
    with FakeOpenEdx() as fake:
        url = fake.url
    # The fake has stopped: nothing listens on its port any more.
    setup, result = await lms.lms_setups.create(
        admin, LmsSetupInput(name="Gone", lms_type="OPEN_EDX", url=url,
                             settings={"client_id": "a", "client_secret": "b"}))
    assert not result.ok and result.error_kind == "refused", result
    assert not setup.active


@pytest.mark.parametrize(("change", "field"), [
    ({"name": ""}, "name"),
    ({"lms_type": "BLACKBOARD"}, "lms_type"),
    ({"url": "lms.example.org"}, "url"),
    ({"proxy_host": "proxy.example.org", "proxy_port": 0}, "proxy_port"),
    ({"settings": {"client_id": "sebframe"}}, "settings.client_secret"),
    ({"settings": {"client_id": "", "client_secret": "x"}}, "settings.client_id"),
    ({"settings": {"client_id": "a", "client_secret": "b", "tenant": "c"}}, "settings.tenant"),
])
async def test_bad_input_names_the_field_and_creates_nothing(lms: Services, openedx, change: dict[str, Any],
                                                             field: str) -> None:
    _, admin = await _admin(lms)
    data = {"name": "Open edX", "lms_type": "OPEN_EDX", "url": "https://lms.example.org",
            "settings": {"client_id": "a", "client_secret": "b"}, **change}
    with pytest.raises(ValidationFailed) as caught:
        await lms.lms_setups.create(admin, parse_input(LmsSetupInput, data))
    assert field in caught.value.field_errors, caught.value.field_errors
    assert (await lms.lms_setups.list(admin, ListParams())).total == 0


async def test_moodle_needs_a_password_or_a_token(lms: Services, moodle) -> None:
    _, admin = await _admin(lms)
    data = LmsSetupInput(name="Moodle", lms_type="MOODLE", url="https://moodle.example.org",
                         settings={"username": "sebserver"})
    with pytest.raises(ValidationFailed) as caught:
        await lms.lms_setups.create(admin, data)
    assert any(key.startswith("settings") and "password" in message
               for key, message in caught.value.field_errors.items()), caught.value.field_errors
    assert (await lms.lms_setups.list(admin, ListParams())).total == 0


async def test_secrets_are_masked_and_encrypted(lms: Services, openedx, moodle) -> None:
    _, admin = await _admin(lms)
    edx = LmsSetupInput(name="Open edX", lms_type="OPEN_EDX", url="https://edx.example.org",
                        settings={"client_id": "sebframe", "client_secret": "edx-secret-4711"},
                        proxy_host="proxy.example.org", proxy_port=3128, proxy_username="p",
                        proxy_password="proxy-secret-4711")
    setup, _ = await lms.lms_setups.create(admin, edx)
    assert lms.lms_setups.settings_of(setup) == {"client_id": "sebframe", "client_secret": "********"}
    assert "edx-secret-4711" not in setup.settings_encrypted
    assert setup.proxy_password_encrypted and "proxy-secret-4711" not in setup.proxy_password_encrypted
    token_only = LmsSetupInput(name="Moodle", lms_type="MOODLE", url="https://moodle.example.org",
                               settings={"token": "moodle-token-4711"})
    moodle_setup, _ = await lms.lms_setups.create(admin, token_only)
    masked = lms.lms_setups.settings_of(moodle_setup)
    assert masked["token"] == "********" and "moodle-token-4711" not in str(masked)


async def test_other_institutions_cannot_use_the_setup(lms: Services, openedx) -> None:
    _, eth_admin = await _admin(lms, "ETH")
    _, uzh_admin = await _admin(lms, "UZH")
    with FakeOpenEdx() as fake:
        setup, _ = await lms.lms_setups.create(eth_admin, openedx_input(fake), activate=True)
        assert await lms.quiz_lookup.lookup(uzh_admin, QuizFilter()) == []
        from sebframe.core.errors import NotFound

        with pytest.raises(NotFound):
            await lms.quiz_lookup.lookup_setup(uzh_admin, setup.id, QuizFilter())
        with pytest.raises(NotFound):
            await lms.lms_setups.test(uzh_admin, setup.id)
    async with lms.db.read() as session:
        assert (await session.get(LmsSetup, setup.id)) is not None
