"""Turn untrusted input into pydantic models, or into ``ValidationFailed`` with one message per field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sebframe.core.errors import ValidationFailed

ModelT = TypeVar("ModelT", bound=BaseModel)


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
