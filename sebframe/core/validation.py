"""Turn untrusted input into pydantic models, or into ``ValidationFailed`` with one message per field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from sebframe.core.errors import ValidationFailed

ModelT = TypeVar("ModelT", bound=BaseModel)


class InputModel(BaseModel):
    """Base of every input model: unknown fields refused, text trimmed, unstorable characters refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        # NUL and lone surrogates cannot be stored by every database driver: refuse them here.
        if isinstance(value, str) and ("\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)):
            raise ValueError("contains characters that cannot be stored")
        return value


def empty_to_none(value: object) -> object:
    """For optional form fields: an empty input means "not given"."""
    return None if value == "" else value


def parse_input(model: type[ModelT], data: Mapping[str, Any] | Any) -> ModelT:
    if not isinstance(data, Mapping):
        raise ValidationFailed({}, "expected a JSON object")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise ValidationFailed(field_errors_of(exc)) from None


def field_errors_of(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "__root__"
        message = error["msg"]
        # pydantic prefixes custom messages with "Value error, "; the user does not need it.
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        errors.setdefault(field, message)
    return errors
