"""The privilege matrix of the admin API: each role × action × (own institution / other institution).

The expectations are written out below as SEB Server documents them (seed 000: "Roles and Use-Cases",
"Institution", "User Accounts"), those of monitoring in ``tests/monitoring_matrix.py`` (shared with the web UI's
tests); ``test_matrix_agrees_with_the_privilege_table`` checks that every allow and deny also follows from
``sebframe.core.accounts.roles.PRIVILEGES``. Denials are 404 when the caller may
not even see the entity (never a hint that it exists) and 403 when it may see it but not do this.
Every case also checks the effect: allowed actions happen, denied ones change nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from sebframe.core.accounts.roles import PRIVILEGES, EntityType, Grant, Privilege, Role
from sebframe.core.db.models import Institution
from tests.api.admin.helpers import PNG, ROLE_USERS, World, error_of
from tests.conftest import PASSWORD
from tests.monitoring_matrix import (
    MONITORING_MATRIX,
    SCOPES,
    WRITES,
    ExamSide,
    Staff,
    assert_body,
    by_table,
    cases,
    effect,
    monitoring_world,
)

pytestmark = pytest.mark.anyio

SSA, IA, EA, ES = Role.SEB_SERVER_ADMIN, Role.INSTITUTIONAL_ADMIN, Role.EXAM_ADMIN, Role.EXAM_SUPPORTER
OK, LISTED, HIDDEN = "ok", "listed", "hidden"  # the same outcomes as tests.monitoring_matrix's

# role -> action -> (on an entity of the own institution, on one of the other institution)
USER_MATRIX: dict[Role, dict[str, tuple[Any, Any]]] = {
    SSA: {"list": (LISTED, LISTED), "get": (OK, OK), "create": (OK, OK), "update": (OK, OK),
          "activate": (OK, OK), "deactivate": (OK, OK), "delete": (OK, OK)},
    IA: {"list": (LISTED, HIDDEN), "get": (OK, 404), "create": (OK, 403), "update": (OK, 404),
         "activate": (OK, 404), "deactivate": (OK, 404), "delete": (OK, 404)},
    EA: {"list": (LISTED, HIDDEN), "get": (OK, 404), "create": (403, 403), "update": (403, 404),
         "activate": (403, 404), "deactivate": (403, 404), "delete": (403, 404)},
    ES: {"list": (HIDDEN, HIDDEN), "get": (404, 404), "create": (403, 403), "update": (404, 404),
         "activate": (404, 404), "deactivate": (404, 404), "delete": (404, 404)},
}

# Institutions cannot be deleted (as in SEB Server); "create" does not depend on the institution. The
# "activate" target is inactive, and an inactive institution is invisible to exam staff, hence their 404.
INSTITUTION_MATRIX: dict[Role, dict[str, tuple[Any, Any]]] = {
    SSA: {"list": (LISTED, LISTED), "get": (OK, OK), "create": (OK, OK), "update": (OK, OK), "logo": (OK, OK),
          "report": (OK, OK), "activate": (OK, OK), "deactivate": (OK, OK)},
    IA: {"list": (LISTED, HIDDEN), "get": (OK, 404), "create": (403, 403), "update": (OK, 404),
         "logo": (OK, 404), "report": (403, 404), "activate": (403, 404), "deactivate": (403, 404)},
    EA: {"list": (LISTED, HIDDEN), "get": (OK, 404), "create": (403, 403), "update": (403, 404),
         "logo": (403, 404), "report": (403, 404), "activate": (404, 404), "deactivate": (403, 404)},
    ES: {"list": (LISTED, HIDDEN), "get": (OK, 404), "create": (403, 403), "update": (403, 404),
         "logo": (403, 404), "report": (403, 404), "activate": (404, 404), "deactivate": (403, 404)},
}

NEEDED = {"list": Privilege.READ, "get": Privilege.READ, "create": Privilege.WRITE, "update": Privilege.MODIFY,
          "logo": Privilege.MODIFY, "report": Privilege.WRITE, "activate": Privilege.WRITE,
          "deactivate": Privilege.WRITE, "delete": Privilege.WRITE}


def _cases(matrix: dict[Role, dict[str, tuple[Any, Any]]]) -> list[Any]:
    return [pytest.param(role, action, scope, expected[index], id=f"{role.name}-{action}-{scope}")
            for role, actions in matrix.items() for action, expected in actions.items()
            for index, scope in enumerate(("own", "other"))
            if not (action == "create" and matrix is INSTITUTION_MATRIX and scope == "other")]


@pytest.mark.parametrize(("entity_type", "matrix"), [(EntityType.USER_ACCOUNT, USER_MATRIX),
                                                    (EntityType.INSTITUTION, INSTITUTION_MATRIX)])
def test_matrix_agrees_with_the_privilege_table(entity_type: EntityType, matrix: dict) -> None:
    for role, actions in matrix.items():
        grant = PRIVILEGES[entity_type].get(role, Grant())
        for action, expected in actions.items():
            for scope, outcome in zip(("own", "other"), expected, strict=True):
                level = grant.overall if scope == "other" or action == "create" and entity_type == \
                    EntityType.INSTITUTION else max(grant.overall, grant.institutional)
                allowed_by_table = level >= NEEDED[action]
                assert (outcome in (OK, LISTED)) == allowed_by_table, (role, action, scope, outcome)


def _expect(response: Any, expected: Any, success: int = 200) -> bool:
    """Check the status against the expectation; True if the action was allowed."""
    if expected == OK:
        assert response.status_code == success, response.text
        return True
    error_of(response, expected)
    return False


@pytest.mark.parametrize(("role", "action", "scope", "expected"), _cases(USER_MATRIX))
async def test_user_privileges(api_world: World, role: Role, action: str, scope: str, expected: Any) -> None:
    api = api_world.api(ROLE_USERS[role])
    root = api_world.api("root")
    institution = api_world.a if scope == "own" else api_world.b
    target = await api_world.user(institution, "target", ES, active=action != "activate", token=False)
    path = f"/users/{target.id}"

    if action == "list":
        listed = await api.ok("GET", "/users?size=500")
        assert ("target" in {u["username"] for u in listed["items"]}) == (expected == LISTED)
    elif action == "get":
        response = await api.get(path)
        if _expect(response, expected):
            assert response.json()["username"] == "target"
        else:
            assert "target" not in response.text
    elif action == "create":
        body = {"name": "New", "surname": "User", "username": "newcomer", "password": "new-password-1",
                "confirm_password": "new-password-1", "institution_id": institution.id}
        allowed = _expect(await api.post("/users", json=body), expected, 201)
        created = await root.ok("GET", "/users?username=newcomer")
        assert created["total"] == (1 if allowed else 0)
    elif action == "update":
        allowed = _expect(await api.patch(path, json={"surname": "Changed"}), expected)
        assert (await root.ok("GET", path))["surname"] == ("Changed" if allowed else "Tester")
    elif action in ("activate", "deactivate"):
        allowed = _expect(await api.post(f"{path}/{action}"), expected)
        assert (await root.ok("GET", path))["active"] == ((action == "activate") == allowed)
    elif action == "delete":
        allowed = _expect(await api.delete(path), expected)
        assert (await root.get(path)).status_code == (404 if allowed else 200)


@pytest.mark.parametrize(("role", "action", "scope", "expected"), _cases(INSTITUTION_MATRIX))
async def test_institution_privileges(api_world: World, role: Role, action: str, scope: str, expected: Any) -> None:
    api = api_world.api(ROLE_USERS[role])
    root = api_world.api("root")
    institution = api_world.a if scope == "own" else api_world.b
    path = f"/institutions/{institution.id}"
    if action == "activate":
        # Only the flag: deactivating through the service would also switch off (and sign out) the exam
        # staff of A. Staff can still end up active in an inactive institution (an admin drops their
        # administrator role afterwards), which is the case tested here.
        async with api_world.factory.services.db.transaction() as session:
            await session.execute(update(Institution).where(Institution.id == institution.id).values(active=False))
    before = await root.ok("GET", path)

    if action == "list":
        listed = await api.ok("GET", "/institutions")
        assert (institution.id in {i["id"] for i in listed["items"]}) == (expected == LISTED)
    elif action == "get":
        response = await api.get(path)
        if _expect(response, expected):
            assert response.json() == before
        else:
            assert before["name"] not in response.text
    elif action == "create":
        allowed = _expect(await api.post("/institutions", json={"name": "New School"}), expected, 201)
        assert (await root.ok("GET", "/institutions?name=New School"))["total"] == (1 if allowed else 0)
    elif action == "update":
        allowed = _expect(await api.put(path, json={"name": "Renamed"}), expected)
        assert (await root.ok("GET", path))["name"] == ("Renamed" if allowed else before["name"])
    elif action == "logo":
        allowed = _expect(await api.put(f"{path}/logo", content=PNG, headers={"Content-Type": "image/png"}),
                          expected)
        assert (await root.ok("GET", path))["logo_mime_type"] == ("image/png" if allowed else None)
    elif action == "report":
        response = await api.get(f"{path}/deactivation-report")
        if _expect(response, expected):
            assert response.json()["institution_id"] == institution.id
        assert await root.ok("GET", path) == before
    elif action in ("activate", "deactivate"):
        allowed = _expect(await api.post(f"{path}/{action}"), expected)
        assert (await root.ok("GET", path))["active"] == ((action == "activate") == allowed)


@pytest.mark.parametrize("role", list(Role))
async def test_everyone_may_read_and_modify_their_own_account(api_world: World, role: Role) -> None:
    username = ROLE_USERS[role]
    api = api_world.api(username)
    me = api_world.users[username]
    path = f"/users/{me.id}"
    assert (await api.ok("GET", path))["username"] == username
    listed = await api.ok("GET", "/users")
    assert username in {u["username"] for u in listed["items"]}
    changed = await api.ok("PATCH", path, json={"name": "Myself", "email": "me@example.org",
                                                "timezone": "Europe/Zurich"})
    assert (changed["name"], changed["email"], changed["timezone"]) == ("Myself", "me@example.org",
                                                                        "Europe/Zurich")
    same_roles = await api.ok("PATCH", path, json={"roles": [role.value]})
    assert same_roles["roles"] == [role.value]
    new = {"current_password": PASSWORD, "password": "my-new-password", "confirm_password": "my-new-password"}
    await api.ok("PUT", f"{path}/password", json=new)
    error_of(await api.get(path), 401)  # the password change voided the token


@pytest.mark.parametrize("role", [EA, ES])
async def test_exam_staff_may_not_raise_their_own_privileges(api_world: World, role: Role) -> None:
    username = ROLE_USERS[role]
    api = api_world.api(username)
    me = api_world.users[username]
    before = await api.ok("GET", f"/users/{me.id}")
    error_of(await api.patch(f"/users/{me.id}", json={"roles": ["INSTITUTIONAL_ADMIN"]}), 403)
    error_of(await api.patch(f"/users/{me.id}", json={"institution_id": api_world.b.id}), 403)
    for action in ("activate", "deactivate"):
        error_of(await api.post(f"/users/{me.id}/{action}"), 403)
    error_of(await api.delete(f"/users/{me.id}"), 403)
    assert await api.ok("GET", f"/users/{me.id}") == before


@pytest.mark.parametrize("role", [SSA, IA])
async def test_administrators_may_not_lock_themselves_out(api_world: World, role: Role) -> None:
    username = ROLE_USERS[role]
    api = api_world.api(username)
    me = api_world.users[username]
    before = await api.ok("GET", f"/users/{me.id}")
    error_of(await api.post(f"/users/{me.id}/deactivate"), 422)
    error_of(await api.delete(f"/users/{me.id}"), 422)
    error_of(await api.patch(f"/users/{me.id}", json={"roles": ["EXAM_ADMIN"]}), 422)
    assert await api.ok("GET", f"/users/{me.id}") == before


# -- monitoring: live SEB connections, client logs, supervision ----------------------------------------------


MonitoringRequest = tuple[str, str, dict[str, Any], int, str | None, tuple[str, ...]]


def _monitoring_requests(side: ExamSide) -> dict[str, MonitoringRequest]:
    """action -> (method, path, request arguments, success status, the marker shown, log texts shown)."""
    exam = side.exam_id
    instruction = f"/monitoring/{exam}/instruction"
    return {
        "connections": ("GET", f"/monitoring/{exam}/connections", {}, 200, side.user, (side.hand_text,)),
        "participation": ("GET", f"/exams/{exam}/participation", {}, 200, side.user, ()),
        "participation_csv": ("GET", f"/exams/{exam}/participation.csv", {}, 200, side.user, ()),
        "lane": ("GET", f"/exams/{exam}/location/blocked", {}, 200, side.user, ()),
        "placements": ("GET", f"/exams/{exam}/location/placements", {}, 200, side.user, ()),
        "overrides": ("GET", f"/exams/{exam}/location/overrides", {}, 200, side.override_address, ()),
        "quit": ("POST", instruction, {"json": {"type": "SEB_QUIT", "connection_tokens": [side.token]}}, 200, None,
                 ()),
        "lock": ("POST", instruction, {"json": {"type": "SEB_FORCE_LOCK_SCREEN", "connection_tokens": [side.token],
                                                "message": "Please wait"}}, 200, None, ()),
        "quit_all": ("POST", instruction, {"json": {"type": "SEB_QUIT"}}, 200, None, ()),
        "cancel": ("POST", f"/monitoring/{exam}/disable-connection",
                   {"json": {"connection_tokens": [side.closed_token]}}, 200, None, ()),
        "confirm": ("POST", f"/monitoring/{exam}/notifications/{side.notification_id}/confirm", {}, 200, None, ()),
        "allow": ("POST", f"/exams/{exam}/location/overrides",
                  {"json": {"connection_id": side.connection_id, "reason": "seat 12, checked"}}, 201, None, ()),
        "logs": ("GET", "/client-logs?size=500", {}, 200, side.log_text, ()),
        "log": ("GET", f"/client-logs/{side.event_id}", {}, 200, side.log_text, ()),
        "logs_csv": ("GET", "/client-logs/export.csv", {}, 200, side.log_text, ()),
        "delete_logs": ("DELETE", f"/client-logs?exam_id={exam}", {}, 200, None, ()),
    }


API_MONITORING_ACTIONS = frozenset({"connections", "participation", "participation_csv", "lane", "placements",
                                    "overrides", "quit", "lock", "quit_all", "cancel", "confirm", "allow", "logs",
                                    "log", "logs_csv", "delete_logs"})


def test_monitoring_matrix_agrees_with_the_privilege_table() -> None:
    for staff, actions in MONITORING_MATRIX.items():
        for action, expected in actions.items():
            for scope, outcome in zip(SCOPES, expected, strict=True):
                assert outcome == by_table(staff, action, scope), (staff, action, scope, outcome)


@pytest.mark.parametrize(("staff", "action", "scope", "expected"), cases(API_MONITORING_ACTIONS))
async def test_monitoring_privileges(api_world: World, staff: Staff, action: str, scope: str, expected: Any) -> None:
    await api_world.user(api_world.a, Staff.BYSTANDER.value, Staff.BYSTANDER.role)
    live = await monitoring_world(api_world.factory, api_world.a, api_world.b, api_world.users[Staff.ES.value].id)
    side = live.side(scope)
    method, path, arguments, success, wanted, texts = _monitoring_requests(side)[action]
    response = await api_world.api(staff.value).request(method, path, **arguments)
    shown = expected in (OK, LISTED)
    if expected in (OK, LISTED, HIDDEN):
        assert response.status_code == success, (staff, action, scope, response.text)
    else:
        error_of(response, expected)
    assert_body(response.text, staff, action, scope, live, shown=shown, wanted=wanted, texts=texts)
    assert await effect(api_world.factory.services, side, action) == (shown and action in WRITES), (staff, action)
    if action == "delete_logs" and response.status_code == 200:
        assert response.json() == {"deleted": 1 if shown else 0}
