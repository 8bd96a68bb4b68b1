"""What an exam office enters for Zoom: a Server-to-Server OAuth app (REST API), a Meeting SDK app (the
signatures SEB clients and proctors join with), who hosts the meetings, and how the proctor opens them.

The exam's "server URL" is the OAuth base (``https://zoom.us``); the REST base is a setting of its own, since
Zoom serves the API elsewhere (``https://api.zoom.us/v2``; SEB Server used one URL for both)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

LICENSED_USER = "licensed_user"
PER_ROOM_USERS = "per_room_users"
WEB_SDK = "web_sdk"
ZOOM_APP = "zoom_app"
DEFAULT_API_URL = "https://api.zoom.us/v2"
DEFAULT_SDK_URL = "https://source.zoom.us/6.2.0"


def _filled(value: SecretStr | None) -> bool:
    return value is not None and bool(value.get_secret_value())


class ZoomSettings(BaseModel):
    api_url: str = Field(default=DEFAULT_API_URL, min_length=1, max_length=255, title="REST API base URL",
                         description="Zoom's REST API (https://api.zoom.us/v2); the server URL above is the OAuth "
                                     "base (https://zoom.us)")
    account_id: str = Field(min_length=1, max_length=255, title="Account ID",
                            description="of the Server-to-Server OAuth app (Zoom App Marketplace)")
    client_id: str = Field(min_length=1, max_length=255, title="Client ID",
                           description="of the Server-to-Server OAuth app")
    client_secret: SecretStr | None = Field(default=None, title="Client secret",
                                            description="of the Server-to-Server OAuth app")
    sdk_client_id: str = Field(min_length=1, max_length=255, title="Meeting SDK Client ID",
                               description="of the Meeting SDK app: signs the join tokens (its former SDK Key)")
    sdk_client_secret: SecretStr | None = Field(default=None, title="Meeting SDK Client secret",
                                                description="of the Meeting SDK app")
    hosting: Literal["licensed_user", "per_room_users"] = Field(
        default=LICENSED_USER, title="Meeting hosts",
        description="licensed_user: every meeting is hosted by the user below; per_room_users: a user is made "
                    "for each room (custCreate: the account must be allowed to, and needs a licence per room)")
    host_user: str = Field(default="", max_length=255, title="Host user",
                           description="licensed_user: the licensed Zoom user (e-mail or user id) hosting the "
                                       "meetings")
    user_domain: str = Field(default="", max_length=200, title="E-mail domain of room users",
                             description="per_room_users: room users are made as <room id>@<this domain>")
    proctor_window: Literal["web_sdk", "zoom_app"] = Field(
        default=WEB_SDK, title="Proctor window",
        description="web_sdk: the Meeting SDK for the web in the browser; zoom_app: the meeting's start URL "
                    "(the Zoom app)")
    sdk_url: str = Field(default=DEFAULT_SDK_URL, min_length=1, max_length=255, title="Meeting SDK URL",
                         description="web_sdk: where Zoom serves the Meeting SDK for the web (its CDN, a version)")
    waiting_room: bool = Field(default=False, title="Waiting room",
                               description="clients wait until the proctor admits them (off: they join at once)")

    @field_validator("api_url", "sdk_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")) or "?" in value:
            raise ValueError("must be an http(s) URL without a query")
        return value

    @field_validator("user_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        value = value.strip().lstrip("@").lower()
        if value and ("." not in value or any(char in value for char in " /@")):
            raise ValueError("must be a mail domain, e.g. proctoring.example.org")
        return value

    @model_validator(mode="after")
    def _needed(self) -> ZoomSettings:
        if not _filled(self.client_secret):
            raise ValueError("Zoom needs the client secret of the Server-to-Server OAuth app")
        if not _filled(self.sdk_client_secret):
            raise ValueError("Zoom needs the Client secret of the Meeting SDK app")
        if self.hosting == LICENSED_USER and not self.host_user.strip():
            raise ValueError("licensed_user hosting needs the host user")
        if self.hosting == PER_ROOM_USERS and not self.user_domain:
            raise ValueError("per_room_users hosting needs the e-mail domain of room users")
        return self
