"""Form fields generated from a plugin's pydantic settings model (LMS setups; later proctoring services).

A plugin declares what an admin enters as a pydantic model; the UI renders one input per field: labels
from ``title`` (or the field name), help from ``description``, required markers from the model, ``SecretStr``
as password inputs that are never filled in (on edit, empty keeps the stored secret), ``bool`` as a checkbox,
numbers as number inputs and ``Literal``/``Enum`` fields as selects.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from starlette.datastructures import FormData


@dataclass(frozen=True, slots=True)
class ModelField:
    """One input of a settings model, as the form template renders it."""

    name: str  # the model's field name
    input_name: str  # the form field's name, e.g. "settings.client_id" (error keys use it too)
    label: str
    help: str
    kind: str  # text | secret | checkbox | number | select
    required: bool
    default: Any = None
    choices: tuple[tuple[str, str], ...] = ()
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    step: str = "1"

    @property
    def input_id(self) -> str:
        return "f-" + self.input_name


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _kind_of(annotation: Any) -> tuple[str, tuple[tuple[str, str], ...], str]:
    base = _unwrap_optional(annotation)
    if base is SecretStr:
        return "secret", (), "1"
    if base is bool:
        return "checkbox", (), "1"
    if base is int:
        return "number", (), "1"
    if base is float:
        return "number", (), "any"
    if get_origin(base) is Literal:
        return "select", tuple((str(value), str(value)) for value in get_args(base)), "1"
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return "select", tuple((str(member.value), str(getattr(member, "label", member.value)))
                               for member in base), "1"
    return "text", (), "1"


def _label(name: str, info: FieldInfo) -> str:
    if info.title:
        return info.title
    return name.replace("_", " ").strip().capitalize()


def _default(info: FieldInfo) -> Any:
    if info.default is PydanticUndefined or info.default is None or isinstance(info.default, SecretStr):
        return None
    if isinstance(info.default, enum.Enum):
        return info.default.value
    return info.default


def model_fields(model: type[BaseModel], prefix: str = "settings.") -> list[ModelField]:
    """The inputs of ``model`` in declaration order."""
    fields = []
    for name, info in model.model_fields.items():
        kind, choices, step = _kind_of(info.annotation)
        max_length = min_value = max_value = None
        for constraint in info.metadata:
            if isinstance(constraint, MaxLen):
                max_length = constraint.max_length
            elif isinstance(constraint, Ge | Gt):
                min_value = float(getattr(constraint, "ge", getattr(constraint, "gt", 0)))
            elif isinstance(constraint, Le | Lt):
                max_value = float(getattr(constraint, "le", getattr(constraint, "lt", 0)))
        fields.append(ModelField(
            name=name, input_name=f"{prefix}{name}", label=_label(name, info), help=info.description or "",
            kind=kind, required=info.is_required() and kind != "checkbox", default=_default(info),
            choices=choices, max_length=max_length, min_value=min_value, max_value=max_value, step=step,
        ))
    return fields


def secret_names(model: type[BaseModel]) -> set[str]:
    return {field.name for field in model_fields(model) if field.kind == "secret"}


def read_model_form(form: FormData | Mapping[str, Any], model: type[BaseModel],
                    prefix: str = "settings.") -> dict[str, Any]:
    """The submitted values of ``model``'s inputs, for the model (or a service) to validate.

    An empty optional input is left out, so the model's default applies; an empty secret is left out too,
    which on edit keeps the stored secret. An unchecked checkbox is False.
    """
    values: dict[str, Any] = {}
    for field in model_fields(model, prefix):
        raw = form.get(field.input_name)
        if field.kind == "checkbox":
            values[field.name] = raw in ("1", "on", "true")
            continue
        if not isinstance(raw, str):
            raw = ""
        if raw == "" and not field.required:
            continue
        values[field.name] = raw
    return values


def form_values(values: Mapping[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """Values to show in the inputs again: never a secret (stored or just submitted)."""
    hidden = secret_names(model)
    return {name: value for name, value in values.items() if name not in hidden}
