"""Input models: a new configuration (or template) and a change of its properties."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from sebframe.core.db import MAX_ID
from sebframe.core.validation import InputModel, empty_to_none

__all__ = ["ExamConfigCreate", "ExamConfigUpdate"]


class ExamConfigCreate(InputModel):
    """A new exam configuration (optionally from a template) or configuration template."""

    name: str = Field(min_length=3, max_length=255)
    description: str = Field(default="", max_length=4000)
    status: Literal["CONSTRUCTION", "READY_TO_USE"] = "CONSTRUCTION"
    template_id: int | None = Field(default=None, ge=1, le=MAX_ID)

    _blank_template = field_validator("template_id", mode="before")(empty_to_none)


class ExamConfigUpdate(InputModel):
    """Only the fields given change. IN_USE is set by attaching to an exam, never here."""

    name: str | None = Field(default=None, min_length=3, max_length=255)
    description: str | None = Field(default=None, max_length=4000)
    status: Literal["CONSTRUCTION", "READY_TO_USE", "ARCHIVED"] | None = None

    @field_validator("name", "description", "status", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be empty")
        return value
