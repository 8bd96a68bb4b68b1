"""Institutions through the admin API: CRUD, listing, logo, activation and refusals that change nothing."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from sebframe.core.accounts.roles import Role
from tests.api.admin.helpers import JPEG, PNG, World, error_of

pytestmark = pytest.mark.anyio


async def test_create_read_update(api_world: World) -> None:
    api = api_world.api("root")
    created = await api.ok("POST", "/institutions", 201, json={"name": " EPFL ", "url_suffix": "epfl"})
    assert created["name"] == "EPFL" and created["url_suffix"] == "epfl"
    assert created["active"] is False and created["logo_mime_type"] is None
    assert datetime.fromisoformat(created["created_at"]).utcoffset().total_seconds() == 0
    assert created["created_at"].endswith("Z") or created["created_at"].endswith("+00:00")
    assert await api.ok("GET", f"/institutions/{created['id']}") == created

    updated = await api.ok("PUT", f"/institutions/{created['id']}", json={"name": "EPF Lausanne"})
    assert updated["name"] == "EPF Lausanne" and updated["url_suffix"] is None  # PUT replaces
    assert (await api.ok("GET", f"/institutions/{created['id']}"))["name"] == "EPF Lausanne"

    active = await api.ok("POST", "/institutions", 201, json={"name": "USI", "active": True})
    assert active["active"] is True


async def test_create_and_activate_are_logged(api_world: World) -> None:
    api = api_world.api("root")
    created = await api.ok("POST", "/institutions", 201, json={"name": "USI", "active": True})
    log = await api.ok("GET", f"/activity-log?entity_type=INSTITUTION&institution_id={created['id']}&sort=activity")
    assert [entry["activity"] for entry in log["items"]] == ["ACTIVATE", "CREATE"]


async def test_list_filters_sorting_and_paging(api_world: World) -> None:
    api = api_world.api("root")
    for name in ("Alpha College", "Beta School", "Gamma University"):
        await api.ok("POST", "/institutions", 201, json={"name": name, "active": name != "Beta School"})
    page = await api.ok("GET", "/institutions?size=2&sort=-name")
    assert page["total"] == 5 and page["pages"] == 3 and page["page"] == 1 and page["size"] == 2
    assert [i["name"] for i in page["items"]] == ["University of Zurich", "Gamma University"]
    last = await api.ok("GET", "/institutions?size=2&page=3&sort=-name")
    assert [i["name"] for i in last["items"]] == ["Alpha College"]
    beyond = await api.ok("GET", "/institutions?size=2&page=9")
    assert beyond["items"] == [] and beyond["total"] == 5

    assert [i["name"] for i in (await api.ok("GET", "/institutions?name=zURi"))["items"]] == [
        "ETH Zurich", "University of Zurich"]
    assert [i["name"] for i in (await api.ok("GET", "/institutions?active=FALSE"))["items"]] == ["Beta School"]
    assert [i["name"] for i in (await api.ok("GET", "/institutions?url_suffix=uz"))["items"]] == [
        "University of Zurich"]
    assert (await api.ok("GET", "/institutions?name=%25"))["total"] == 0  # % is literal


BAD_QUERIES = ["page=0", "page=x", "size=0", "size=501", "size=-3", "sort=logo", "sort=--name", "active=yes",
               "nmae=ETH", "page=99999999999999999999", "name=%00"]


async def test_bad_list_queries_are_422(api_world: World) -> None:
    for query in BAD_QUERIES:
        response = await api_world.api("root").get(f"/institutions?{query}")
        assert response.status_code == 422, query
        assert error_of(response, 422)["field_errors"], query


async def test_institutional_admin_sees_and_edits_only_own_institution(api_world: World) -> None:
    api = api_world.api("a-admin")
    listed = await api.ok("GET", "/institutions")
    assert [i["id"] for i in listed["items"]] == [api_world.a.id]
    await api.ok("PUT", f"/institutions/{api_world.a.id}", json={"name": "ETH", "url_suffix": "eth"})
    for method, path, kwargs in [("GET", "", {}), ("PUT", "", {"json": {"name": "Taken over"}}),
                                 ("PUT", "/logo", {"content": PNG, "headers": {"Content-Type": "image/png"}}),
                                 ("GET", "/logo", {}), ("DELETE", "/logo", {}), ("POST", "/activate", {}),
                                 ("POST", "/deactivate", {}), ("GET", "/deactivation-report", {})]:
        body = error_of(await api.request(method, f"/institutions/{api_world.b.id}{path}", **kwargs), 404)
        assert "University of Zurich" not in body["message"]
    b = await api_world.api("root").ok("GET", f"/institutions/{api_world.b.id}")
    assert b["name"] == "University of Zurich" and b["active"] is True and b["logo_mime_type"] is None


async def test_logo_upload_read_and_remove(api_world: World) -> None:
    api = api_world.api("a-admin")
    path = f"/institutions/{api_world.a.id}/logo"
    error_of(await api.get(path), 404)
    updated = await api.ok("PUT", path, content=PNG, headers={"Content-Type": "image/png"})
    assert updated["logo_mime_type"] == "image/png"
    response = await api.get(path)
    assert response.status_code == 200 and response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"

    await api.ok("PUT", path, content=JPEG, headers={"Content-Type": "image/jpeg; charset=binary"})
    assert (await api.get(path)).content == JPEG
    assert (await api.ok("DELETE", path))["logo_mime_type"] is None
    error_of(await api.get(path), 404)
    assert (await api.ok("GET", f"/institutions/{api_world.a.id}"))["logo_mime_type"] is None


async def test_logo_of_inactive_institution_is_readable_by_its_admins(api_world: World) -> None:
    await api_world.api("root").ok("POST", f"/institutions/{api_world.b.id}/deactivate")
    api = api_world.api("b-admin")
    await api.ok("PUT", f"/institutions/{api_world.b.id}/logo", content=PNG, headers={"Content-Type": "image/png"})
    assert (await api.get(f"/institutions/{api_world.b.id}/logo")).content == PNG


@pytest.mark.parametrize(("content", "content_type", "status"), [
    pytest.param(PNG, None, 415, id="no-content-type"),
    pytest.param(PNG, "application/json", 415, id="json-content-type"),
    pytest.param(PNG, "image/gif", 415, id="gif-content-type"),
    pytest.param(b"GIF89a\x01\x00\x01\x00", "image/png", 422, id="gif-bytes"),
    pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png", 422, id="svg-bytes"),
    pytest.param(b"", "image/png", 422, id="empty"),
    pytest.param(PNG[:20], "image/png", 422, id="truncated-png"),
    pytest.param(JPEG[:-2], "image/jpeg", 422, id="truncated-jpeg"),
    pytest.param(PNG, "image/jpeg", 422, id="png-sent-as-jpeg"),  # declared type must match the bytes
    pytest.param(PNG + b"\x00" * (1024 * 1024), "image/png", 413, id="over-1-MiB"),
])
async def test_bad_logo_is_refused_and_changes_nothing(
    api_world: World, content: bytes, content_type: str | None, status: int
) -> None:
    api = api_world.api("a-admin")
    path = f"/institutions/{api_world.a.id}/logo"
    await api.ok("PUT", path, content=JPEG, headers={"Content-Type": "image/jpeg"})
    headers = {"Content-Type": content_type} if content_type else {}
    error_of(await api.put(path, content=content, headers=headers), status)
    assert (await api.get(path)).content == JPEG


async def test_oversized_logo_streamed_without_length_is_413(api_world: World) -> None:
    async def chunks():
        for _ in range(20):
            yield b"\x89PNG" + b"\x00" * 65536

    api = api_world.api("a-admin")
    response = await api.put(f"/institutions/{api_world.a.id}/logo", content=chunks(),
                             headers={"Content-Type": "image/png"})
    error_of(response, 413)
    assert (await api.ok("GET", f"/institutions/{api_world.a.id}"))["logo_mime_type"] is None


async def test_deactivation_report_deactivate_and_activate(api_world: World) -> None:
    api = api_world.api("root")
    await api_world.user(api_world.b, "b-supporter", Role.EXAM_SUPPORTER)
    await api_world.user(api_world.b, "b-examadmin", Role.EXAM_ADMIN, Role.EXAM_SUPPORTER)
    await api_world.user(api_world.b, "b-inactive", Role.EXAM_SUPPORTER, active=False)
    report = await api.ok("GET", f"/institutions/{api_world.b.id}/deactivation-report")
    assert report == {"institution_id": api_world.b.id, "institution_name": "University of Zurich",
                      "user_accounts": 2, "total": 2}
    assert (await api.ok("GET", f"/institutions/{api_world.b.id}"))["active"] is True  # report changes nothing

    done = await api.ok("POST", f"/institutions/{api_world.b.id}/deactivate")
    assert done["institution"]["active"] is False and done["deactivated"]["user_accounts"] == 2
    users = await api.ok("GET", f"/users?institution_id={api_world.b.id}&sort=username")
    assert {u["username"]: u["active"] for u in users["items"]} == {
        "b-admin": True, "b-examadmin": False, "b-inactive": False, "b-supporter": False}

    again = await api.ok("POST", f"/institutions/{api_world.b.id}/deactivate")
    assert again["deactivated"]["user_accounts"] == 0 and again["institution"]["active"] is False

    activated = await api.ok("POST", f"/institutions/{api_world.b.id}/activate")
    assert activated["active"] is True
    assert (await api.ok("GET", f"/institutions/{api_world.b.id}"))["active"] is True


async def test_institutional_admin_may_not_activate_or_deactivate_own(api_world: World) -> None:
    api = api_world.api("a-admin")
    for path in ("/activate", "/deactivate", "/deactivation-report"):
        body = error_of(await api.request("GET" if "report" in path else "POST",
                                          f"/institutions/{api_world.a.id}{path}"), 403)
        assert body["error"] == "forbidden"
    assert (await api.ok("GET", f"/institutions/{api_world.a.id}"))["active"] is True


async def test_inactive_institution_is_hidden_from_its_exam_staff(api_world: World) -> None:
    await api_world.api("root").ok("POST", f"/institutions/{api_world.b.id}/deactivate")
    await api_world.user(api_world.b, "b-keeper", Role.INSTITUTIONAL_ADMIN, Role.EXAM_ADMIN)
    assert (await api_world.api("b-keeper").ok("GET", f"/institutions/{api_world.b.id}"))["active"] is False


@pytest.mark.parametrize(("body", "field"), [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "ab"}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"name": 12345}, "name"),
    ({"name": None}, "name"),
    ({"name": ["ETH"]}, "name"),
    ({}, "name"),
    ({"name": "Valid Name", "url_suffix": "Not Valid!"}, "url_suffix"),
    ({"name": "Valid Name", "url_suffix": 7}, "url_suffix"),
    ({"name": "Valid Name", "active": "yes"}, "active"),
    ({"name": "Valid Name", "active": 1}, "active"),
    ({"name": "Valid Name", "logo": "x"}, "logo"),
    ({"name": "Valid Name", "id": 5}, "id"),
    ({"name": "eth zurich"}, "name"),  # duplicate, case-insensitive
    ({"name": "Valid Name", "url_suffix": "uzh"}, "url_suffix"),  # duplicate suffix
    ({"name": "Bad\u0000Name"}, "name"),
    ({"name": "Bad \ud800 Name"}, "name"),
])
async def test_bad_create_input_is_422_and_creates_nothing(api_world: World, body: dict, field: str) -> None:
    api = api_world.api("root")
    before = await api.ok("GET", "/institutions")
    # json.dumps escapes non-ASCII, so even a lone surrogate travels as the JSON text a client would send.
    response = await api.post("/institutions", content=json.dumps(body), headers={"Content-Type": "application/json"})
    error = error_of(response, 422)
    assert field in error["field_errors"], error
    assert await api.ok("GET", "/institutions") == before


@pytest.mark.parametrize(("content", "headers", "status"), [
    (b"{not json", {"Content-Type": "application/json"}, 400),
    (b"", {"Content-Type": "application/json"}, 400),
    (b"\xff\xfe{}", {"Content-Type": "application/json"}, 400),
    (b'["ETH"]', {"Content-Type": "application/json"}, 422),
    (b'"ETH"', {"Content-Type": "application/json"}, 422),
    (b"null", {"Content-Type": "application/json"}, 422),
    (b"42", {"Content-Type": "application/json"}, 422),
    (b'{"name": "Form"}', {"Content-Type": "application/x-www-form-urlencoded"}, 415),
    (b'{"name": "' + b"x" * (1024 * 1024) + b'"}', {"Content-Type": "application/json"}, 413),
])
async def test_malformed_bodies_change_nothing(api_world: World, content: bytes, headers: dict, status: int) -> None:
    api = api_world.api("root")
    before = await api.ok("GET", f"/institutions/{api_world.a.id}")
    error_of(await api.post("/institutions", content=content, headers=headers), status)
    error_of(await api.put(f"/institutions/{api_world.a.id}", content=content, headers=headers), status)
    assert await api.ok("GET", f"/institutions/{api_world.a.id}") == before
    assert (await api.ok("GET", "/institutions"))["total"] == 2


async def test_bad_update_input_changes_nothing(api_world: World) -> None:
    api = api_world.api("root")
    path = f"/institutions/{api_world.a.id}"
    before = await api.ok("GET", path)
    for body in ({"name": "University of Zurich"}, {"name": "ETH", "url_suffix": "uzh"}, {"name": ""},
                 {"name": "ETH", "active": False}, {"url_suffix": "eth"}):
        error_of(await api.put(path, json=body), 422)
    assert await api.ok("GET", path) == before


async def test_unknown_institution_ids_are_404(api_world: World) -> None:
    api = api_world.api("root")
    for method, suffix in [("GET", ""), ("PUT", ""), ("GET", "/logo"), ("DELETE", "/logo"),
                           ("GET", "/deactivation-report"), ("POST", "/activate"), ("POST", "/deactivate")]:
        kwargs = {"json": {"name": "Nowhere"}} if method == "PUT" else {}
        error_of(await api.request(method, f"/institutions/987654{suffix}", **kwargs), 404)
    error_of(await api.put("/institutions/987654/logo", content=PNG, headers={"Content-Type": "image/png"}), 404)
