"""Jitsi Meet rooms for one exam. Jitsi makes a room when the first participant joins, so creating and
disposing rooms does no I/O: a room is a name, and access is the token."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from sebframe import describe_http_failure
from sebframe.types import (
    ConnectionTestResult,
    IntegrationContext,
    Participant,
    ProctoringRoom,
    ProctorWindow,
    RoomRequest,
)
from sebframe_proctoring_jitsi.settings import JAAS, JitsiSettings
from sebframe_proctoring_jitsi.tokens import make_token

SCRIPT_NAME = "external_api.js"
MARKER = "JitsiMeetExternalAPI"
# The proctor's meeting: muted on entry, no pre-join screen, no 1:1 mode (SEB Server's jitsiWindow.html).
PROCTOR_CONFIG = {"startWithAudioMuted": True, "startWithVideoMuted": False, "prejoinPageEnabled": False,
                  "disable1On1Mode": True, "disableDeepLinking": True}


def _flag(value: bool) -> str:
    return "true" if value else "false"


class JitsiService:
    def __init__(self, context: IntegrationContext) -> None:
        assert isinstance(context.settings, JitsiSettings)
        self.settings: JitsiSettings = context.settings
        self.url = context.url.rstrip("/")
        self.http = context.http

    @property
    def jaas(self) -> bool:
        return self.settings.deployment == JAAS

    @property
    def base(self) -> str:
        """Where the meeting's pages and ``external_api.js`` are: JaaS serves them under the AppID."""
        return f"{self.url}/{self.settings.app_id}" if self.jaas else self.url

    def room_name(self, room: ProctoringRoom) -> str:
        return f"{self.settings.app_id}/{room.name}" if self.jaas else room.name

    async def test(self) -> ConnectionTestResult:
        url = f"{self.base}/{SCRIPT_NAME}"
        try:
            response = await self.http.get(url)
            response.raise_for_status()
        except Exception as exc:
            return describe_http_failure(exc, url)
        if MARKER not in response.text:
            return ConnectionTestResult.failure("api", f"{url} answered, but not with Jitsi Meet's IFrame API")
        return ConnectionTestResult.success(f"Jitsi Meet answers at {self.base}")

    async def create_room(self, request: RoomRequest) -> ProctoringRoom:
        return ProctoringRoom(kind=request.kind, name=request.name, subject=request.subject)

    async def dispose_room(self, room: ProctoringRoom) -> None:
        return None  # a Jitsi room ends when its last participant leaves; its tokens expire with the exam

    def _token(self, room: ProctoringRoom, participant: Participant) -> str:
        return make_token(self.settings, self.url, room.name, name=participant.display_name,
                          moderator=participant.moderator, expires_at=participant.expires_at,
                          user_id=participant.user_id)

    async def client_join(self, room: ProctoringRoom, participant: Participant) -> Mapping[str, str]:
        return {"jitsiMeetServerURL": self.url, "jitsiMeetRoom": self.room_name(room),
                "jitsiMeetSubject": room.subject, "jitsiMeetToken": self._token(room, participant)}

    async def proctor_join(self, room: ProctoringRoom, participant: Participant) -> ProctorWindow:
        parts = urlsplit(self.url)
        return ProctorWindow(
            scripts=(f"{self.base}/{SCRIPT_NAME}",),
            plugin_scripts=("jitsi_window.js",),
            config={"domain": parts.netloc, "roomName": self.room_name(room), "jwt": self._token(room, participant),
                    "subject": room.subject, "userName": participant.display_name,
                    "configOverwrite": {**PROCTOR_CONFIG, "subject": room.subject}},
        )

    def reconfigure_attributes(self, *, receive_audio: bool, receive_video: bool, allow_chat: bool
                               ) -> Mapping[str, str]:
        # jitsiMeetFeatureFlagChat is what SEB reads; SEB Server sent jitsiFeatureFlagChat, which it ignored.
        return {"jitsiMeetReceiveAudio": _flag(receive_audio), "jitsiMeetReceiveVideo": _flag(receive_video),
                "jitsiMeetFeatureFlagChat": _flag(allow_chat)}
