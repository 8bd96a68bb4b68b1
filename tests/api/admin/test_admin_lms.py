"""Admin API: LMS types, LMS setups (connection test on every save, masked secrets) and the LMS exam lookup.

The module's ``factory`` and ``client`` fixtures replace the suite's, so the ``api_world`` runs on services whose
registry also holds the installed LMS plugins (Open edX, Moodle), tested against the fake LMS servers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sebframe_lms_openedx.plugin
from sqlalchemy import delete, select

from sebframe.api.admin.endpoints.lms_setups import LMS_SETUP_QUERY
from sebframe.core.accounts.roles import PRIVILEGES, EntityType, Grant, Privilege, Role
from sebframe.core.db.models import Exam, LmsSetup
from sebframe.core.lms.setups import LMS_SETUP_FILTERS
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.testing.fakes.openedx import FakeOpenEdx
from tests.api.admin.helpers import ROLE_USERS, World, error_of
from tests.conftest import Factory
from tests.lms_support import lms_services, web_client

pytestmark = pytest.mark.anyio

SECRET = "mock-secret-4711"
TESTING = {"name": "Mock LMS", "lms_type": "TESTING", "url": "https://lms.example.org",
           "settings": {"client_name": "sebserver", "client_secret": SECRET}}


@pytest.fixture
async def lms(settings: Settings, services: Services) -> AsyncIterator[Services]:
    async with lms_services(settings) as own:
        yield own


@pytest.fixture
def factory(lms: Services) -> Factory:
    return Factory(lms)


@pytest.fixture
async def client(lms: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with web_client(lms) as http:
        yield http


@pytest.fixture
def openedx() -> Any:
    return sebframe_lms_openedx.plugin


def edx_body(fake: FakeOpenEdx, name: str = "Open edX", secret: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "lms_type": "OPEN_EDX", "url": fake.url,
            "settings": {"client_id": fake.client_id,
                         "client_secret": fake.client_secret if secret is None else secret}, **extra}


async def _setup_count(lms: Services) -> int:
    async with lms.db.read() as session:
        return len((await session.execute(select(LmsSetup.id))).all())


async def test_lms_types_describe_their_settings(api_world: World) -> None:
    body = await api_world.api("a-examadmin").ok("GET", "/lms-types")
    types = {item["name"]: item for item in body["items"]}
    testing = types["TESTING"]
    assert testing["display_name"] == "Testing" and "COURSE_API" in testing["features"]
    assert testing["secret_settings"] == ["client_secret"]
    assert testing["settings_schema"]["properties"]["client_secret"]["format"] == "password"
    if "OPEN_EDX" in types:
        edx = types["OPEN_EDX"]
        assert set(edx["settings_schema"]["required"]) == {"client_id", "client_secret"}
        assert "SEB_RESTRICTION" in edx["features"] and edx["secret_settings"] == ["client_secret"]
    error_of(await api_world.api(None).get("/lms-types"), 401)


async def test_create_activate_and_look_up_against_a_fake_open_edx(api_world: World, openedx) -> None:
    admin, exam_admin = api_world.api("a-admin"), api_world.api("a-examadmin")
    with FakeOpenEdx() as fake:
        response = await admin.post("/lms-setups", json=edx_body(fake, active=True))
        assert response.status_code == 201, response.text
        assert fake.client_secret not in response.text
        created = response.json()
        assert created["active"] is True and created["institution_id"] == api_world.a.id
        assert created["test"]["ok"] is True and "issued a token" in created["test"]["message"]
        assert created["settings"] == {"client_id": fake.client_id, "client_secret": "********"}
        assert created["last_test"]["ok"] is True and created["last_test"]["tested_at"]
        assert created["has_proxy_password"] is False and created["proxy_host"] is None

        got = await admin.ok("GET", f"/lms-setups/{created['id']}")
        assert got["test"] is None and got["name"] == "Open edX"
        listed = await admin.ok("GET", "/lms-setups?lms_type=OPEN_EDX&active=true")
        assert [item["id"] for item in listed["items"]] == [created["id"]]

        lookup = await exam_admin.get("/lms-lookup", params={"start_from": "2000-01-01"})
        assert lookup.status_code == 200, lookup.text
        body = lookup.json()
        assert body["complete"] is True and body["start_from"].startswith("2000-01-01T00:00:00")
        assert body["setups"] == [{"lms_setup_id": created["id"], "lms_setup_name": "Open edX", "state": "OK",
                                   "message": f"{len(fake.courses)} quizzes", "quiz_count": len(fake.courses)}]
        assert [quiz["name"] for quiz in body["quizzes"]] == sorted(course.name for course in fake.courses)
        demo = next(quiz for quiz in body["quizzes"] if quiz["quiz_id"] == "course-v1:edX+DemoX+Demo_Course")
        assert demo["lms_setup_id"] == created["id"] and demo["lms_type"] == "OPEN_EDX"
        assert demo["start_time"].startswith("2013-02-05T05:00:00") and demo["end_time"] is None
        assert fake.client_secret not in lookup.text
        named = await exam_admin.ok("GET", "/lms-lookup", params={"name": "statistics", "start_from": "2000-01-01",
                                                                 "lms_setup_id": str(created["id"])})
        assert {quiz["name"] for quiz in named["quizzes"]} == {"Statistics 1", "Statistics 2"}
        default = await exam_admin.ok("GET", "/lms-lookup")  # one year back by default
        assert "course-v1:UZH+Stat1+2025" not in {quiz["quiz_id"] for quiz in default["quizzes"]}


async def test_a_failing_test_saves_inactive_and_activation_is_refused(api_world: World, lms: Services,
                                                                       openedx) -> None:
    admin = api_world.api("a-admin")
    with FakeOpenEdx() as fake:
        created = await admin.ok("POST", "/lms-setups", 201, json=edx_body(fake, secret="wrong-secret", active=True))
        assert created["active"] is False
        assert created["test"]["ok"] is False and created["test"]["error_kind"] == "unauthorized"
        assert "wrong-secret" not in str(created)
        refused = error_of(await admin.post(f"/lms-setups/{created['id']}/activate"), 422)
        assert "connection test failed" in refused["field_errors"]["active"]
        tested = await admin.ok("POST", f"/lms-setups/{created['id']}/test")
        assert tested["ok"] is False and tested["error_kind"] == "unauthorized"

        fixed = await admin.ok("PATCH", f"/lms-setups/{created['id']}",
                               json={"settings": {"client_secret": fake.client_secret}})
        assert fixed["test"]["ok"] is True and fixed["settings"]["client_id"] == fake.client_id
        activated = await admin.ok("POST", f"/lms-setups/{created['id']}/activate")
        assert activated["active"] is True and activated["test"]["ok"] is True


async def test_changes_keep_secrets_that_are_not_sent(api_world: World, lms: Services, openedx) -> None:
    admin = api_world.api("a-admin")
    with FakeOpenEdx() as fake:
        created = await admin.ok("POST", "/lms-setups", 201, json=edx_body(
            fake, proxy_host="", proxy_port=None))
        path = f"/lms-setups/{created['id']}"
        renamed = await admin.ok("PATCH", path, json={"name": "Renamed"})
        assert renamed["name"] == "Renamed" and renamed["test"]["ok"] is True  # the stored secret still works
        replaced = await admin.ok("PUT", path, json=edx_body(fake, name="Replaced", secret=""))
        assert replaced["name"] == "Replaced" and replaced["test"]["ok"] is True
        proxied = await admin.ok("PATCH", path, json={"proxy_host": "127.0.0.1", "proxy_port": 9,
                                                      "proxy_username": "p", "proxy_password": "proxy-pw-4711"})
        assert proxied["has_proxy_password"] is True and proxied["proxy_port"] == 9
        assert proxied["test"]["ok"] is False  # nothing listens on the proxy port
        assert "proxy-pw-4711" not in str(proxied)
        unproxied = await admin.ok("PATCH", path, json={"proxy_host": None})
        assert unproxied["proxy_host"] is None and unproxied["has_proxy_password"] is False
        assert unproxied["test"]["ok"] is True
        # Another type starts from its own settings: nothing (not even a secret) is carried over.
        switched = await admin.ok("PATCH", path, json={"lms_type": "TESTING",
                                                       "settings": {"client_name": "a", "client_secret": "b"}})
        assert switched["lms_type"] == "TESTING" and switched["settings"] == {"client_name": "a",
                                                                              "client_secret": "********"}
        back = error_of(await admin.patch(path, json={"lms_type": "OPEN_EDX"}), 422)
        assert {"settings.client_id", "settings.client_secret"} <= set(back["field_errors"])
    setup = await lms.lms_setups.get(await api_world.factory.actor(api_world.a, "helper", Role.INSTITUTIONAL_ADMIN),
                                     created["id"])
    assert lms.lms_setups.settings_of(setup, masked=False) == {"client_name": "a", "client_secret": "b"}


@pytest.mark.parametrize(("body", "field"), [
    ({**TESTING, "name": ""}, "name"),
    ({**TESTING, "lms_type": "BLACKBOARD"}, "lms_type"),
    ({**TESTING, "url": "lms.example.org"}, "url"),
    ({**TESTING, "proxy_host": "proxy", "proxy_port": 70000}, "proxy_port"),
    ({**TESTING, "proxy_host": "proxy", "proxy_port": "3128"}, "proxy_port"),  # strict: a string is no number
    ({**TESTING, "proxy_host": "http://proxy/"}, "proxy_host"),
    ({**TESTING, "settings": "client_name=a"}, "settings"),
    ({**TESTING, "settings": {"client_name": "a", "client_secret": 5}}, "settings.client_secret"),
    ({**TESTING, "colour": "blue"}, "colour"),
    ({**TESTING, "institution_id": 0}, "institution_id"),
])
async def test_bad_input_is_refused_by_field(api_world: World, lms: Services, body: dict[str, Any], field: str) -> None:
    error = error_of(await api_world.api("a-admin").post("/lms-setups", json=body), 422)
    assert field in error["field_errors"], error
    assert SECRET not in str(error)
    assert await _setup_count(lms) == 0


async def test_missing_required_settings_of_a_plugin_type(api_world: World, lms: Services, openedx) -> None:
    error = error_of(await api_world.api("a-admin").post("/lms-setups", json={
        "name": "Open edX", "lms_type": "OPEN_EDX", "url": "https://edx.example.org",
        "settings": {"client_id": "sebframe"}}), 422)
    assert "settings.client_secret" in error["field_errors"]
    assert await _setup_count(lms) == 0


async def test_deactivation_report_deactivate_and_delete(api_world: World, lms: Services) -> None:
    admin = api_world.api("a-admin")
    created = await admin.ok("POST", "/lms-setups", 201, json={**TESTING, "active": True})
    path = f"/lms-setups/{created['id']}"
    async with lms.db.transaction() as session:
        session.add(Exam(institution_id=api_world.a.id, lms_setup_id=created["id"], external_id="quiz1",
                         name="Demo Quiz 1"))
    report = await admin.ok("GET", f"{path}/deactivation-report")
    assert report["lms_setup_id"] == created["id"] and [exam["name"] for exam in report["exams"]] == ["Demo Quiz 1"]
    deactivated = await admin.ok("POST", f"{path}/deactivate")
    assert deactivated["lms_setup"]["active"] is False
    assert [exam["name"] for exam in deactivated["deactivated_exams"]] == ["Demo Quiz 1"]
    assert SECRET not in str(deactivated)
    refused = error_of(await admin.delete(path), 422)
    assert "1 exam(s) were imported" in refused["message"] + str(refused.get("field_errors"))
    async with lms.db.transaction() as session:
        await session.execute(delete(Exam))
    assert (await admin.delete(path)).status_code == 204
    error_of(await admin.get(path), 404)


async def test_secrets_never_leave_the_server(api_world: World, lms: Services) -> None:
    admin = api_world.api("a-admin")
    body = {**TESTING, "proxy_host": "127.0.0.1", "proxy_port": 9, "proxy_username": "p",
            "proxy_password": "proxy-secret-4711"}
    responses = [await admin.post("/lms-setups", json=body)]
    setup_id = responses[0].json()["id"]
    responses += [await admin.get("/lms-setups"), await admin.get(f"/lms-setups/{setup_id}"),
                  await admin.patch(f"/lms-setups/{setup_id}", json={"name": "Renamed"}),
                  await admin.post(f"/lms-setups/{setup_id}/test"),
                  await api_world.api("a-examadmin").get("/lms-lookup"),
                  await api_world.api("root").get("/lms-setups"), await api_world.api("a-supporter").get("/lms-setups")]
    for response in responses:
        assert response.status_code < 300, response.text
        assert SECRET not in response.text and "proxy-secret-4711" not in response.text


async def test_lookup_reports_each_setup_and_refuses_bad_input(api_world: World, lms: Services, openedx) -> None:
    admin, exam_admin = api_world.api("a-admin"), api_world.api("a-examadmin")
    mock = await admin.ok("POST", "/lms-setups", 201, json={**TESTING, "active": True})
    with FakeOpenEdx() as failing, FakeOpenEdx() as slow:
        for name, fake in (("Failing", failing), ("Slow", slow)):
            created = await admin.ok("POST", "/lms-setups", 201, json=edx_body(fake, name=name, active=True))
            assert created["active"], created
        failing.fail_status = 500
        slow.delay = 2.0
        body = await exam_admin.ok("GET", "/lms-lookup", params={"start_from": "2000-01-01T00:00:00+01:00"})
    states = {setup["lms_setup_name"]: (setup["state"], setup["message"]) for setup in body["setups"]}
    assert states["Mock LMS"][0] == "OK"
    assert states["Failing"][0] == "FAILED" and "500" in states["Failing"][1]
    assert states["Slow"][0] == "TIMEOUT" and "did not answer" in states["Slow"][1]
    assert body["complete"] is False and body["start_from"].startswith("1999-12-31T23:00:00")
    assert {quiz["lms_setup_id"] for quiz in body["quizzes"]} == {mock["id"]}

    for params, field in (({"start_from": "yesterday"}, "start_from"), ({"lms_setup_id": "x"}, "lms_setup_id"),
                          ({"page": "2"}, "page")):
        error = error_of(await exam_admin.get("/lms-lookup", params=params), 422)
        assert field in error["field_errors"]
    other = await api_world.api("b-admin").ok("POST", "/lms-setups", 201, json={**TESTING, "active": True})
    error_of(await exam_admin.get("/lms-lookup", params={"lms_setup_id": other["id"]}), 404)
    for username in ("root", "a-admin", "a-supporter"):  # no exam write privilege
        error_of(await api_world.api(username).get("/lms-lookup"), 403)


def test_list_query_covers_the_service_filters() -> None:
    assert {f.name for f in LMS_SETUP_QUERY.filters} == set(LMS_SETUP_FILTERS)


# -- the privilege matrix ------------------------------------------------------------------------------------

SSA, IA, EA, ES = Role.SEB_SERVER_ADMIN, Role.INSTITUTIONAL_ADMIN, Role.EXAM_ADMIN, Role.EXAM_SUPPORTER
OK, LISTED, HIDDEN = "ok", "listed", "hidden"
ACTIONS = ("list", "get", "create", "update", "test", "activate", "report", "deactivate", "delete")
NEEDED = {"list": Privilege.READ, "get": Privilege.READ, "create": Privilege.WRITE, "update": Privilege.MODIFY,
          "test": Privilege.MODIFY, "activate": Privilege.WRITE, "report": Privilege.WRITE,
          "deactivate": Privilege.WRITE, "delete": Privilege.WRITE}
# role -> action -> (on a setup of the own institution, on one of the other institution); SEB Server
# administrators only read LMS setups, exam administrators modify but neither create, (de)activate nor delete.
_SSA = {"list": (LISTED, LISTED), "get": (OK, OK), **{a: (403, 403) for a in ACTIONS[2:]}}
_IA = {"list": (LISTED, HIDDEN), "get": (OK, 404), "create": (OK, 403),
       **{a: (OK, 404) for a in ACTIONS[3:]}}
_EA = {"list": (LISTED, HIDDEN), "get": (OK, 404), "create": (403, 403), "update": (OK, 404), "test": (OK, 404),
       **{a: (403, 404) for a in ACTIONS[5:]}}
_ES = {"list": (LISTED, HIDDEN), "get": (OK, 404), "create": (403, 403), **{a: (403, 404) for a in ACTIONS[3:]}}
LMS_MATRIX: dict[Role, dict[str, tuple[Any, Any]]] = {SSA: _SSA, IA: _IA, EA: _EA, ES: _ES}


def test_matrix_agrees_with_the_privilege_table() -> None:
    for role, actions in LMS_MATRIX.items():
        grant = PRIVILEGES[EntityType.LMS_SETUP].get(role, Grant())
        for action, expected in actions.items():
            for scope, outcome in zip(("own", "other"), expected, strict=True):
                level = grant.overall if scope == "other" else max(grant.overall, grant.institutional)
                assert (outcome in (OK, LISTED)) == (level >= NEEDED[action]), (role, action, scope, outcome)


@pytest.mark.parametrize(("role", "action", "scope", "expected"), [
    pytest.param(role, action, scope, expected[index], id=f"{role.name}-{action}-{scope}")
    for role, actions in LMS_MATRIX.items() for action, expected in actions.items()
    for index, scope in enumerate(("own", "other"))])
async def test_lms_setup_privileges(api_world: World, lms: Services, role: Role, action: str, scope: str,
                                    expected: Any) -> None:
    api = api_world.api(ROLE_USERS[role])
    owner = api_world.api("a-admin" if scope == "own" else "b-admin")
    institution = api_world.a if scope == "own" else api_world.b
    target = await owner.ok("POST", "/lms-setups", 201, json={**TESTING, "name": "Target",
                                                              "active": action == "deactivate"})
    path = f"/lms-setups/{target['id']}"

    async def stored() -> LmsSetup | None:
        async with lms.db.read() as session:
            return await session.get(LmsSetup, target["id"])

    before = await stored()
    assert before is not None

    def expect(response: httpx.Response, success: int = 200) -> bool:
        if expected in (OK, LISTED):
            assert response.status_code == success, response.text
            return True
        error_of(response, expected)
        assert "Target" not in response.text or expected == 403
        return False

    if action == "list":
        listed = await api.ok("GET", "/lms-setups?size=500")
        assert (target["id"] in {item["id"] for item in listed["items"]}) == (expected == LISTED)
    elif action == "get":
        expect(await api.get(path))
    elif action == "create":
        allowed = expect(await api.post("/lms-setups", json={**TESTING, "name": "Created",
                                                             "institution_id": institution.id}), 201)
        async with lms.db.read() as session:
            created = (await session.execute(select(LmsSetup).where(LmsSetup.name == "Created"))).scalars().all()
        assert len(created) == (1 if allowed else 0)
    elif action == "update":
        allowed = expect(await api.patch(path, json={"name": "Changed"}))
        assert (await stored()).name == ("Changed" if allowed else "Target")  # type: ignore[union-attr]
    elif action == "test":
        allowed = expect(await api.post(f"{path}/test"))
        after = await stored()
        assert (after.last_tested_at != before.last_tested_at) == allowed  # type: ignore[union-attr]
    elif action in ("activate", "deactivate"):
        allowed = expect(await api.post(f"{path}/{action}"))
        after = await stored()
        assert after.active == ((action == "activate") == allowed)  # type: ignore[union-attr]
        if not allowed:
            assert after.last_tested_at == before.last_tested_at  # refused before contacting the LMS
    elif action == "report":
        expect(await api.get(f"{path}/deactivation-report"))
    elif action == "delete":
        allowed = expect(await api.delete(path), 204)
        assert (await stored() is None) == allowed
