"""Live proctoring through the admin API: settings (secrets never returned), rooms, a proctor's join only for
those who may supervise, town-hall, one-to-one, broadcast, reset, bad input."""

from __future__ import annotations

import httpx
import pytest

from sebframe.core.services import Services
from sebframe.testing.fakes.jitsi import FakeJitsi
from sebframe.types import Role
from tests.api.admin.helpers import Api, error_of
from tests.conftest import Factory
from tests.proctoring_helpers import APP_SECRET, checker, jitsi, jitsi_settings, services, supervise
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio
__all__ = ["jitsi", "services"]  # fixtures

SUPPORTER = "demo-supporter"
INSTITUTION_ADMIN = "demo-institution-admin"


async def _api(factory: Factory, client: httpx.AsyncClient, username: str) -> Api:
    return Api(client, await factory.token(username))


async def test_settings_rooms_and_joins(client: httpx.AsyncClient, services: Services, factory: Factory,
                                        seb_world: SebWorld, jitsi: FakeJitsi) -> None:
    supporter = await _api(factory, client, SUPPORTER)
    base = f"/exams/{seb_world.exam_id}/proctoring"
    types = await supporter.ok("GET", "/proctoring-types")
    assert [item["name"] for item in types["items"]] == ["JITSI_MEET"]
    assert "app_secret" in types["items"][0]["secret_settings"]
    assert (await supporter.ok("GET", base))["configured"] is False

    saved = await supporter.ok("PUT", base, json=jitsi_settings(jitsi))
    assert saved["test"]["ok"] and saved["settings"]["enabled"]
    assert saved["settings"]["settings"]["app_secret"] == "********"
    assert APP_SECRET not in (await supporter.get(base)).text

    alice = SebClient(client, seb_world, name="alice")
    await alice.connect(user="alice")
    await supervise(services)
    rooms = await supporter.ok("GET", f"{base}/rooms")
    assert [(room["label"], room["participants"][0]["name"]) for room in rooms["items"]] == [
        ("Room 1 (1 / 20)", "alice")]
    room_id = rooms["items"][0]["id"]

    joined = await supporter.ok("POST", f"{base}/rooms/{room_id}/join")
    assert joined["scripts"] == [f"{jitsi.url}/external_api.js"]
    assert checker(jitsi).check(joined["config"]["jwt"], joined["config"]["roomName"]).moderator
    institution_admin = await _api(factory, client, INSTITUTION_ADMIN)  # reads the exam, may not supervise it
    assert (await institution_admin.ok("GET", f"{base}/rooms"))["items"][0]["id"] == room_id
    error_of(await institution_admin.post(f"{base}/rooms/{room_id}/join"), 403)
    error_of(await institution_admin.post(f"{base}/town-hall", json={}), 403)
    # A SEB Server administrator of another institution sees the exam, not who sits in its rooms (as monitoring).
    await factory.user(await factory.institution("Elsewhere"), "server-admin", Role.SEB_SERVER_ADMIN)
    server_admin = await _api(factory, client, "server-admin")
    assert "alice" not in error_of(await server_admin.get(f"{base}/rooms"), 403)["message"]

    town_hall = await supporter.ok("POST", f"{base}/town-hall", status=201, json={})
    assert town_hall["kind"] == "townhall"
    error_of(await supporter.post(f"{base}/town-hall", json={"subject": "Again"}), 409)
    sent = await supporter.ok("POST", f"{base}/rooms/{town_hall['id']}/broadcast",
                              json={"receive_audio": True, "receive_video": False, "allow_chat": True})
    assert sent == {"sent": 1}
    assert (await supporter.request("DELETE", f"{base}/town-hall")).status_code == 204
    connection_id = rooms["items"][0]["participants"][0]["connection_id"]
    one = await supporter.ok("POST", f"{base}/one-to-one", status=201, json={"connection_ids": [connection_id]})
    assert one["participants"] == [{"connection_id": connection_id, "name": "alice"}]
    assert (await supporter.request("DELETE", f"{base}/rooms/{one['id']}")).status_code == 204

    locked = error_of(await supporter.put(base, json=jitsi_settings(jitsi)), 409)
    assert "reset" in locked["message"]
    assert (await supporter.ok("DELETE", f"{base}/rooms")) == {"failures": []}
    assert (await supporter.ok("GET", base))["enabled"] is False


async def test_bad_settings_are_refused_and_a_failing_test_does_not_enable(
        client: httpx.AsyncClient, services: Services, factory: Factory, seb_world: SebWorld, jitsi: FakeJitsi) -> None:
    supporter = await _api(factory, client, SUPPORTER)
    base = f"/exams/{seb_world.exam_id}/proctoring"
    bad_url = error_of(await supporter.put(base, json=jitsi_settings(jitsi, server_url="https://x.org/?a=1")), 422)
    assert "server_url" in bad_url["field_errors"]
    no_secret = error_of(await supporter.put(base, json=jitsi_settings(jitsi, settings={"app_id": "a"})), 422)
    assert any(key.startswith("settings") for key in no_secret["field_errors"])
    unknown = error_of(await supporter.put(base, json=jitsi_settings(jitsi, service_type="ZOOM")), 422)
    assert "service_type" in unknown["field_errors"]
    error_of(await supporter.put("/exams/999999/proctoring", json=jitsi_settings(jitsi)), 404)

    jitsi.status = 404
    saved = await supporter.ok("PUT", base, json=jitsi_settings(jitsi))
    assert not saved["test"]["ok"] and "404" in saved["test"]["message"]
    assert saved["settings"]["enabled"] is False
    jitsi.status = 200
    kept = await supporter.ok("PUT", base, json=jitsi_settings(jitsi, settings={"app_id": "sebframe",
                                                                               "app_secret": ""}))
    assert kept["settings"]["enabled"]  # the empty secret kept the stored one
