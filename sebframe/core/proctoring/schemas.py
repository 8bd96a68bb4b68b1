"""Validated input of an exam's proctoring settings; the service's own part is validated by its settings model."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from sebframe.core.validation import InputModel
from sebframe.types import ProctoringFeature

MAX_ROOM_SIZE = 10_000


class ProctoringSettingsInput(InputModel):
    enabled: bool = False
    service_type: str = Field(min_length=1, max_length=64)
    server_url: str = Field(max_length=512)
    collecting_room_size: int = Field(default=20, ge=0, le=MAX_ROOM_SIZE,
                                      description="connections per collecting room; 0: unlimited")
    features: list[ProctoringFeature] = Field(default_factory=lambda: list(ProctoringFeature))
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("service_type")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("server_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("enter the meeting server's address, e.g. https://meet.example.org")
        if parts.query or parts.fragment or "?" in value:
            raise ValueError("the address may not have a query or fragment")
        return value.rstrip("/")
