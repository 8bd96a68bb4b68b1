"""Connection configurations through the admin API: CRUD, activation, credentials, export, privileges."""

from __future__ import annotations

import pytest

from sebframe.core.sebconfig import decode_seb, hash_password
from tests.api.admin.helpers import World, error_of

pytestmark = pytest.mark.anyio

BASE = "/connection-configurations"
SECRET_WORDS = ("password", "secret")


def _no_secrets(body: dict) -> None:  # type: ignore[type-arg]
    for key, value in body.items():
        if any(word in key for word in SECRET_WORDS):
            assert isinstance(value, bool), key


async def test_create_get_update_and_export(api_world: World) -> None:
    api = api_world.api("a-admin")
    created = await api.ok("POST", BASE, 201, json={
        "name": "Spring 2026", "purpose": "CONFIGURE_CLIENT", "encryption_password": "pw",
        "confirm_encryption_password": "pw", "fallback": True, "fallback_start_url": "https://lms.example.org",
        "fallback_password": "fb", "confirm_fallback_password": "fb", "ping_interval_ms": 1500})
    _no_secrets(created)
    assert created["active"] is False and created["institution_id"] == api_world.a.id
    assert created["has_encryption_password"] and created["has_fallback_password"]
    assert not created["has_quit_password"] and created["fallback_attempts"] == 5
    assert await api.ok("GET", f"{BASE}/{created['id']}") == created
    refused = error_of(await api.get(f"{BASE}/{created['id']}/export"), 409)
    assert "activate it before exporting" in refused["message"]
    active = await api.ok("POST", f"{BASE}/{created['id']}/activate")
    assert active["active"] is True
    export = await api.get(f"{BASE}/{created['id']}/export")
    assert export.status_code == 200 and export.headers["content-type"] == "application/seb"
    assert 'filename="SEBServerSettings.seb"' in export.headers["content-disposition"]
    seb = decode_seb(export.content, password="pw")
    assert seb.layers[:2] == ("gzip", "pwcc")
    assert seb.settings["sebConfigPurpose"] == 1 and seb.settings["sebServerURL"] == "http://testserver"
    assert seb.settings["sebServerFallbackPasswordHash"] == hash_password("fb")
    assert seb.settings["sebServerConfiguration"]["clientName"] == created["client_id"]
    assert seb.settings["sebServerConfiguration"]["pingInterval"] == 1500

    updated = await api.ok("PATCH", f"{BASE}/{created['id']}", json={
        "name": "Spring", "encryption_password": None, "fallback": False})
    assert updated["name"] == "Spring" and updated["has_encryption_password"] is False
    assert updated["fallback_start_url"] == "https://lms.example.org"  # kept, not exported without fallback
    plain = decode_seb((await api.get(f"{BASE}/{created['id']}/export")).content)
    assert plain.layers[:2] == ("gzip", "plnd") and "startURL" not in plain.settings
    log = await api.ok("GET", "/activity-log?entity_type=CONNECTION_CONFIGURATION&sort=at")
    assert [entry["activity"] for entry in log["items"]] == ["CREATE", "ACTIVATE", "EXPORT", "MODIFY", "EXPORT"]


async def test_create_active_credentials_and_delete(api_world: World) -> None:
    api = api_world.api("a-examadmin")
    created = await api.ok("POST", BASE, 201, json={"name": "Active", "active": True})
    assert created["active"] is True
    renewed = await api.ok("POST", f"{BASE}/{created['id']}/credentials")
    assert renewed["client_id"] != created["client_id"]
    deactivated = await api.ok("POST", f"{BASE}/{created['id']}/deactivate")
    assert deactivated["active"] is False
    deleted = await api.delete(f"{BASE}/{created['id']}")
    assert deleted.status_code == 204
    error_of(await api.get(f"{BASE}/{created['id']}"), 404)


async def test_validation_errors(api_world: World) -> None:
    api = api_world.api("a-admin")
    body = error_of(await api.post(BASE, json={"name": "ab", "fallback_attempts": 0, "ping_interval_ms": "1000",
                                               "purpose": "EXAM", "client_secret": "mine"}), 422)
    assert set(body["field_errors"]) == {"client_secret"}  # unknown fields are refused first
    body = error_of(await api.post(BASE, json={"name": "ab", "fallback_attempts": 0, "ping_interval_ms": "1000",
                                               "purpose": "EXAM"}), 422)
    assert set(body["field_errors"]) == {"name", "fallback_attempts", "ping_interval_ms", "purpose"}
    body = error_of(await api.post(BASE, json={"name": "Fallback", "fallback": True, "quit_password": "q",
                                               "confirm_quit_password": "x"}), 422)
    assert body["field_errors"] == {
        "fallback_start_url": "a fallback URL is required when the fallback is on",
        "confirm_quit_password": "the quit password and its confirmation differ"}
    await api.ok("POST", BASE, 201, json={"name": "Taken"})
    body = error_of(await api.post(BASE, json={"name": "taken"}), 422)
    assert "exists already" in body["field_errors"]["name"]
    created = await api.ok("POST", BASE, 201, json={"name": "Other"})
    body = error_of(await api.patch(f"{BASE}/{created['id']}", json={"name": None}), 422)
    assert body["field_errors"] == {"name": "may not be null"}
    assert (await api.ok("GET", BASE))["total"] == 2


async def test_list_filters_and_bad_queries(api_world: World) -> None:
    api = api_world.api("a-admin")
    for name, purpose in (("Alpha", "START_EXAM"), ("Beta", "CONFIGURE_CLIENT"), ("Gamma", "START_EXAM")):
        await api.ok("POST", BASE, 201, json={"name": name, "purpose": purpose, "active": name != "Gamma"})
    page = await api.ok("GET", f"{BASE}?sort=-name&size=2")
    assert [c["name"] for c in page["items"]] == ["Gamma", "Beta"] and page["total"] == 3
    assert [c["name"] for c in (await api.ok("GET", f"{BASE}?purpose=CONFIGURE_CLIENT"))["items"]] == ["Beta"]
    assert [c["name"] for c in (await api.ok("GET", f"{BASE}?active=false"))["items"]] == ["Gamma"]
    for query in ("purpose=X", "sort=client_secret", "active=yes", "secret=1"):
        error_of(await api.get(f"{BASE}?{query}"), 422)


async def test_roles_and_tenant_isolation(api_world: World) -> None:
    foreign = await api_world.api("b-admin").ok("POST", BASE, 201, json={"name": "UZH", "active": True})
    api = api_world.api("a-admin")
    for method, path, kwargs in [("GET", "", {}), ("PATCH", "", {"json": {"name": "Mine"}}), ("DELETE", "", {}),
                                 ("POST", "/activate", {}), ("POST", "/deactivate", {}),
                                 ("POST", "/credentials", {}), ("GET", "/export", {})]:
        error_of(await api.request(method, f"{BASE}/{foreign['id']}{path}", **kwargs), 404)
    root = api_world.api("root")
    assert (await root.ok("GET", BASE))["total"] == 1
    assert (await root.ok("GET", f"{BASE}/{foreign['id']}"))["name"] == "UZH"
    for method, path in [("POST", "/deactivate"), ("GET", "/export"), ("DELETE", "")]:
        error_of(await root.request(method, f"{BASE}/{foreign['id']}{path}"), 403)
    error_of(await root.post(BASE, json={"name": "Root"}), 403)
    supporter = api_world.api("a-supporter")
    error_of(await supporter.get(BASE), 403)
    error_of(await supporter.post(BASE, json={"name": "Supporter"}), 403)
    assert (await api_world.api("b-admin").ok("GET", f"{BASE}/{foreign['id']}"))["active"] is True
