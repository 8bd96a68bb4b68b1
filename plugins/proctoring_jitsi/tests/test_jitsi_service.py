"""The service against a fake meeting server: connection test, join attributes, proctor window, broadcast."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from sebframe.testing.fakes.jitsi import FakeJitsi, JitsiTokenChecker
from sebframe.types import ProctoringRoom, RoomKind, RoomRequest

from .conftest import EXAM_END, participant, service_for

pytestmark = pytest.mark.anyio
SECRET = "another-long-app-secret-of-prosody-0123"


async def test_connection_test_loads_external_api_js(http: httpx.AsyncClient) -> None:
    with FakeJitsi() as jitsi:
        result = await service_for(http, jitsi.url, app_id="sebframe", app_secret=SECRET).test()
        assert result.ok, result.message
        assert jitsi.requests == ["/external_api.js"]


async def test_connection_test_says_why_it_failed(http: httpx.AsyncClient) -> None:
    with FakeJitsi(status=404) as jitsi:
        result = await service_for(http, jitsi.url, app_id="sebframe", app_secret=SECRET).test()
    assert not result.ok and "404" in result.message
    refused = await service_for(http, "http://127.0.0.1:9", app_id="sebframe", app_secret=SECRET).test()
    assert not refused.ok and refused.error_kind == "refused"


async def test_jaas_is_tested_under_the_app_id(http: httpx.AsyncClient, private_pem: str) -> None:
    with FakeJitsi() as jitsi:
        service = service_for(http, jitsi.url, deployment="jaas", app_id="vpaas-magic-cookie-1", key_id="k",
                              private_key=private_pem)
        assert (await service.test()).ok
        assert jitsi.requests == ["/vpaas-magic-cookie-1/external_api.js"]


async def test_rooms_and_join_attributes(http: httpx.AsyncClient) -> None:
    service = service_for(http, "https://meet.example.org", app_id="sebframe", app_secret=SECRET)
    room = await service.create_room(RoomRequest(RoomKind.COLLECTING, "4f1c-uuid", "Room 1", exam_id=7,
                                                 ends_at=EXAM_END))
    assert room == ProctoringRoom(RoomKind.COLLECTING, "4f1c-uuid", "Room 1")
    attributes = await service.client_join(room, participant("alice", moderator=False))
    assert set(attributes) == {"jitsiMeetServerURL", "jitsiMeetRoom", "jitsiMeetSubject", "jitsiMeetToken"}
    assert (attributes["jitsiMeetServerURL"], attributes["jitsiMeetRoom"]) == ("https://meet.example.org",
                                                                               "4f1c-uuid")
    checked = JitsiTokenChecker(domain="meet.example.org", secret=SECRET).check(
        attributes["jitsiMeetToken"], "4f1c-uuid", now=datetime(2030, 1, 1, tzinfo=UTC).timestamp())
    assert not checked.moderator
    await service.dispose_room(room)  # nothing to do, and no error


async def test_proctor_window_loads_the_meeting_servers_script(http: httpx.AsyncClient) -> None:
    service = service_for(http, "https://meet.example.org", app_id="sebframe", app_secret=SECRET)
    room = ProctoringRoom(RoomKind.TOWN_HALL, "th-uuid", "Town-hall")
    window = await service.proctor_join(room, participant("proctor", moderator=True))
    assert window.scripts == ("https://meet.example.org/external_api.js",)
    assert window.plugin_scripts == ("jitsi_window.js",)
    assert window.config["domain"] == "meet.example.org" and window.config["roomName"] == "th-uuid"
    checked = JitsiTokenChecker(domain="meet.example.org", secret=SECRET).check(
        window.config["jwt"], "th-uuid", now=datetime(2030, 1, 1, tzinfo=UTC).timestamp())
    assert checked.moderator


async def test_broadcast_attributes_use_the_names_seb_reads(http: httpx.AsyncClient) -> None:
    service = service_for(http, "https://meet.example.org", app_id="sebframe", app_secret=SECRET)
    assert service.reconfigure_attributes(receive_audio=True, receive_video=False, allow_chat=True) == {
        "jitsiMeetReceiveAudio": "true", "jitsiMeetReceiveVideo": "false", "jitsiMeetFeatureFlagChat": "true"}
