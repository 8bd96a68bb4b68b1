"""The service against the fake Zoom: connection test, meetings per room (licensed host or per-room users), the
SEB client's join attributes, the proctor's start as host, dispose, tokens, rate limits and server errors."""

from __future__ import annotations

import logging

import httpx
import jwt
import pytest
from sebframe_proctoring_zoom.client import ZoomError

from sebframe.testing.fakes.zoom import FakeZoom
from sebframe.types import ProctoringRoom, RoomKind, RoomRequest

from .conftest import SDK_ID, SDK_SECRET, ends, participant, service_for

pytestmark = pytest.mark.anyio


def _request(name: str = "0b6f-room", subject: str = "Room 1", kind: RoomKind = RoomKind.COLLECTING) -> RoomRequest:
    return RoomRequest(kind, name, subject, exam_id=7, ends_at=ends())


async def test_connection_test_gets_a_token_and_reads_the_host(http: httpx.AsyncClient, zoom: FakeZoom) -> None:
    result = await service_for(http, zoom).test()
    assert result.ok, result.message
    assert zoom.owner.email in result.message
    assert zoom.requests == [("POST", "/oauth/token"), ("GET", f"/v2/users/{zoom.owner.email}")]


async def test_connection_test_says_why_it_failed(http: httpx.AsyncClient, zoom: FakeZoom) -> None:
    wrong = await service_for(http, zoom, client_secret="wrong").test()
    assert not wrong.ok and wrong.error_kind == "unauthorized" and "client id and secret" in wrong.message
    assert "wrong" not in wrong.message
    unknown = await service_for(http, zoom, host_user="nobody@example.org").test()
    assert not unknown.ok and "1001" in unknown.message and "nobody@example.org" in unknown.message
    refused = await service_for(http, zoom, api_url="http://127.0.0.1:9/v2").test()
    assert not refused.ok and refused.error_kind == "refused" and "127.0.0.1:9" in refused.message


async def test_create_start_end_delete_with_the_licensed_host(http: httpx.AsyncClient, zoom: FakeZoom) -> None:
    service = service_for(http, zoom)
    room = await service.create_room(_request())
    meeting = zoom.meetings[int(room.data["meeting_id"])]
    assert (meeting.host_id, meeting.topic, meeting.status) == (zoom.owner.id, "Room 1", "waiting")
    assert 1 <= len(meeting.password) <= 10 and room.data["password"] == meeting.password
    assert meeting.settings["join_before_host"] is True and meeting.settings["waiting_room"] is False

    window = await service.proctor_join(room, participant("proctor", moderator=True))
    assert window.open_url is None and window.plugin_scripts == ("zoom_window.js",)
    assert window.scripts[-1] == "https://source.zoom.us/6.2.0/zoom-meeting-6.2.0.min.js"
    zoom.start(meeting.id, window.config["zak"])  # the SDK starts the meeting as its host with that ZAK
    assert meeting.status == "started"
    signature = jwt.decode(window.config["signature"], SDK_SECRET, algorithms=["HS256"])
    assert (signature["role"], signature["mn"], signature["appKey"]) == (1, str(meeting.id), SDK_ID)
    assert window.config["passWord"] == meeting.password and window.webassembly

    await service.dispose_room(room)
    assert meeting.status == "ended" and meeting.deleted
    assert zoom.calls("PUT") == [f"/v2/meetings/{meeting.id}/status"]
    assert zoom.running() == []
    await service.dispose_room(room)  # disposed already: 404 is fine
    await service.dispose_room(ProctoringRoom(RoomKind.COLLECTING, "never-made", "Room 9"))  # nothing to do


async def test_per_room_users_are_made_and_deleted(http: httpx.AsyncClient, zoom: FakeZoom) -> None:
    service = service_for(http, zoom, hosting="per_room_users", host_user="", user_domain="proctoring.example.org")
    assert (await service.test()).ok
    room = await service.create_room(_request("4f1c-uuid", "Town-hall", RoomKind.TOWN_HALL))
    user = zoom.users[room.data["room_user"]]
    assert (user.email, user.type) == ("4f1c-uuid@proctoring.example.org", 2)
    assert zoom.meetings[int(room.data["meeting_id"])].host_id == user.id
    window = await service.proctor_join(room, participant("proctor", moderator=True))
    assert window.config["zak"] == user.zak
    await service.dispose_room(room)
    assert zoom.running() == []
    assert zoom.calls("DELETE", "/v2/users/") == [f"/v2/users/{user.id}"]


async def test_without_cust_create_the_room_fails_in_words(http: httpx.AsyncClient, zoom: FakeZoom) -> None:
    zoom.allow_cust_create = False
    service = service_for(http, zoom, hosting="per_room_users", host_user="", user_domain="example.org")
    with pytest.raises(ZoomError, match="custCreate.*No privilege.*privilege"):
        await service.create_room(_request())
    assert zoom.running() == []


async def test_a_failed_meeting_deletes_the_room_user(http: httpx.AsyncClient, zoom: FakeZoom) -> None:
    service = service_for(http, zoom, hosting="per_room_users", host_user="", user_domain="example.org")
    zoom.fail(400, path="/v2/users/", method="POST")
    with pytest.raises(ZoomError, match="creating the Zoom meeting"):
        await service.create_room(_request())
    assert zoom.running() == []


async def test_client_join_attributes_are_what_seb_reads(http: httpx.AsyncClient, zoom: FakeZoom) -> None:
    service = service_for(http, zoom)
    room = await service.create_room(_request())
    meeting = zoom.meetings[int(room.data["meeting_id"])]
    attributes = await service.client_join(room, participant("alice", moderator=False))
    assert set(attributes) == {"zoomServerURL", "zoomRoom", "zoomToken", "zoomSDKToken", "zoomAPIKey",
                               "zoomMeetingKey", "zoomUserName", "zoomSubject"}
    assert attributes["zoomServerURL"].startswith(f"https://zoom.example/j/{meeting.id}")  # the join_url
    assert (attributes["zoomRoom"], attributes["zoomAPIKey"], attributes["zoomMeetingKey"]) == (
        str(meeting.id), SDK_ID, f"enc.{meeting.password}")  # encrypted_password, as SEB Server sent
    assert (attributes["zoomUserName"], attributes["zoomSubject"]) == ("alice", "Room 1")
    assert attributes["zoomToken"] == attributes["zoomSDKToken"]
    assert jwt.decode(attributes["zoomToken"], SDK_SECRET, algorithms=["HS256"])["role"] == 0
    assert service.reconfigure_attributes(receive_audio=True, receive_video=False, allow_chat=True) == {
        "zoomReceiveAudio": "true", "zoomReceiveVideo": "false", "zoomFeatureFlagChat": "true"}


async def test_zoom_app_opens_a_fresh_start_url(http: httpx.AsyncClient, zoom: FakeZoom) -> None:
    service = service_for(http, zoom, proctor_window="zoom_app")
    room = await service.create_room(_request())
    window = await service.proctor_join(room, participant("proctor", moderator=True))
    assert window.open_url == f"https://zoom.example/s/{room.data['meeting_id']}?zak={zoom.owner.zak}"
    assert window.scripts == () and "zak" not in window.config


async def test_the_token_is_cached_and_renewed_when_refused(http: httpx.AsyncClient, zoom: FakeZoom) -> None:
    service = service_for(http, zoom)
    await service.test()
    await service_for(http, zoom).create_room(_request())  # another service of the same app: the same token
    assert len(zoom.tokens_issued) == 1
    zoom.revoke_tokens()  # Zoom answers 401 {"code":124,"message":"Invalid access token."}
    await service.create_room(_request("second"))
    assert len(zoom.tokens_issued) == 2
    zoom.revoke_tokens()
    zoom.fail(401, path="/oauth/token")  # no new token either: a clear error, one attempt only
    with pytest.raises(ZoomError, match="refused the Server-to-Server OAuth credentials"):
        await service.create_room(_request("third"))


async def test_a_token_with_under_a_minute_left_is_replaced(http: httpx.AsyncClient, zoom: FakeZoom) -> None:
    zoom.token_lifetime = 50
    service = service_for(http, zoom)
    await service.test()
    await service.test()
    assert len(zoom.tokens_issued) == 2
    assert zoom.calls("GET") == [f"/v2/users/{zoom.owner.email}"] * 2  # never refused: replaced in time


async def test_rate_limits_are_honoured(http: httpx.AsyncClient, zoom: FakeZoom) -> None:
    pauses: list[float] = []
    service = service_for(http, zoom, pauses)
    zoom.fail(429, path="/v2/users/", retry_after="2")
    room = await service.create_room(_request())
    assert pauses == [2.0] and room.data["meeting_id"]
    zoom.fail(429, path="/v2/meetings/", retry_after="3600")  # the daily limit: no request before it allows
    with pytest.raises(ZoomError, match="rate limit.*3600 s"):
        await service.dispose_room(room)
    assert pauses == [2.0]
    await service.dispose_room(room)
    assert zoom.running() == []


async def test_server_errors_are_retried_a_bounded_number_of_times(http: httpx.AsyncClient, zoom: FakeZoom) -> None:
    pauses: list[float] = []
    service = service_for(http, zoom, pauses)
    zoom.fail(503, path="/v2/users/", times=2)
    room = await service.create_room(_request())
    assert len(pauses) == 2 and pauses[1] > pauses[0]
    zoom.fail(500, path="/v2/meetings/", method="DELETE", times=10)
    with pytest.raises(ZoomError, match="deleting the Zoom meeting.*HTTP 500"):
        await service.dispose_room(room)
    assert len(zoom.calls("DELETE", "/v2/meetings/")) == 4  # the first try and three retries
    zoom.failures.clear()
    await service.dispose_room(room)  # a later retry (the core's next round) finishes it
    assert zoom.running() == []


async def test_secrets_are_never_logged_or_in_errors(http: httpx.AsyncClient, zoom: FakeZoom,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    service = service_for(http, zoom, hosting="per_room_users", host_user="", user_domain="example.org")
    zoom.fail(500, path="/v2/users/", method="POST", times=10)
    with pytest.raises(ZoomError) as failure:
        await service.create_room(_request())
    text = str(failure.value) + caplog.text
    for secret in (zoom.client_secret, SDK_SECRET, *zoom.tokens_issued):
        assert secret not in text
