"""Validated input of the exam domain; the web forms and the admin API both parse with these models."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from sebframe.core.db import MAX_ID
from sebframe.core.validation import InputModel, empty_to_none

ExamTypeName = Literal["UNDEFINED", "MANAGED", "BYOD", "VDI"]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

MAX_SUPPORTERS = 500
MAX_THRESHOLDS = 100
MAX_INDICATORS = 50
MAX_KEYS = 100
_COLOR = re.compile(r"^#?([0-9a-fA-F]{6})$")
_KEY = re.compile(r"^[A-Za-z0-9]{1,512}$")


def normalise_color(value: Any) -> Any:
    """``#FFC20E``, ``ffc20e`` -> ``ffc20e`` (SEB Server stores hex RGB without '#')."""
    if not isinstance(value, str):
        return value
    match = _COLOR.match(value.strip())
    if match is None:
        raise ValueError("enter a colour as six hex digits, e.g. ffc20e")
    return match.group(1).lower()


def _unique_ids(value: list[int] | None) -> list[int] | None:
    return None if value is None else list(dict.fromkeys(value))


class ExamImport(InputModel):
    """Import a quiz of an LMS setup as an exam. Left out: the template's type and supporters (if any)."""

    lms_setup_id: Id
    quiz_id: str = Field(min_length=1, max_length=255)
    exam_type: ExamTypeName | None = None
    supporter_ids: list[Id] | None = Field(default=None, max_length=MAX_SUPPORTERS)
    exam_template_id: Id | None = None

    _blank = field_validator("exam_type", "exam_template_id", mode="before")(empty_to_none)
    _unique = field_validator("supporter_ids")(_unique_ids)


class ExamUpdate(InputModel):
    """Only the fields given change; the course data belongs to the LMS."""

    exam_type: ExamTypeName | None = None
    supporter_ids: list[Id] | None = Field(default=None, max_length=MAX_SUPPORTERS)

    _unique = field_validator("supporter_ids")(_unique_ids)


class ThresholdInput(InputModel):
    value: float = Field(allow_inf_nan=False)
    color: str

    _color = field_validator("color", mode="before")(normalise_color)


class IndicatorInput(InputModel):
    """A monitoring indicator (of an exam or an exam template). ``tags`` count only for types that use tags."""

    name: str = Field(min_length=1, max_length=255)
    indicator_type: str = Field(min_length=1, max_length=64)
    color: str = "ffffff"
    tags: list[Annotated[str, Field(max_length=255)]] = Field(default_factory=list, max_length=50)
    thresholds: list[ThresholdInput] = Field(default_factory=list, max_length=MAX_THRESHOLDS)

    _color = field_validator("color", mode="before")(normalise_color)

    @field_validator("tags", mode="before")
    @classmethod
    def _split_tags(cls, value: Any) -> Any:
        if isinstance(value, str):  # the form's comma-separated field
            return [part for part in (item.strip() for item in value.split(",")) if part]
        return value

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, value: list[str]) -> list[str]:
        cleaned = [tag.strip() for tag in value if tag.strip()]
        for tag in cleaned:
            if "," in tag:
                raise ValueError("a tag may not contain a comma")
        return list(dict.fromkeys(cleaned))


class ConfigurationAttach(InputModel):
    """Attach a Ready To Use exam configuration; ``password`` encrypts what SEB clients receive."""

    configuration_id: Id
    password: str | None = Field(default=None, max_length=255)

    _blank = field_validator("password", mode="before")(empty_to_none)


class RestrictionUpdate(InputModel):
    """SEB restriction details: Browser Exam Keys and the LMS-specific properties (null: unchanged)."""

    browser_exam_keys: list[str] | None = Field(default=None, max_length=MAX_KEYS)
    properties: dict[str, str | list[str]] | None = None

    @field_validator("browser_exam_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):  # the form's text area: one per line or comma-separated
            return [part for part in re.split(r"[\s,]+", value) if part]
        return value

    @field_validator("browser_exam_keys")
    @classmethod
    def _check_keys(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        keys = [key.strip() for key in value if key.strip()]
        for key in keys:
            if not _KEY.match(key):
                raise ValueError(f"{key[:40]!r} is not a Browser Exam Key (letters and digits, e.g. the 64 hex "
                                 "digits SEB shows)")
        return list(dict.fromkeys(keys))


class ExamTemplateInput(InputModel):
    """An exam template. On update, ``indicators`` left out (null) keeps the template's indicators."""

    name: str = Field(min_length=3, max_length=255)
    description: str = Field(default="", max_length=4000)
    institutional_default: bool = False
    exam_type: ExamTypeName = "UNDEFINED"
    configuration_template_id: Id | None = None
    supporter_ids: list[Id] = Field(default_factory=list, max_length=MAX_SUPPORTERS)
    indicators: list[IndicatorInput] | None = Field(default=None, max_length=MAX_INDICATORS)

    _blank = field_validator("configuration_template_id", mode="before")(empty_to_none)

    @field_validator("supporter_ids")
    @classmethod
    def _unique(cls, value: list[int]) -> list[int]:
        return list(dict.fromkeys(value))
