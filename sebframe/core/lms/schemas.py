"""Validated input for LMS setups. The type-specific settings are validated by the plugin's settings model."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from sebframe.core.validation import InputModel, empty_to_none


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("enter the LMS address, e.g. https://lms.example.org")
    return value.rstrip("/")


class LmsSetupInput(InputModel):
    name: str = Field(min_length=3, max_length=255)
    lms_type: str = Field(min_length=1, max_length=64)
    url: str = Field(max_length=2048)
    settings: dict[str, Any] = Field(default_factory=dict)
    proxy_host: str | None = Field(default=None, max_length=255)
    proxy_port: int | None = Field(default=None, ge=1, le=65535)
    proxy_username: str | None = Field(default=None, max_length=255)
    proxy_password: str | None = Field(default=None, max_length=1024)

    _url = field_validator("url")(_check_url)
    _blank = field_validator("proxy_host", "proxy_username", "proxy_password", "proxy_port", mode="before")(
        empty_to_none
    )

    @field_validator("proxy_host")
    @classmethod
    def _host_shape(cls, value: str | None) -> str | None:
        if value is not None and ("/" in value or " " in value):
            raise ValueError("enter a host name or address, without scheme or path")
        return value
