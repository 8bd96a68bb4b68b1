"""Exam configurations and configuration templates through the admin API."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sebframe.api.admin.endpoints.exam_configs import CONFIG_QUERY
from sebframe.core.db.models import ExamConfiguration
from sebframe.core.sebconfig import config_key, decode_seb
from sebframe.core.sebconfig.exam_configs import EXAM_CONFIG_FILTERS
from tests.api.admin.helpers import World, error_of

pytestmark = pytest.mark.anyio


async def _count(api_world: World) -> int:
    async with api_world.factory.services.db.read() as session:
        return (await session.execute(select(func.count()).select_from(ExamConfiguration))).scalar_one()


def test_list_query_covers_the_service_filters() -> None:
    assert {f.name for f in CONFIG_QUERY.filters} == set(EXAM_CONFIG_FILTERS)


async def test_crud_settings_publish_export_and_config_key(api_world: World) -> None:
    api = api_world.api("a-examadmin")
    created = await api.ok("POST", "/exam-configurations", 201, json={"name": "Final", "description": "June"})
    assert created["status"] == "CONSTRUCTION" and created["kind"] == "EXAM_CONFIG"
    assert created["owner_id"] == api_world.users["a-examadmin"].id and created["hidden_attributes"] == []
    config_id = created["id"]
    assert await api.ok("GET", f"/exam-configurations/{config_id}") == created
    listed = await api.ok("GET", "/exam-configurations?name=fin&sort=-name")
    assert [c["name"] for c in listed["items"]] == ["Final"]
    updated = await api.ok("PATCH", f"/exam-configurations/{config_id}", json={"status": "READY_TO_USE"})
    assert updated["status"] == "READY_TO_USE" and updated["name"] == "Final"
    error_of(await api.patch(f"/exam-configurations/{config_id}", json={"status": "IN_USE"}), 422)

    settings = await api.ok("GET", f"/exam-configurations/{config_id}/settings")
    assert settings["values"]["allowQuit"] == "true" and settings["published_version"] == 0
    assert settings["unpublished_changes"] is False and settings["secrets_set"] == []
    initial_key = (await api.ok("GET", f"/exam-configurations/{config_id}/config-key"))["config_key"]

    patched = await api.ok("PATCH", f"/exam-configurations/{config_id}/settings", json={"values": {
        "allowQuit": False, "audioVolumeLevel": 40, "hashedQuitPassword": "quit-pw",
        "URLFilterRules": [{"expression": "example.org", "action": "1"}]}})
    assert patched["values"]["allowQuit"] == "false" and patched["values"]["audioVolumeLevel"] == "40"
    assert patched["values"]["hashedQuitPassword"] is None and patched["secrets_set"] == ["hashedQuitPassword"]
    assert patched["values"]["URLFilterRules"] == [
        {"action": "1", "active": "true", "expression": "example.org", "regex": "false"}]
    assert patched["unpublished_changes"] is True
    refused = error_of(await api.patch(f"/exam-configurations/{config_id}/settings", json={"values": {
        "allowQuit": "true", "audioVolumeLevel": "loud", "nope": "1"}}), 422)
    assert set(refused["field_errors"]) == {"audioVolumeLevel", "nope"}
    assert "expected a whole number" in refused["field_errors"]["audioVolumeLevel"]
    assert (await api.ok("GET", f"/exam-configurations/{config_id}/settings"))["values"]["allowQuit"] == "false"
    # Not published yet: export and Config Key still show version 0.
    assert (await api.ok("GET", f"/exam-configurations/{config_id}/config-key"))["config_key"] == initial_key

    revision = await api.ok("POST", f"/exam-configurations/{config_id}/publish", 201, json={"summary": "strict"})
    assert revision["version"] == 1 and revision["summary"] == "strict" and revision["current"] is True
    assert {c["setting"] for c in revision["changes"]} == {"allowQuit", "audioVolumeLevel", "hashedQuitPassword",
                                                           "URLFilterRules"}
    assert all(c["new"] in (None, "(hidden)") for c in revision["changes"] if c["setting"] == "hashedQuitPassword")
    error_of(await api.post(f"/exam-configurations/{config_id}/publish", json={}), 409)

    exported = await api.get(f"/exam-configurations/{config_id}/export")
    assert exported.status_code == 200
    assert exported.headers["content-disposition"] == 'attachment; filename="SEBExamSettings.seb"'
    settings_file = decode_seb(exported.content).settings
    assert settings_file["allowQuit"] is False
    assert settings_file["hashedQuitPassword"] == hashlib.sha256(b"quit-pw").hexdigest()
    key = await api.ok("GET", f"/exam-configurations/{config_id}/config-key")
    assert key == {"config_key": config_key(settings_file), "published_version": 1}
    protected = await api.get(f"/exam-configurations/{config_id}/export", headers={"X-SEB-Password": "pw"})
    assert config_key(decode_seb(protected.content, password="pw").settings) == key["config_key"]
    error_of(await api.get(f"/exam-configurations/{config_id}/export?bogus=1"), 422)


async def test_undo_history_restore_and_copy(api_world: World) -> None:
    api = api_world.api("a-examadmin")
    config_id = (await api.ok("POST", "/exam-configurations", 201, json={"name": "Final"}))["id"]
    base = f"/exam-configurations/{config_id}"
    await api.ok("PATCH", f"{base}/settings", json={"values": {"allowQuit": "false"}})
    await api.ok("POST", f"{base}/publish", 201)  # no body: no summary
    await api.ok("PATCH", f"{base}/settings", json={"values": {"enableF5": True}})
    assert await api.ok("POST", f"{base}/undo") == {"changes": 1}
    assert await api.ok("POST", f"{base}/undo") == {"changes": 0}
    history = await api.ok("GET", f"{base}/history")
    assert [r["version"] for r in history["revisions"]] == [1, 0] and history["pending"] == []
    assert history["revisions"][0]["changes"] == [
        {"setting": "allowQuit", "path": "allowQuit", "old": "true", "new": "false"}]
    initial_id = history["revisions"][1]["id"]
    assert await api.ok("POST", f"{base}/restore", json={"revision_id": initial_id}) == {"changes": 1}
    assert (await api.ok("GET", f"{base}/history"))["pending"][0]["setting"] == "allowQuit"
    error_of(await api.post(f"{base}/restore", json={"revision_id": 999999}), 404)

    copy = await api.ok("POST", f"{base}/copy", 201, json={"name": "Retake", "with_history": True})
    assert copy["status"] == "CONSTRUCTION"
    copied_history = await api.ok("GET", f"/exam-configurations/{copy['id']}/history")
    assert [r["version"] for r in copied_history["revisions"]] == [1, 0] and copied_history["pending"] == []
    assert (await api.ok("GET", f"/exam-configurations/{copy['id']}/settings"))["values"]["allowQuit"] == "false"
    error_of(await api.post(f"{base}/copy", json={"name": "retake"}), 422)
    deleted = await api.delete(f"/exam-configurations/{copy['id']}")
    assert deleted.status_code == 204
    error_of(await api.get(f"/exam-configurations/{copy['id']}"), 404)


async def test_import_raw_seb_body(api_world: World, test_data: Path) -> None:
    api = api_world.api("a-examadmin")
    data = (test_data / "seb-server" / "importTest_123.seb").read_bytes()
    headers = {"Content-Type": "application/octet-stream"}
    imported = await api.ok("POST", "/exam-configurations/import?name=Imported&status=READY_TO_USE", 201,
                            content=data, headers={**headers, "X-SEB-Password": "123"})
    assert imported["configuration"]["name"] == "Imported" and imported["configuration"]["status"] == "READY_TO_USE"
    assert imported["warnings"] and all(isinstance(w, str) for w in imported["warnings"])
    by_query = await api.ok("POST", "/exam-configurations/import?name=Again&password=123", 201, content=data,
                            headers=headers)
    assert by_query["configuration"]["name"] == "Again"
    before = await _count(api_world)
    wrong = error_of(await api.post("/exam-configurations/import?name=Wrong", content=data,
                                    headers={**headers, "X-SEB-Password": "nope"}), 422)
    assert "password" in wrong["field_errors"]
    for body in (data[:100], b"", b"<?xml version='1.0'?><html/>"):
        error_of(await api.post("/exam-configurations/import?name=Broken", content=body, headers=headers), 422)
    error_of(await api.post("/exam-configurations/import", content=data, headers=headers), 422)  # no name
    error_of(await api.post("/exam-configurations/import?name=X", content=data,
                            headers={"Content-Type": "text/plain"}), 415)
    error_of(await api.post("/exam-configurations/import?name=Big", content=b"\0" * (6 * 1024 * 1024),
                            headers=headers), 413)
    error_of(await api.post("/exam-configurations/import?name=X&colour=red", content=data, headers=headers), 422)
    assert await _count(api_world) == before


async def test_templates_hidden_attributes_reset_and_configs_from_them(api_world: World) -> None:
    api = api_world.api("a-examadmin")
    template = await api.ok("POST", "/configuration-templates", 201, json={"name": "Strict"})
    assert template["kind"] == "TEMPLATE"
    base = f"/configuration-templates/{template['id']}"
    await api.ok("PATCH", f"{base}/settings", json={"values": {"allowQuit": "false"}})
    await api.ok("POST", f"{base}/publish", 201, json={"summary": "strict"})
    assert await api.ok("POST", f"{base}/detach", json={"attribute": "allowQuit"}) == {
        "hidden_attributes": ["allowQuit"]}
    error_of(await api.post(f"{base}/detach", json={"attribute": "nope"}), 422)
    config = await api.ok("POST", "/exam-configurations", 201, json={"name": "From Strict",
                                                                     "template_id": template["id"]})
    assert config["template_id"] == template["id"] and config["hidden_attributes"] == ["allowQuit"]
    settings = await api.ok("GET", f"/exam-configurations/{config['id']}/settings")
    assert settings["values"]["allowQuit"] == "false" and settings["hidden_attributes"] == ["allowQuit"]
    assert await api.ok("POST", f"{base}/attach", json={"attribute": "allowQuit"}) == {"hidden_attributes": []}
    reset = await api.ok("POST", f"{base}/reset", json={"attribute": "allowQuit"})
    assert reset["values"]["allowQuit"] == "true"
    # The kinds do not mix.
    error_of(await api.get(f"/exam-configurations/{template['id']}"), 404)
    error_of(await api.get(f"/configuration-templates/{config['id']}/settings"), 404)
    error_of(await api.post(f"/configuration-templates/{config['id']}/reset", json={}), 404)
    listed = await api.ok("GET", "/configuration-templates")
    assert [t["name"] for t in listed["items"]] == ["Strict"]


@pytest.mark.parametrize(("username", "read", "write"), [
    ("root", 200, 403), ("a-admin", 200, 403), ("a-supporter", 200, 403), ("b-admin", 404, 404),
])
async def test_roles_and_tenant_isolation(api_world: World, username: str, read: int, write: int) -> None:
    owner = api_world.api("a-examadmin")
    config_id = (await owner.ok("POST", "/exam-configurations", 201, json={"name": "Final"}))["id"]
    api = api_world.api(username)
    base = f"/exam-configurations/{config_id}"
    for path in ("", "/settings", "/history", "/config-key", "/export"):
        response = await api.get(base + path)
        assert response.status_code == read, (path, response.text)
    writes = (("PATCH", "", {"name": "Mine"}), ("PATCH", "/settings", {"values": {"enableF5": "true"}}),
              ("POST", "/publish", {}), ("POST", "/copy", {"name": "Mine"}), ("DELETE", "", None))
    for method, path, body in writes:
        response = await api.request(method, base + path, json=body)
        assert response.status_code == write, (method, path, response.text)
    error_of(await api.post("/exam-configurations", json={"name": "Mine"}), 403)
    listed = await api.ok("GET", "/exam-configurations")
    assert listed["total"] == (1 if read == 200 else 0)
    assert (await owner.ok("GET", base))["name"] == "Final"
