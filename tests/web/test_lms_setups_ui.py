"""Admin UI: LMS setups with type-specific settings forms, connection test on save, (de)activation, delete."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sebframe_lms_openedx.plugin
from sqlalchemy import func, select

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import Exam, Institution, LmsSetup, UserAccount
from sebframe.core.lms.schemas import LmsSetupInput
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.testing.fakes.openedx import FakeOpenEdx
from tests.conftest import Factory, sign_in
from tests.lms_support import lms_services, web_client

pytestmark = pytest.mark.anyio

BASE = "/lms-setups"
SECRET = "edx-secret-4711"


@pytest.fixture
async def lms(settings: Settings, services: Services) -> AsyncIterator[Services]:
    async with lms_services(settings) as own:
        yield own


@pytest.fixture
async def web(lms: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with web_client(lms) as client:
        yield client


@pytest.fixture
def openedx() -> Any:
    return sebframe_lms_openedx.plugin


async def _world(lms: Services) -> tuple[Factory, Institution, Institution]:
    factory = Factory(lms)
    eth = await factory.institution("ETH")
    uzh = await factory.institution("UZH")
    await factory.user(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    await factory.user(eth, "ea", Role.EXAM_ADMIN)
    await factory.user(eth, "sup", Role.EXAM_SUPPORTER)
    await factory.user(eth, "root", Role.SEB_SERVER_ADMIN)
    await factory.user(uzh, "uzh-ia", Role.INSTITUTIONAL_ADMIN)
    return factory, eth, uzh


def _testing_form(name: str = "Mock LMS", secret: str = "mock-secret", **extra: str) -> dict[str, str]:
    return {"name": name, "lms_type": "TESTING", "url": "https://lms.example.org",
            "settings.client_name": "sebserver", "settings.client_secret": secret, **extra}


def edx_form(fake: FakeOpenEdx, name: str = "Open edX", secret: str | None = None, **extra: str) -> dict[str, str]:
    return {"name": name, "lms_type": "OPEN_EDX", "url": fake.url, "settings.client_id": fake.client_id,
            "settings.client_secret": fake.client_secret if secret is None else secret, **extra}


async def _count(lms: Services) -> int:
    async with lms.db.read() as session:
        return (await session.execute(select(func.count()).select_from(LmsSetup))).scalar_one()


async def _create(lms: Services, username: str, data: dict[str, Any], activate: bool = False) -> LmsSetup:
    actor = await _actor(lms, username)
    setup, _ = await lms.lms_setups.create(actor, LmsSetupInput.model_validate(data), activate=activate)
    return setup


async def _actor(lms: Services, username: str) -> Actor:
    async with lms.db.read() as session:
        return actor_of((await session.execute(select(UserAccount).where(UserAccount.username == username)))
                        .scalar_one())


TESTING_SETUP = {"name": "Mock LMS", "lms_type": "TESTING", "url": "https://lms.example.org",
                 "settings": {"client_name": "sebserver", "client_secret": "mock-secret"}}


def _error_of(html: str, name: str) -> str:
    """The error text shown below the input ``name``."""
    match = re.search(r'name="' + re.escape(name) + r'"[^>]*aria-invalid="true".*?<p class="error-text">([^<]+)</p>',
                      html, re.S)
    assert match, f"no error shown for {name}"
    return match.group(1)


async def test_menu_shows_lms_setup_and_lookup_by_role(web: httpx.AsyncClient, lms: Services) -> None:
    await _world(lms)
    await sign_in(web, "ia")
    home = (await web.get("/")).text
    assert 'href="/lms-setups"' in home and 'href="/lms-lookup"' not in home  # no exam write privilege
    await sign_in(web, "ea")
    home = (await web.get("/")).text
    assert 'href="/lms-setups"' in home and 'href="/lms-lookup"' in home
    await sign_in(web, "sup")
    home = (await web.get("/")).text
    assert 'href="/lms-setups"' in home and 'href="/lms-lookup"' not in home


async def test_form_renders_the_settings_of_each_installed_type(web: httpx.AsyncClient, lms: Services,
                                                                openedx) -> None:
    await _world(lms)
    await sign_in(web, "ia")
    form = await web.get(f"{BASE}/new")
    assert form.status_code == 200 and "data-warn-unsaved" in form.text
    assert '<option value="OPEN_EDX"' in form.text and '<option value="TESTING"' in form.text
    assert 'hx-get="/lms-setups/type-settings"' in form.text and 'hx-target="#lms-type-settings"' in form.text
    assert "Choose the LMS type to enter its settings" in form.text
    fields = await web.get(f"{BASE}/type-settings", params={"lms_type": "OPEN_EDX"})
    assert fields.status_code == 200 and "<html" not in fields.text  # a fragment for htmx
    assert re.search(r'for="f-settings.client_id"[^>]*>Client ID<span class="mandatory"', fields.text)
    assert re.search(r'name="settings.client_secret" type="password" value=""', fields.text)
    assert "OAuth2 client id of the Open edX application" in fields.text  # the field's description
    moodle = await web.get(f"{BASE}/type-settings", params={"lms_type": "MOODLE"})
    if moodle.status_code == 200 and "settings.token" in moodle.text:
        assert re.search(r'type="checkbox" id="f-settings.prepend_course_short_name"[^>]*checked', moodle.text)
        assert re.search(r'name="settings.token" type="password"', moodle.text)
    preselected = await web.get(f"{BASE}/new", params={"lms_type": "OPEN_EDX"})
    assert 'name="settings.client_id"' in preselected.text


async def test_save_and_activate_against_a_fake_open_edx(web: httpx.AsyncClient, lms: Services, openedx) -> None:
    await _world(lms)
    await sign_in(web, "ia")
    with FakeOpenEdx() as fake:
        created = await web.post(f"{BASE}/new", data=edx_form(fake, activate="1", proxy_host="", proxy_port=""))
        assert created.status_code == 303, created.text
        view = await web.get(created.headers["location"])
        assert "LMS setup Open edX created and activated. Connection test passed" in view.text
        assert "issued a token" in view.text and '<span class="badge on">Active</span>' in view.text
        assert fake.client_secret not in view.text
        assert re.search(r"Client secret</span><div class=\"value\">set</div>", view.text)
        assert "Deactivate LMS Setup" in view.text and "Test Connection" in view.text
        setup_id = int(created.headers["location"].rsplit("/", 1)[1])
        tested = await web.post(f"{BASE}/{setup_id}/test", data={"next": f"{BASE}/{setup_id}"})
        assert tested.status_code == 303
        assert "Connection test of Open edX passed" in (await web.get(tested.headers["location"])).text


async def test_a_failing_test_still_saves_with_a_warning(web: httpx.AsyncClient, lms: Services, openedx) -> None:
    await _world(lms)
    await sign_in(web, "ia")
    with FakeOpenEdx() as fake:
        created = await web.post(f"{BASE}/new", data=edx_form(fake, secret="wrong-one", activate="1"))
        assert created.status_code == 303
        view = await web.get(created.headers["location"])
    assert 'class="flash warning"' in view.text
    assert "created, but the connection test failed" in view.text and "refused the credentials" in view.text
    assert "It was not activated." in view.text and '<span class="badge off">Inactive</span>' in view.text
    assert "wrong-one" not in view.text
    assert "Activate LMS Setup" in view.text
    setup_id = int(created.headers["location"].rsplit("/", 1)[1])
    # Activating re-runs the test; with the LMS gone it is refused with the reason.
    refused = await web.post(f"{BASE}/{setup_id}/activate", data={"next": f"{BASE}/{setup_id}"})
    page = (await web.get(refused.headers["location"])).text
    assert "was not activated: the connection test failed" in page and "cannot connect" in page
    assert not (await lms.lms_setups.get(await _actor(lms, "ia"), setup_id)).active


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"name": ""}, "name", "at least 3 characters"),
    ({"lms_type": "BLACKBOARD"}, "lms_type", "BLACKBOARD"),
    ({"url": "lms.example.org"}, "url", "enter the LMS address"),
    ({"proxy_host": "proxy.example.org", "proxy_port": "99999"}, "proxy_port", "less than or equal to 65535"),
    ({"proxy_port": "abc"}, "proxy_port", "valid integer"),
    ({"settings.client_secret": ""}, "settings.client_secret", "enter the client secret"),
    ({"settings.client_id": ""}, "settings.client_id", "at least 1 character"),
])
async def test_bad_input_shows_field_errors_without_secrets(web: httpx.AsyncClient, lms: Services, openedx,
                                                            change: dict[str, str], field: str, message: str) -> None:
    await _world(lms)
    await sign_in(web, "ia")
    data = {"name": "Open edX", "lms_type": "OPEN_EDX", "url": "https://edx.example.org",
            "settings.client_id": "sebframe", "settings.client_secret": SECRET,
            "proxy_username": "p", "proxy_password": "proxy-secret-4711", **change}
    response = await web.post(f"{BASE}/new", data=data)
    assert response.status_code == 422, response.text
    assert "Please correct the marked fields" in response.text
    if field == "lms_type":
        assert "BLACKBOARD" in response.text and 'aria-invalid="true"' in response.text
    else:
        assert message in _error_of(response.text, field)
    assert SECRET not in response.text and "proxy-secret-4711" not in response.text
    assert await _count(lms) == 0


async def test_every_problem_is_shown_at_once(web: httpx.AsyncClient, lms: Services, openedx) -> None:
    await _world(lms)
    await sign_in(web, "ia")
    response = await web.post(f"{BASE}/new", data={"name": "ab", "lms_type": "OPEN_EDX", "url": "nope",
                                                   "settings.client_id": "", "settings.client_secret": ""})
    assert response.status_code == 422
    assert "at least 3 characters" in _error_of(response.text, "name")
    assert "enter the LMS address" in _error_of(response.text, "url")
    assert "at least 1 character" in _error_of(response.text, "settings.client_id")
    assert "enter the client secret" in _error_of(response.text, "settings.client_secret")


async def test_missing_moodle_credentials_are_shown_on_the_settings(web: httpx.AsyncClient, lms: Services) -> None:
    await _world(lms)
    await sign_in(web, "ia")
    response = await web.post(f"{BASE}/new", data={"name": "Moodle", "lms_type": "MOODLE",
                                                   "url": "https://moodle.example.org",
                                                   "settings.username": "sebserver", "settings.service": "svc"})
    assert response.status_code == 422
    assert "enter the web-service user name and password, or a web-service token" in response.text
    assert 'value="sebserver"' in response.text and 'value="svc"' in response.text  # plain settings stay
    assert await _count(lms) == 0


async def test_edit_keeps_secrets_and_never_shows_them(web: httpx.AsyncClient, lms: Services, openedx) -> None:
    await _world(lms)
    await sign_in(web, "ia")
    with FakeOpenEdx() as fake:
        created = await web.post(f"{BASE}/new", data=edx_form(fake, proxy_host="", proxy_password=""))
        setup_id = int(created.headers["location"].rsplit("/", 1)[1])
        form = await web.get(f"{BASE}/{setup_id}/edit")
        assert form.status_code == 200
        assert fake.client_secret not in form.text and "********" not in form.text
        assert "leave empty to keep" in form.text and f'value="{fake.client_id}"' in form.text
        assert f'hx-get="/lms-setups/type-settings?setup_id={setup_id}"' in form.text
        # The type fragment for the stored type knows the secret is kept; for another type it is not.
        same = await web.get(f"{BASE}/type-settings", params={"lms_type": "OPEN_EDX", "setup_id": setup_id})
        assert "leave empty to keep" in same.text and fake.client_secret not in same.text
        other = await web.get(f"{BASE}/type-settings", params={"lms_type": "TESTING", "setup_id": setup_id})
        assert "leave empty to keep" not in other.text
        saved = await web.post(f"{BASE}/{setup_id}/edit", data=edx_form(fake, name="Renamed", secret=""))
        assert saved.status_code == 303
        view = (await web.get(saved.headers["location"])).text
        assert "LMS setup Renamed saved. Connection test passed" in view
        # A failed save re-renders without the newly typed secret.
        failed = await web.post(f"{BASE}/{setup_id}/edit", data=edx_form(fake, name="x", secret="typed-secret"))
        assert failed.status_code == 422 and "typed-secret" not in failed.text
    setup = await lms.lms_setups.get(await _actor(lms, "ia"), setup_id)
    assert lms.lms_setups.settings_of(setup, masked=False)["client_secret"] == fake.client_secret


async def test_reload_without_javascript_shows_the_type_fields(web: httpx.AsyncClient, lms: Services,
                                                               openedx) -> None:
    await _world(lms)
    await sign_in(web, "ia")
    response = await web.post(f"{BASE}/new", data={"name": "", "lms_type": "OPEN_EDX", "url": "", "reload": "1"})
    assert response.status_code == 200 and 'name="settings.client_id"' in response.text
    assert "Please correct" not in response.text and await _count(lms) == 0


async def test_deactivation_lists_the_exams_it_takes_along(web: httpx.AsyncClient, lms: Services) -> None:
    _, eth, _ = await _world(lms)
    await sign_in(web, "ia")
    setup = await _create(lms, "ia", TESTING_SETUP, activate=True)
    async with lms.db.transaction() as session:
        session.add(Exam(institution_id=eth.id, lms_setup_id=setup.id, external_id="quiz1", name="Demo Quiz 1"))
        session.add(Exam(institution_id=eth.id, lms_setup_id=setup.id, external_id="quiz2", name="Demo Quiz 2",
                         active=False))
    confirm = await web.get(f"{BASE}/{setup.id}/deactivate")
    assert confirm.status_code == 200
    assert "1 exam will be deactivated" in confirm.text and "Demo Quiz 1" in confirm.text
    assert "Demo Quiz 2" not in confirm.text  # already inactive
    done = await web.post(f"{BASE}/{setup.id}/deactivate", data={"next": f"{BASE}/{setup.id}"})
    assert done.status_code == 303
    assert "LMS setup Mock LMS deactivated, with 1 exam." in (await web.get(done.headers["location"])).text
    async with lms.db.read() as session:
        assert not any(exam.active for exam in (await session.execute(select(Exam))).scalars())
    # Delete is refused with the reason while exams exist.
    refused = await web.post(f"{BASE}/{setup.id}/delete")
    assert refused.status_code == 422 and "2 exam(s) were imported from" in refused.text
    assert await _count(lms) == 1


async def test_delete_with_confirmation(web: httpx.AsyncClient, lms: Services) -> None:
    await _world(lms)
    await sign_in(web, "ia")
    setup = await _create(lms, "ia", TESTING_SETUP)
    confirm = await web.get(f"{BASE}/{setup.id}/delete")
    assert confirm.status_code == 200 and "This cannot be undone" in confirm.text
    deleted = await web.post(f"{BASE}/{setup.id}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == BASE
    assert "LMS setup Mock LMS deleted." in (await web.get(BASE)).text
    assert await _count(lms) == 0


async def test_list_filters_sorts_and_pages(web: httpx.AsyncClient, lms: Services, openedx) -> None:
    await _world(lms)
    await sign_in(web, "ia")
    await _create(lms, "ia", TESTING_SETUP, activate=True)
    await _create(lms, "ia", {**TESTING_SETUP, "name": "Another Mock"})
    await _create(lms, "ia", {"name": "Edx", "lms_type": "OPEN_EDX", "url": "http://127.0.0.1:9",
                              "settings": {"client_id": "a", "client_secret": "b"}})

    def names(html: str) -> list[str]:
        return re.findall(r'<td><a href="/lms-setups/\d+">([^<]+)</a></td>', html)

    listing = await web.get(BASE)
    assert names(listing.text) == ["Another Mock", "Edx", "Mock LMS"]
    assert "Add LMS Setup" in listing.text and 'data-flags="active modifiable writable"' in listing.text
    assert "Institution" not in re.sub(r"<nav.*?</nav>", "", listing.text, flags=re.S).split("<table")[1][:400]
    assert names((await web.get(BASE, params={"name": "mock"})).text) == ["Another Mock", "Mock LMS"]
    assert names((await web.get(BASE, params={"lms_type": "OPEN_EDX"})).text) == ["Edx"]
    assert names((await web.get(BASE, params={"active": "true"})).text) == ["Mock LMS"]
    assert names((await web.get(BASE, params={"sort": "-name"})).text) == ["Mock LMS", "Edx", "Another Mock"]
    paged = await web.get(BASE, params={"size": "2", "page": "2"})
    assert names(paged.text) == ["Mock LMS"] and "page 2 of 2" in paged.text
    bad = await web.get(BASE, params={"sort": "secret"})
    assert bad.status_code == 422 and "cannot sort by" in bad.text


async def test_seb_server_admin_sees_all_institutions_read_only(web: httpx.AsyncClient, lms: Services) -> None:
    _, eth, uzh = await _world(lms)
    await _create(lms, "ia", TESTING_SETUP)
    await _create(lms, "uzh-ia", {**TESTING_SETUP, "name": "UZH Mock"})
    await sign_in(web, "root")
    listing = await web.get(BASE)
    assert "Mock LMS" in listing.text and "UZH Mock" in listing.text
    assert f'<option value="{uzh.id}"' in listing.text  # institution filter
    assert "Add LMS Setup" not in listing.text
    only_uzh = await web.get(BASE, params={"institution_id": str(uzh.id)})
    assert "UZH Mock" in only_uzh.text and "Mock LMS" not in only_uzh.text
    assert (await web.get(f"{BASE}/new")).status_code == 403


async def test_other_institutions_setups_are_not_found(web: httpx.AsyncClient, lms: Services) -> None:
    await _world(lms)
    setup = await _create(lms, "uzh-ia", {**TESTING_SETUP, "name": "UZH Mock"}, activate=True)
    await sign_in(web, "ia")
    assert "UZH Mock" not in (await web.get(BASE)).text
    for method, path in (("GET", ""), ("GET", "/edit"), ("POST", "/edit"), ("POST", "/test"), ("POST", "/activate"),
                         ("GET", "/deactivate"), ("POST", "/deactivate"), ("GET", "/delete"), ("POST", "/delete")):
        response = await web.request(method, f"{BASE}/{setup.id}{path}", data={} if method == "POST" else None)
        assert response.status_code == 404, (method, path, response.status_code)
    fragment = await web.get(f"{BASE}/type-settings", params={"lms_type": "TESTING", "setup_id": setup.id})
    assert fragment.status_code == 404
    assert (await web.get(f"{BASE}/999999")).status_code == 404
    assert (await lms.lms_setups.get(await _actor(lms, "uzh-ia"), setup.id)).active


async def test_supporter_reads_exam_admin_modifies(web: httpx.AsyncClient, lms: Services) -> None:
    await _world(lms)
    setup = await _create(lms, "ia", TESTING_SETUP)
    await sign_in(web, "sup")
    listing = await web.get(BASE)
    assert "Mock LMS" in listing.text and "Add LMS Setup" not in listing.text
    assert 'data-flags=""' in listing.text
    view = await web.get(f"{BASE}/{setup.id}")
    assert view.status_code == 200 and "Edit LMS Setup" not in view.text and "Test Connection" not in view.text
    assert "mock-secret" not in view.text
    for method, path in (("GET", "/new"), ("GET", f"/{setup.id}/edit"), ("POST", f"/{setup.id}/test"),
                         ("POST", f"/{setup.id}/activate"), ("GET", f"/{setup.id}/delete")):
        response = await web.request(method, BASE + path, data={} if method == "POST" else None)
        assert response.status_code == 403, (method, path)

    await sign_in(web, "ea")
    view = await web.get(f"{BASE}/{setup.id}")
    assert "Edit LMS Setup" in view.text and "Test Connection" in view.text
    assert "Delete LMS Setup" not in view.text and "Activate LMS Setup" not in view.text
    form = await web.get(f"{BASE}/{setup.id}/edit")
    assert form.status_code == 200 and "Save and Activate" not in form.text
    saved = await web.post(f"{BASE}/{setup.id}/edit", data=_testing_form(name="Changed by EA", secret=""))
    assert saved.status_code == 303
    assert (await web.post(f"{BASE}/{setup.id}/test", data={})).status_code == 303
    for method, path in (("GET", "/new"), ("POST", "/new"), ("GET", f"/{setup.id}/delete"),
                         ("POST", f"/{setup.id}/delete"), ("POST", f"/{setup.id}/activate"),
                         ("GET", f"/{setup.id}/deactivate")):
        response = await web.request(method, BASE + path, data=_testing_form() if method == "POST" else None)
        assert response.status_code == 403, (method, path)
    stored = await lms.lms_setups.get(await _actor(lms, "ia"), setup.id)
    assert stored.name == "Changed by EA" and not stored.active and await _count(lms) == 1
