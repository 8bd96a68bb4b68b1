"""Zoom meetings for one exam: a meeting with a passcode per room, hosted by the configured licensed user or by
a user made for the room (custCreate); SEB clients join with a Meeting SDK JWT, the proctor starts the meeting
as its host (JWT with role 1 and the host's ZAK, or the meeting's start URL in the Zoom app); disposing ends
and deletes the meeting (and the room's user), and a meeting or user already gone counts as disposed."""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from sebframe import describe_http_failure
from sebframe.types import (
    ConnectionTestResult,
    IntegrationContext,
    Participant,
    ProctoringRoom,
    ProctorWindow,
    RoomRequest,
)
from sebframe_proctoring_zoom.client import ZoomClient, ZoomError
from sebframe_proctoring_zoom.settings import LICENSED_USER, ZOOM_APP, ZoomSettings
from sebframe_proctoring_zoom.tokens import HOST, PARTICIPANT, sdk_token

log = logging.getLogger(__name__)
PASSCODE_ALPHABET = string.ascii_letters + string.digits
PASSCODE_LENGTH = 10  # Zoom's maximum
MAX_DURATION = 24 * 60  # minutes; a scheduled meeting does not end at its duration, it only shows it
# The Meeting SDK for the web (client view) from Zoom's CDN, in the order Zoom's CDN sample loads it.
SDK_VENDOR_SCRIPTS = ("react.min.js", "react-dom.min.js", "redux.min.js", "redux-thunk.min.js", "lodash.min.js")
# Where the Meeting SDK connects (web sockets, media, its WebAssembly): all Zoom's.
SDK_CONNECT_SOURCES = ("https://*.zoom.us", "wss://*.zoom.us", "https://zoom.us", "blob:")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _passcode() -> str:
    return "".join(secrets.choice(PASSCODE_ALPHABET) for _ in range(PASSCODE_LENGTH))


def _url_of(exc: Exception) -> str:
    try:
        request = exc.request  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        return ""
    return str(request.url.copy_with(query=None))


def _id(value: str) -> str:
    return quote(value, safe="@.")


class ZoomService:
    def __init__(self, context: IntegrationContext) -> None:
        assert isinstance(context.settings, ZoomSettings)
        self.settings: ZoomSettings = context.settings
        assert self.settings.client_secret is not None and self.settings.sdk_client_secret is not None
        self.oauth_url = context.url.rstrip("/")
        self.client = ZoomClient(context.http, oauth_url=self.oauth_url, api_url=self.settings.api_url,
                                 account_id=self.settings.account_id, client_id=self.settings.client_id,
                                 client_secret=self.settings.client_secret.get_secret_value())

    # -- connection test ------------------------------------------------------------------------

    async def test(self) -> ConnectionTestResult:
        """A token, then the host user (licensed hosting) or the app's own user: the credentials, the REST
        base and the scopes in one go."""
        user = self.settings.host_user.strip() if self.settings.hosting == LICENSED_USER else "me"
        try:
            found = await self.client.call("GET", f"/users/{_id(user)}", what=f"reading the Zoom user {user!r}")
        except ZoomError as exc:
            return ConnectionTestResult.failure("unauthorized" if exc.status in (400, 401, 403) else "api", str(exc))
        except Exception as exc:  # no answer: name the URL that did not answer (the OAuth or the REST base)
            return describe_http_failure(exc, _url_of(exc) or self.client.api_url)
        if not isinstance(found, dict) or "id" not in found:
            return ConnectionTestResult.failure("api", f"{self.client.api_url} answered, but not as Zoom's API")
        if self.settings.hosting == LICENSED_USER and found.get("type") not in (2, 3, None):
            return ConnectionTestResult.failure("config", f"the host user {user!r} is not licensed (type "
                                                          f"{found.get('type')}): it cannot host the rooms")
        hosts = found.get("email") or found["id"] if self.settings.hosting == LICENSED_USER else "a user per room"
        return ConnectionTestResult.success(f"Zoom answers; meetings are hosted by {hosts}")

    # -- rooms ----------------------------------------------------------------------------------

    async def create_room(self, request: RoomRequest) -> ProctoringRoom:
        room_user = ""
        if self.settings.hosting == LICENSED_USER:
            host = self.settings.host_user.strip()
        else:
            host = room_user = await self._create_room_user(request)
        try:
            meeting = await self._create_meeting(host, request)
        except Exception:
            if room_user:  # do not leave a licensed user behind for a room that failed
                await self._delete_user(room_user)
            raise
        data = {"meeting_id": str(meeting["id"]), "password": str(meeting.get("password", "")),
                "encrypted_password": str(meeting.get("encrypted_password") or meeting.get("password", "")),
                "join_url": str(meeting.get("join_url", "")), "host_id": str(meeting.get("host_id") or host),
                "room_user": room_user}
        return ProctoringRoom(kind=request.kind, name=request.name, subject=request.subject, data=data)

    async def _create_room_user(self, request: RoomRequest) -> str:
        email = f"{request.name}@{self.settings.user_domain}"
        body = {"action": "custCreate", "user_info": {"email": email, "type": 2, "first_name": request.subject[:64],
                                                      "last_name": "SEB proctoring"}}
        created = await self.client.call("POST", "/users", json=body, expect=201,
                                         what=f"creating the Zoom user of {request.subject!r} (custCreate)")
        if not isinstance(created, dict) or "id" not in created:
            raise ZoomError("creating a Zoom user: the answer has no user id")
        return str(created["id"])

    async def _create_meeting(self, host: str, request: RoomRequest) -> dict[str, Any]:
        now = datetime.now(UTC)
        minutes = max(30, min(MAX_DURATION, int((request.ends_at - now).total_seconds() // 60)))
        waiting = self.settings.waiting_room
        body = {"topic": request.subject, "type": 2, "start_time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "timezone": "UTC", "duration": minutes, "password": _passcode(),
                "agenda": f"SEB live proctoring, exam {request.exam_id}",
                "settings": {"host_video": False, "participant_video": True, "mute_upon_entry": False,
                             "join_before_host": not waiting, "jbh_time": 0, "waiting_room": waiting,
                             "use_pmi": False, "audio": "voip", "approval_type": 2,
                             "allow_multiple_devices": False, "auto_recording": "none"}}
        meeting = await self.client.call("POST", f"/users/{_id(host)}/meetings", json=body, expect=201,
                                         what=f"creating the Zoom meeting of {request.subject!r}")
        if not isinstance(meeting, dict) or "id" not in meeting:
            raise ZoomError("creating a Zoom meeting: the answer has no meeting id")
        return meeting

    async def dispose_room(self, room: ProctoringRoom) -> None:
        meeting_id = room.data.get("meeting_id", "")
        if meeting_id:
            # 400: not running (Zoom refuses to end a meeting that has not started); 404: gone already
            await self.client.call("PUT", f"/meetings/{meeting_id}/status", json={"action": "end"},
                                   expect=(200, 204, 400, 404), what=f"ending the Zoom meeting of {room.subject!r}")
            await self.client.call("DELETE", f"/meetings/{meeting_id}", expect=(200, 204, 404),
                                   what=f"deleting the Zoom meeting of {room.subject!r}")
        if room.data.get("room_user"):
            await self._delete_user(room.data["room_user"], strict=True)

    async def _delete_user(self, user_id: str, *, strict: bool = False) -> None:
        try:
            await self.client.call("DELETE", f"/users/{_id(user_id)}", params={"action": "delete"},
                                   expect=(200, 204, 404), what="deleting a room's Zoom user")
        except Exception as exc:
            if strict:
                raise
            log.warning("the Zoom user of a failed room was not deleted: %s", exc)

    # -- joining --------------------------------------------------------------------------------

    def _sdk_token(self, room: ProctoringRoom, role: int, participant: Participant) -> str:
        assert self.settings.sdk_client_secret is not None
        return sdk_token(self.settings.sdk_client_id, self.settings.sdk_client_secret.get_secret_value(),
                         room.data["meeting_id"], role=role, expires_at=participant.expires_at)

    async def client_join(self, room: ProctoringRoom, participant: Participant) -> Mapping[str, str]:
        """The attributes SEB clients read (reference §5.7), with SEB Server's names and values."""
        token = self._sdk_token(room, PARTICIPANT, participant)
        return {"zoomServerURL": room.data.get("join_url", ""), "zoomRoom": room.data["meeting_id"],
                "zoomToken": token, "zoomSDKToken": token, "zoomAPIKey": self.settings.sdk_client_id,
                "zoomMeetingKey": room.data.get("encrypted_password", ""),
                "zoomUserName": participant.display_name, "zoomSubject": room.subject}

    async def proctor_join(self, room: ProctoringRoom, participant: Participant) -> ProctorWindow:
        meeting_id = room.data["meeting_id"]
        if self.settings.proctor_window == ZOOM_APP:
            meeting = await self.client.call("GET", f"/meetings/{meeting_id}",
                                             what=f"reading the Zoom meeting of {room.subject!r}")
            start_url = meeting.get("start_url") if isinstance(meeting, dict) else None
            if not start_url:
                raise ZoomError(f"the Zoom meeting of {room.subject!r} has no start URL")
            return ProctorWindow(open_url=str(start_url))  # fetched now: a start URL's ZAK expires in hours
        zak = await self.client.call("GET", f"/users/{_id(room.data['host_id'])}/token", params={"type": "zak"},
                                     what=f"getting the host key (ZAK) of {room.subject!r}")
        if not isinstance(zak, dict) or not zak.get("token"):
            raise ZoomError("getting the host key (ZAK): the answer has no token")
        sdk = self.settings.sdk_url
        version = urlsplit(sdk).path.rstrip("/").rsplit("/", 1)[-1]
        return ProctorWindow(
            scripts=(*(f"{sdk}/lib/vendor/{name}" for name in SDK_VENDOR_SCRIPTS),
                     f"{sdk}/zoom-meeting-{version}.min.js"),
            plugin_scripts=("zoom_window.js",),
            config={"sdkUrl": sdk, "sdkKey": self.settings.sdk_client_id, "meetingNumber": meeting_id,
                    "signature": self._sdk_token(room, HOST, participant), "zak": str(zak["token"]),
                    "passWord": room.data.get("password", ""), "userName": participant.display_name,
                    "subject": room.subject},
            connect_sources=SDK_CONNECT_SOURCES, webassembly=True)

    def reconfigure_attributes(self, *, receive_audio: bool, receive_video: bool, allow_chat: bool
                               ) -> Mapping[str, str]:
        return {"zoomReceiveAudio": _flag(receive_audio), "zoomReceiveVideo": _flag(receive_video),
                "zoomFeatureFlagChat": _flag(allow_chat)}
