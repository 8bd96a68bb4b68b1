"""Input models of network location restriction (web forms and the admin API share them)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from sebframe.core.validation import InputModel, empty_to_none

MAX_HELP_TEXT = 4000
MAX_REASON = 2000
MAX_GROUP_MEMBERS = 5000


class LocationStatus(StrEnum):
    """A connection's latest location decision (``ConnectionLocation.status``)."""

    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    VIOLATION = "VIOLATION"  # moved outside during the exam
    OVERRIDDEN = "OVERRIDDEN"
    EXCEPTION = "EXCEPTION"
    WOULD_BLOCK = "WOULD_BLOCK"  # log-only trial


class PolicyMode(StrEnum):
    ENFORCE = "ENFORCE"  # refuse clients outside the profiles
    LOG_ONLY = "LOG_ONLY"  # trial: record what would be refused, refuse nobody


class ViolationAction(StrEnum):
    LOG = "LOG"  # a client that moves outside is logged (code 37) and flagged
    QUIT = "QUIT"  # ... and gets SEB_QUIT


class ExceptionKind(StrEnum):
    USER = "USER"
    GROUP = "GROUP"


class OverrideScope(StrEnum):
    CONNECTION = "CONNECTION"  # this connection at this address
    USER = "USER"  # this user for this exam, from any address
    ADDRESS = "ADDRESS"  # this address for this exam (e.g. a spare laptop)


class LocationInput(InputModel):
    name: str = Field(min_length=1, max_length=255)
    description: str = Field(default="", max_length=4000)


class ProfileInput(InputModel):
    name: str = Field(min_length=1, max_length=255)
    # Not trimmed: a leading blank line is a line, and issues name lines of the text as written.
    rules: Annotated[str, StringConstraints(strip_whitespace=False)] = Field(
        default="", description="one rule per line: ALLOW|BLOCK <address spec> [room=.. seat=..]")
    help_text: str = Field(default="", max_length=MAX_HELP_TEXT,
                           description="shown to a student whose SEB is refused")
    default_room: str = Field(default="", max_length=255, description="room label of rules without room=")
    location_id: int | None = None

    _none_location = field_validator("location_id", mode="before")(empty_to_none)


class PolicyInput(InputModel):
    profile_ids: list[int] = Field(default_factory=list, max_length=50)
    mode: PolicyMode = PolicyMode.ENFORCE
    hide_when_outside: bool = False
    on_violation: ViolationAction = ViolationAction.LOG

    @field_validator("profile_ids")
    @classmethod
    def _unique(cls, value: list[int]) -> list[int]:
        return list(dict.fromkeys(value))


class SuspendInput(InputModel):
    reason: str = Field(min_length=1, max_length=MAX_REASON)


class ExceptionInput(InputModel):
    kind: ExceptionKind = ExceptionKind.USER
    name: str = Field(min_length=1, max_length=255, description="the user id, or the group's name")
    members: list[str] = Field(default_factory=list, max_length=MAX_GROUP_MEMBERS,
                               description="a group's user ids (one per line in the form)")
    substitute_profile_id: int | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    reason: str = Field(default="", max_length=MAX_REASON)

    _none = field_validator("substitute_profile_id", "valid_from", "valid_to", mode="before")(empty_to_none)

    @field_validator("members", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]
        return value

    @field_validator("members")
    @classmethod
    def _clean(cls, value: list[str]) -> list[str]:
        for member in value:
            if len(member) > 255:
                raise ValueError("a user id has at most 255 characters")
        return list(dict.fromkeys(member.strip() for member in value if member.strip()))

    @field_validator("valid_from", "valid_to")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time with its time zone (e.g. 2026-11-22T09:00:00Z)")
        return value


class OverrideInput(InputModel):
    connection_id: int
    scope: OverrideScope = OverrideScope.CONNECTION
    reason: str = Field(min_length=1, max_length=MAX_REASON)
    expires_at: datetime | None = Field(default=None, description="default and latest: the exam's end")

    _none = field_validator("expires_at", mode="before")(empty_to_none)

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give a reason")
        return value

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time with its time zone (e.g. 2026-11-22T09:00:00Z)")
        return value


class RevokeInput(InputModel):
    reason: str = Field(default="", max_length=MAX_REASON)
