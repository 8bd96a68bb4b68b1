"""The settings of a configured integration (an LMS setup, an exam's meeting service): validated with the plugin's
pydantic model, ``SecretStr`` fields kept when a form leaves them empty, stored as JSON the caller encrypts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError

from sebframe.core.errors import ValidationFailed
from sebframe.core.validation import field_errors_of


def secret_field_names(model: type[BaseModel]) -> set[str]:
    return {name for name, info in model.model_fields.items() if info.annotation in (SecretStr, SecretStr | None)}


def validate_settings(model: type[BaseModel], given: Mapping[str, Any],
                      previous: Mapping[str, Any] | None) -> BaseModel:
    """``given`` as ``model``; an empty secret keeps ``previous``'s (forms never show secrets). Errors are
    reported per field as ``settings.<name>``."""
    values = dict(given)
    if previous is not None:
        for name in secret_field_names(model):
            if not values.get(name) and previous.get(name):
                values[name] = previous[name]
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ValidationFailed({f"settings.{key}": text for key, text in field_errors_of(exc).items()}) from None


def settings_to_json(settings: BaseModel) -> str:
    """The settings with secrets in plain text, to be encrypted with the server key before storing."""
    plain = {name: value.get_secret_value() if isinstance(value, SecretStr) else value for name, value in settings}
    return json.dumps(plain)
