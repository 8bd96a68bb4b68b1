"""Validated input of the exam domain; the web forms and the admin API both parse with these models."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from sebframe.core.db import MAX_ID
from sebframe.core.exams.seb_versions import format_allowed_versions, parse_allowed_versions
from sebframe.core.validation import InputModel, empty_to_none

ExamTypeName = Literal["UNDEFINED", "MANAGED", "BYOD", "VDI"]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

MAX_SUPPORTERS = 500
MAX_THRESHOLDS = 100
MAX_INDICATORS = 50
MAX_KEYS = 100
MAX_TRUST_THRESHOLD = 100_000
MAX_ALLOWED_VERSIONS_LENGTH = 1024  # the column's size
_COLOR = re.compile(r"^#?([0-9a-fA-F]{6})$")
_KEY = re.compile(r"^[A-Za-z0-9]{1,512}$")
_ASK_HASH = re.compile(r"^[0-9a-fA-F]{64}$")
_LIST_SEPARATORS = re.compile(r"[\s,]+")


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


def _split_list(value: Any) -> Any:
    """A form's text area (one per line or comma-separated) as a list."""
    if isinstance(value, str):
        return [part for part in _LIST_SEPARATORS.split(value) if part]
    return value


class ExamUpdate(InputModel):
    """Only the fields given change; the course data belongs to the LMS.

    The SEB client checks (``signature_key_*``, ``allowed_seb_versions``, ``alternative_bek``) only flag
    connections in monitoring; ``alternative_bek`` "" removes the key.
    """

    exam_type: ExamTypeName | None = None
    supporter_ids: list[Id] | None = Field(default=None, max_length=MAX_SUPPORTERS)
    signature_key_check_enabled: bool | None = None
    signature_key_trust_threshold: int | None = Field(default=None, ge=0, le=MAX_TRUST_THRESHOLD)
    signature_key_grants: list[str] | None = Field(default=None, max_length=MAX_KEYS,
                                                   description="app signature key hashes, 64 hex digits each")
    allowed_seb_versions: str | None = Field(default=None, max_length=MAX_ALLOWED_VERSIONS_LENGTH,
                                             description="e.g. Win.3.5.0.min,Mac.3.3; empty: any version")
    alternative_bek: str | None = Field(default=None, max_length=255, description="empty: none")

    _unique = field_validator("supporter_ids")(_unique_ids)
    _split_grants = field_validator("signature_key_grants", mode="before")(_split_list)

    @field_validator("signature_key_grants")
    @classmethod
    def _check_grants(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        hashes = [item.strip().lower() for item in value if item.strip()]
        for item in hashes:
            if not _ASK_HASH.match(item):
                raise ValueError(f"{item[:40]!r} is not an app signature key hash (64 hex digits, as monitoring "
                                 "shows for a connection)")
        return list(dict.fromkeys(hashes))

    @field_validator("allowed_seb_versions")
    @classmethod
    def _check_versions(cls, value: str | None) -> str | None:
        # Stored in the canonical form, e.g. "Win.3.5.0.min,Mac.3.3"; the error names the bad entry.
        return None if value is None else format_allowed_versions(parse_allowed_versions(value))

    @field_validator("alternative_bek")
    @classmethod
    def _check_bek(cls, value: str | None) -> str | None:
        if value and not _KEY.match(value):
            raise ValueError("enter a Browser Exam Key of letters and digits, e.g. 64 hex digits")
        return value


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

    _split_keys = field_validator("browser_exam_keys", mode="before")(_split_list)

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
