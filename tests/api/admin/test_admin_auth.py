"""Bearer authentication and the API's error format for requests that reach no handler."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sebframe.core.accounts.roles import Role
from tests.api.admin.helpers import BASE, Api, World, error_of
from tests.conftest import PASSWORD

pytestmark = pytest.mark.anyio

PROTECTED = [("GET", "/institutions"), ("GET", "/users"), ("GET", "/users/1"), ("GET", "/activity-log"),
             ("GET", "/plugins"), ("POST", "/institutions"), ("PATCH", "/users/1"), ("DELETE", "/users/1")]


async def test_no_token_is_401(api_world: World) -> None:
    for method, path in PROTECTED:
        body = error_of(await api_world.api(None).request(method, path), 401)
        assert body["error"] == "unauthorized" and "Bearer" in body["message"], (method, path)


BOGUS = ["Bearer", "Bearer ", "Basic cm9vdDpwdw==", "Bearer sbf_bogus", "Bearer not-even-a-token", "Token sbf_x",
         "Bearer " + "sbf_" + "x" * 500]


async def test_bogus_authorization_is_401(api_world: World) -> None:
    for header in BOGUS:
        response = await api_world.client.get(BASE + "/users", headers={"Authorization": header})
        assert response.status_code == 401, header
        error_of(response, 401)


async def test_expired_token_is_401(api_world: World, services) -> None:
    expired, _ = await services.auth.create_token("root", name="old", expires_in=timedelta(seconds=-1))
    error_of(await Api(api_world.client, expired).get("/me"), 401)
    assert (await api_world.api("root").get("/me")).status_code == 200


async def test_own_password_change_revokes_tokens(api_world: World) -> None:
    api = api_world.api("a-supporter")
    me = await api.ok("GET", "/me")
    new = {"current_password": PASSWORD, "password": "another-horse-43", "confirm_password": "another-horse-43"}
    changed = await api.ok("PUT", f"/users/{me['id']}/password", json=new)
    assert changed["username"] == "a-supporter"
    body = error_of(await api.get("/me"), 401)
    assert "revoked" in body["message"]


async def test_password_change_by_admin_revokes_the_users_tokens(api_world: World) -> None:
    target = api_world.users["a-examadmin"]
    new = {"current_password": PASSWORD, "password": "another-horse-43", "confirm_password": "another-horse-43"}
    await api_world.api("a-admin").ok("PUT", f"/users/{target.id}/password", json=new)
    error_of(await api_world.api("a-examadmin").get("/me"), 401)
    assert (await api_world.api("a-admin").get("/me")).status_code == 200


async def test_deactivation_revokes_tokens(api_world: World) -> None:
    target = api_world.users["a-examadmin"]
    await api_world.api("a-admin").ok("POST", f"/users/{target.id}/deactivate")
    error_of(await api_world.api("a-examadmin").get("/users"), 401)
    # Reactivating does not bring the old token back.
    await api_world.api("a-admin").ok("POST", f"/users/{target.id}/activate")
    error_of(await api_world.api("a-examadmin").get("/users"), 401)


async def test_institution_deactivation_revokes_non_admin_tokens(api_world: World) -> None:
    await api_world.api("root").ok("POST", f"/institutions/{api_world.a.id}/deactivate")
    error_of(await api_world.api("a-supporter").get("/me"), 401)
    error_of(await api_world.api("a-examadmin").get("/me"), 401)
    assert (await api_world.api("a-admin").get("/me")).status_code == 200  # administrators keep access
    assert (await api_world.api("root").get("/me")).status_code == 200


async def test_tokens_of_deleted_users_stop_working(api_world: World) -> None:
    extra = await api_world.user(api_world.a, "a-temp", Role.EXAM_SUPPORTER)
    await api_world.api("a-admin").ok("DELETE", f"/users/{extra.id}")
    error_of(await api_world.api("a-temp").get("/me"), 401)


NO_SUCH_PATHS = ["/nothing", "/users/abc", "/users/1.5", "/users/-1", "/institutions/1e3", "/institutions/%20",
                 "/users/99999999999999999999999", "/users/2147483648", "/institutions/4294967297/logo",
                 "/institutions/%0A/logo", "/no%0Athing"]  # a newline in the path is the API's too


async def test_unknown_paths_and_non_integer_ids_are_json_404(api_world: World) -> None:
    for path in NO_SUCH_PATHS:
        response = await api_world.api("root").get(path)
        assert response.status_code == 404, path
        assert error_of(response, 404)["error"] == "not_found"
    for method in ("PATCH", "DELETE", "POST"):
        error_of(await api_world.api("root").request(method, "/users/abc", json={"surname": "x"}), 404)


async def test_wrong_method_is_json_405(api_world: World) -> None:
    response = await api_world.api("root").request("PATCH", "/institutions")
    assert error_of(response, 405)["error"] == "method_not_allowed"
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    error_of(await api_world.api("root").request("DELETE", f"/institutions/{api_world.a.id}"), 405)


async def test_unauthenticated_requests_learn_nothing_about_ids(api_world: World) -> None:
    existing = error_of(await api_world.api(None).get(f"/users/{api_world.users['root'].id}"), 401)
    missing = error_of(await api_world.api(None).get("/users/999999"), 401)
    out_of_range = error_of(await api_world.api(None).get("/users/99999999999"), 401)
    assert existing == missing == out_of_range


async def test_a_bug_is_a_json_500_without_details(api_world: World, services, monkeypatch) -> None:
    def broken() -> list:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services.plugins, "installed", broken)
    body = error_of(await api_world.api("root").get("/plugins"), 500)
    assert body["error"] == "internal_error" and "secret" not in body["message"]


async def test_token_request_is_validated_strictly(api_world: World) -> None:
    api = api_world.api("root")
    for body, field in [({"expires_in_days": 10**9}, "expires_in_days"), ({"expires_in_days": 0}, "expires_in_days"),
                        ({"expires_in_days": "7"}, "expires_in_days"), ({"name": ""}, "name"),
                        ({"name": "ci", "scope": "all"}, "scope")]:
        error = error_of(await api.post("/tokens", json=body), 422)
        assert field in error["field_errors"], (body, error)
    created = await api.ok("POST", "/tokens", 201, json={"name": " ci ", "expires_in_days": 30})
    assert created["name"] == "ci" and created["expires_at"].endswith("Z")
    assert (await Api(api_world.client, created["token"]).ok("GET", "/me"))["username"] == "root"
