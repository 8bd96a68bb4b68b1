"""User accounts through the admin API: CRUD, passwords, deletion, tenant isolation, refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sebframe.core.accounts.roles import Role
from tests.api.admin.helpers import World, error_of
from tests.conftest import PASSWORD

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "staple-battery-77"


def new_user(**fields: Any) -> dict[str, Any]:
    return {"name": "Dana", "surname": "Scully", "username": "dana", "email": "dana@example.org",
            "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD, **fields}


def assert_no_secrets(data: Any) -> None:
    text = json.dumps(data)
    for secret in ("password", "hash", "argon2", "security_stamp", NEW_PASSWORD, PASSWORD):
        assert secret not in text, (secret, text)


async def test_create_read_update(api_world: World) -> None:
    api = api_world.api("a-admin")
    created = await api.ok("POST", "/users", 201, json=new_user(roles=["EXAM_ADMIN", "EXAM_SUPPORTER"],
                                                                timezone="Europe/Zurich"))
    assert_no_secrets(created)
    assert created["institution_id"] == api_world.a.id  # defaults to the caller's institution
    assert created["roles"] == ["EXAM_ADMIN", "EXAM_SUPPORTER"] and created["active"] is True
    assert created["timezone"] == "Europe/Zurich" and created["created_at"].endswith("Z")
    assert await api.ok("GET", f"/users/{created['id']}") == created

    updated = await api.ok("PATCH", f"/users/{created['id']}", json={"surname": "Mulder", "email": None})
    assert updated["surname"] == "Mulder" and updated["email"] is None and updated["name"] == "Dana"
    assert_no_secrets(updated)
    again = await api.ok("PATCH", f"/users/{created['id']}", json={"roles": ["EXAM_SUPPORTER"],
                                                                   "username": "dana.s"})
    assert again["roles"] == ["EXAM_SUPPORTER"] and again["username"] == "dana.s"
    assert await api.ok("GET", f"/users/{created['id']}") == again

    # The new account can use the API once it has a token.
    token = await api_world.factory.token("dana.s")
    api_world.tokens["dana.s"] = token
    assert (await api_world.api("dana.s").ok("GET", "/me"))["username"] == "dana.s"


async def test_server_admin_creates_users_in_any_institution(api_world: World) -> None:
    api = api_world.api("root")
    created = await api.ok("POST", "/users", 201, json=new_user(institution_id=api_world.b.id,
                                                                roles=["INSTITUTIONAL_ADMIN"], active=False))
    assert created["institution_id"] == api_world.b.id and created["active"] is False
    moved = await api.ok("PATCH", f"/users/{created['id']}", json={"institution_id": api_world.a.id})
    assert moved["institution_id"] == api_world.a.id


async def test_list_filters_sorting_and_paging(api_world: World) -> None:
    api = api_world.api("root")
    await api_world.user(api_world.b, "b-inactive", Role.EXAM_SUPPORTER, active=False)
    everyone = await api.ok("GET", "/users?size=500")
    assert everyone["total"] == 6
    assert_no_secrets(everyone)
    assert [u["username"] for u in everyone["items"]] == sorted(u["username"] for u in everyone["items"])

    async def usernames(query: str) -> list[str]:
        return [u["username"] for u in (await api.ok("GET", f"/users?{query}"))["items"]]

    assert await usernames(f"institution_id={api_world.b.id}") == ["b-admin", "b-inactive"]
    assert await usernames("role=INSTITUTIONAL_ADMIN") == ["a-admin", "b-admin"]
    assert await usernames("active=false") == ["b-inactive"]
    assert await usernames("username=ADMIN&sort=-username") == ["b-admin", "a-examadmin", "a-admin"]
    assert await usernames("name=a-sup") == ["a-supporter"]
    assert await usernames("email=root@") == ["root"]
    assert await usernames("surname=tester&size=2&page=3") == ["b-inactive", "root"]
    page = await api.ok("GET", "/users?size=4&page=2")
    assert page["total"] == 6 and page["pages"] == 2 and len(page["items"]) == 2


BAD_QUERIES = ["institution_id=abc", "institution_id=-1", "institution_id=99999999999", "role=ADMIN", "active=1",
               "sort=password_hash", "sort=roles", "size=1000", "page=-1", "usrname=root", "email=%00"]


async def test_bad_list_queries_are_422(api_world: World) -> None:
    for query in BAD_QUERIES:
        response = await api_world.api("root").get(f"/users?{query}")
        assert response.status_code == 422, query
        assert error_of(response, 422)["field_errors"], query


async def test_activate_and_deactivate(api_world: World) -> None:
    api = api_world.api("a-admin")
    target = api_world.users["a-examadmin"]
    assert (await api.ok("POST", f"/users/{target.id}/deactivate"))["active"] is False
    assert (await api.ok("GET", f"/users/{target.id}"))["active"] is False
    assert (await api.ok("POST", f"/users/{target.id}/deactivate"))["active"] is False  # idempotent
    assert (await api.ok("POST", f"/users/{target.id}/activate"))["active"] is True
    me = api_world.users["a-admin"]
    for action in ("activate", "deactivate"):
        body = error_of(await api.post(f"/users/{me.id}/{action}"), 422)
        assert "own account" in body["message"]
    assert (await api.ok("GET", f"/users/{me.id}"))["active"] is True


async def test_user_of_inactive_institution_cannot_be_activated(api_world: World) -> None:
    await api_world.user(api_world.b, "b-supporter", Role.EXAM_SUPPORTER)
    root = api_world.api("root")
    await root.ok("POST", f"/institutions/{api_world.b.id}/deactivate")
    target = api_world.users["b-supporter"]
    body = error_of(await root.post(f"/users/{target.id}/activate"), 422)
    assert "inactive" in body["message"]
    assert (await root.ok("GET", f"/users/{target.id}"))["active"] is False


async def test_password_change_rules(api_world: World) -> None:
    target = api_world.users["a-supporter"]
    path = f"/users/{target.id}/password"
    admin = api_world.api("a-admin")
    for body, field in [
        ({"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm_password": "different-77"},
         "confirm_password"),
        ({"current_password": "wrong-password", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
         "current_password"),
        ({"current_password": PASSWORD, "password": "short", "confirm_password": "short"}, "password"),
        ({"current_password": PASSWORD, "password": NEW_PASSWORD}, "confirm_password"),
        ({"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
          "force": True}, "force"),
        ({"current_password": PASSWORD, "password": 12345678, "confirm_password": 12345678}, "password"),
    ]:
        error = error_of(await admin.put(path, json=body), 422)
        assert field in error["field_errors"], (body, error)
    # Nothing changed: the supporter's token still works and the old password still signs in.
    assert (await api_world.api("a-supporter").get("/me")).status_code == 200
    assert (await api_world.factory.services.auth.sign_in("a-supporter", PASSWORD, "127.0.0.1")).id == target.id

    # An exam administrator may read but not re-key a colleague; nobody outside sees the account.
    good = {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    error_of(await api_world.api("a-examadmin").put(path, json=good), 403)
    error_of(await api_world.api("b-admin").put(path, json=good), 404)
    assert (await api_world.api("a-supporter").get("/me")).status_code == 200

    assert_no_secrets(await admin.ok("PUT", path, json=good))
    await api_world.factory.services.auth.sign_in("a-supporter", NEW_PASSWORD, "127.0.0.1")


async def test_deletion_report_and_delete(api_world: World) -> None:
    api = api_world.api("a-admin")
    target = api_world.users["a-examadmin"]
    await api_world.factory.services.auth.create_token("a-examadmin", name="ci")
    for option in ("ACCOUNT_ONLY", "WITH_EXAMS", "WITH_ALL"):
        report = await api.ok("GET", f"/users/{target.id}/deletion-report?option={option}")
        assert report["option"] == option and report["user_id"] == target.id
        assert report["deleted"][0]["label"] == "API tokens" and report["deleted"][0]["count"] == 2
        assert {e["name"] for e in report["deleted"][0]["entities"]} == {"test", "ci"}
    assert (await api.ok("GET", f"/users/{target.id}/deletion-report"))["option"] == "ACCOUNT_ONLY"
    assert (await api.ok("GET", f"/users/{target.id}"))["username"] == "a-examadmin"  # report changes nothing

    error_of(await api.get(f"/users/{target.id}/deletion-report?option=EVERYTHING"), 422)
    error_of(await api.delete(f"/users/{target.id}?option=everything"), 422)
    error_of(await api.delete(f"/users/{target.id}?opiton=WITH_ALL"), 422)
    assert (await api.ok("GET", f"/users/{target.id}"))["username"] == "a-examadmin"

    deleted = await api.ok("DELETE", f"/users/{target.id}?option=WITH_ALL")
    assert deleted["username"] == "a-examadmin" and deleted["deleted"][0]["count"] == 2
    error_of(await api.get(f"/users/{target.id}"), 404)
    error_of(await api.delete(f"/users/{target.id}"), 404)
    log = await api.ok("GET", "/activity-log?activity=DELETE&entity_type=USER_ACCOUNT")
    assert log["items"][0]["entity_name"] == "a-examadmin" and "WITH_ALL" in log["items"][0]["message"]


async def test_nobody_deletes_their_own_account(api_world: World) -> None:
    me = api_world.users["root"]
    body = error_of(await api_world.api("root").delete(f"/users/{me.id}"), 422)
    assert "own account" in body["message"]
    error_of(await api_world.api("root").get(f"/users/{me.id}/deletion-report"), 422)
    assert (await api_world.api("root").ok("GET", f"/users/{me.id}"))["id"] == me.id


async def test_institutional_admin_cannot_manage_server_admins(api_world: World) -> None:
    api = api_world.api("a-admin")
    root = api_world.users["root"]
    assert (await api.ok("GET", f"/users/{root.id}"))["username"] == "root"  # same institution: visible
    for method, path, kwargs in [("PATCH", "", {"json": {"surname": "Hacked"}}), ("POST", "/deactivate", {}),
                                 ("DELETE", "", {}),
                                 ("PUT", "/password", {"json": {"current_password": PASSWORD,
                                                                "password": NEW_PASSWORD,
                                                                "confirm_password": NEW_PASSWORD}})]:
        error_of(await api.request(method, f"/users/{root.id}{path}", **kwargs), 403)
    error_of(await api.post("/users", json=new_user(roles=["SEB_SERVER_ADMIN"])), 422)
    me = api_world.users["a-admin"]
    error_of(await api.patch(f"/users/{me.id}", json={"roles": ["SEB_SERVER_ADMIN", "INSTITUTIONAL_ADMIN"]}), 422)
    after = await api_world.api("root").ok("GET", f"/users/{root.id}")
    assert after["surname"] == "Tester" and after["active"] is True
    assert (await api.ok("GET", f"/users/{me.id}"))["roles"] == ["INSTITUTIONAL_ADMIN"]


async def test_other_tenants_users_are_invisible(api_world: World) -> None:
    await api_world.user(api_world.b, "b-supporter", Role.EXAM_SUPPORTER)
    target = api_world.users["b-supporter"]
    api = api_world.api("a-admin")
    listed = await api.ok("GET", f"/users?institution_id={api_world.b.id}")
    assert listed == {"items": [], "total": 0, "page": 1, "size": 20, "pages": 1}
    assert "b-supporter" not in json.dumps(await api.ok("GET", "/users?size=500"))
    before = await api_world.api("root").ok("GET", f"/users/{target.id}")
    for method, path, kwargs in [
        ("GET", "", {}), ("PATCH", "", {"json": {"surname": "Moved"}}), ("POST", "/activate", {}),
        ("POST", "/deactivate", {}), ("GET", "/deletion-report", {}), ("DELETE", "", {}),
        ("PUT", "/password", {"json": {"current_password": PASSWORD, "password": NEW_PASSWORD,
                                       "confirm_password": NEW_PASSWORD}}),
    ]:
        body = error_of(await api.request(method, f"/users/{target.id}{path}", **kwargs), 404)
        assert "b-supporter" not in json.dumps(body)
    # Creating into B, or moving someone there, is refused too.
    error_of(await api.post("/users", json=new_user(institution_id=api_world.b.id)), 403)
    own = api_world.users["a-supporter"]
    error_of(await api.patch(f"/users/{own.id}", json={"institution_id": api_world.b.id}), 403)
    assert await api_world.api("root").ok("GET", f"/users/{target.id}") == before
    assert (await api_world.api("root").ok("GET", f"/users/{own.id}"))["institution_id"] == api_world.a.id
    assert (await api_world.api("root").ok("GET", f"/users?institution_id={api_world.b.id}"))["total"] == 2


@pytest.mark.parametrize(("fields", "field"), [
    ({"username": "ROOT"}, "username"),  # taken, case-insensitive
    ({"username": "a b"}, "username"),
    ({"username": "ab"}, "username"),
    ({"username": 42}, "username"),
    ({"name": ""}, "name"),
    ({"surname": None}, "surname"),
    ({"email": "not-an-address"}, "email"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"confirm_password": "something-else"}, "confirm_password"),
    ({"password": "short", "confirm_password": "short"}, "password"),
    ({"roles": []}, "roles"),
    ({"roles": ["KING"]}, "roles.0"),
    ({"roles": "EXAM_ADMIN"}, "roles"),
    ({"institution_id": "1"}, "institution_id"),
    ({"institution_id": 987654}, "institution_id"),
    ({"institution_id": 2**63}, "institution_id"),
    ({"active": "true"}, "active"),
    ({"is_admin": True}, "is_admin"),
    ({"password_hash": "$argon2id$..."}, "password_hash"),
    ({"name": "nul\u0000byte"}, "name"),
])
async def test_bad_create_input_is_422_and_creates_nothing(api_world: World, fields: dict, field: str) -> None:
    api = api_world.api("root")
    before = await api.ok("GET", "/users?size=500")
    error = error_of(await api.post("/users", json=new_user(**fields)), 422)
    assert field in error["field_errors"], error
    assert await api.ok("GET", "/users?size=500") == before


async def test_missing_fields_are_named(api_world: World) -> None:
    error = error_of(await api_world.api("root").post("/users", json={}), 422)
    assert {"name", "surname", "username", "password", "confirm_password"} <= set(error["field_errors"])


@pytest.mark.parametrize(("fields", "field"), [
    ({"username": "a-admin"}, "username"),
    ({"username": None}, "username"),
    ({"name": None}, "name"),
    ({"timezone": None}, "timezone"),
    ({"institution_id": None}, "institution_id"),
    ({"roles": None}, "roles"),
    ({"roles": []}, "roles"),
    ({"surname": ""}, "surname"),
    ({"email": "@"}, "email"),
    ({"active": False}, "active"),
    ({"password": NEW_PASSWORD}, "password"),
    ({"name": ["Dana"]}, "name"),
])
async def test_bad_update_input_is_422_and_changes_nothing(api_world: World, fields: dict, field: str) -> None:
    api = api_world.api("root")
    target = api_world.users["a-examadmin"]
    before = await api.ok("GET", f"/users/{target.id}")
    error = error_of(await api.patch(f"/users/{target.id}", json=fields), 422)
    assert field in error["field_errors"], error
    assert await api.ok("GET", f"/users/{target.id}") == before


@pytest.mark.parametrize(("content", "status"), [
    (b"{", 400), (b"", 400), (b"[]", 422), (b'"x"', 422), (b"true", 422),
    (b'{"surname": "' + b"x" * (1024 * 1024 + 10) + b'"}', 413),
])
async def test_malformed_bodies_change_nothing(api_world: World, content: bytes, status: int) -> None:
    api = api_world.api("root")
    target = api_world.users["a-examadmin"]
    before = await api.ok("GET", "/users?size=500")
    headers = {"Content-Type": "application/json"}
    error_of(await api.post("/users", content=content, headers=headers), status)
    error_of(await api.patch(f"/users/{target.id}", content=content, headers=headers), status)
    error_of(await api.put(f"/users/{target.id}/password", content=content, headers=headers), status)
    assert await api.ok("GET", "/users?size=500") == before


async def test_huge_body_streamed_without_length_is_413(api_world: World) -> None:
    async def chunks():
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    api = api_world.api("root")
    response = await api.post("/users", content=chunks(), headers={"Content-Type": "application/json"})
    error_of(response, 413)
    assert (await api.ok("GET", "/users"))["total"] == 5


async def test_unknown_user_ids_are_404(api_world: World) -> None:
    api = api_world.api("root")
    good_password = {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    for method, path, kwargs in [("GET", "", {}), ("PATCH", "", {"json": {"surname": "X"}}), ("DELETE", "", {}),
                                 ("POST", "/activate", {}), ("POST", "/deactivate", {}),
                                 ("GET", "/deletion-report", {}), ("PUT", "/password", {"json": good_password})]:
        error_of(await api.request(method, f"/users/987654{path}", **kwargs), 404)
