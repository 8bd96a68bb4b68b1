"""Validated input for the accounts services; the web forms and the admin API both parse into these."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import available_timezones

from pydantic import Field, ValidationInfo, field_validator

from sebframe.core.accounts.roles import Role
from sebframe.core.db.base import MAX_ID
from sebframe.core.validation import InputModel, empty_to_none

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._@+-]{3,255}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL_SUFFIX_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MIN_PASSWORD_LENGTH = 8


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones() | {"UTC"}))


class InstitutionInput(InputModel):
    name: str = Field(min_length=3, max_length=255)
    url_suffix: str | None = Field(default=None, max_length=64)

    @field_validator("url_suffix", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("url_suffix")
    @classmethod
    def _suffix_shape(cls, value: str | None) -> str | None:
        if value is not None and not URL_SUFFIX_PATTERN.match(value):
            raise ValueError("use lowercase letters, digits, '-' and '_' only (up to 64 characters)")
        return value


def _check_username(value: str) -> str:
    if not USERNAME_PATTERN.match(value):
        raise ValueError("3 to 255 characters: letters, digits and . _ @ + - (no spaces)")
    return value


def _check_email(value: str | None) -> str | None:
    if value is not None and not EMAIL_PATTERN.match(value):
        raise ValueError("not a valid e-mail address")
    return value


def _check_timezone(value: str) -> str:
    if value not in time_zones():
        raise ValueError(f"unknown time zone {value!r}")
    return value


class _UserFields(InputModel):
    name: str = Field(min_length=1, max_length=255)
    surname: str = Field(min_length=1, max_length=255)
    username: str
    email: str | None = Field(default=None, max_length=255)
    timezone: str = "UTC"

    _username = field_validator("username")(_check_username)
    _email_blank = field_validator("email", mode="before")(empty_to_none)
    _email = field_validator("email")(_check_email)
    _timezone = field_validator("timezone")(_check_timezone)


class _NewPassword(InputModel):
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=255)
    confirm_password: str

    @field_validator("confirm_password")
    @classmethod
    def _confirmed(cls, value: str, info: ValidationInfo) -> str:
        if "password" in info.data and value != info.data["password"]:
            raise ValueError("password and confirmation differ")
        return value


class UserCreate(_UserFields, _NewPassword):
    institution_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    roles: list[Role] = Field(default_factory=lambda: [Role.EXAM_SUPPORTER])
    active: bool = True


class Registration(_UserFields, _NewPassword):
    """Self-registration: always becomes an exam supporter of the chosen active institution."""

    institution_id: int = Field(ge=1, le=MAX_ID)


class UserUpdate(InputModel):
    """Only the fields present are changed; an empty ``email`` clears it."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    surname: str | None = Field(default=None, min_length=1, max_length=255)
    username: str | None = None
    email: str | None = Field(default=None, max_length=255)
    timezone: str | None = None
    institution_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    roles: list[Role] | None = None

    @field_validator("name", "surname", "username", "timezone", "institution_id", "roles", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Absent means "unchanged"; an explicit null would mean "clear", which only e-mail allows.
        if value is None:
            raise ValueError("may not be empty")
        return value

    _username = field_validator("username")(lambda v: v if v is None else _check_username(v))
    _email_blank = field_validator("email", mode="before")(empty_to_none)
    _email = field_validator("email")(_check_email)
    _timezone = field_validator("timezone")(lambda v: v if v is None else _check_timezone(v))


class PasswordChange(_NewPassword):
    """``current_password`` is the password of whoever makes the change (re-authentication)."""

    current_password: str = Field(min_length=1)
