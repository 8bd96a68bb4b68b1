"""Checks of a change to the working copy against the catalogue, as ``ValidationFailed`` keyed by the setting
(``name``, ``name[row].column``) so forms and the API can show each problem at its field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sebframe.core.errors import NotFound, ValidationFailed

from ..catalogue import Attribute, AttributeType, Catalogue
from ..settings import EXIT_KEY_NAMES, Row, SettingsValues, default_values, validate_value

__all__ = ["check_exit_keys", "check_row_index", "root_attribute", "table_attribute", "validate_cells",
           "validate_setting"]


def root_attribute(catalogue: Catalogue, name: str) -> Attribute:
    attribute = catalogue.get(name) if isinstance(name, str) else None
    if attribute is None or not attribute.is_root:
        raise ValidationFailed({str(name): "unknown setting"})
    return attribute


def table_attribute(catalogue: Catalogue, name: str) -> Attribute:
    attribute = root_attribute(catalogue, name)
    if not attribute.is_table:
        raise ValidationFailed({name: f"{attribute.label} is not a table"})
    return attribute


def validate_setting(catalogue: Catalogue, name: str, value: Any) -> Any:
    """The canonical value of one setting; a table takes its complete list of rows, ``None`` its default."""
    attribute = root_attribute(catalogue, name)
    if not attribute.is_table:
        try:
            return validate_value(attribute, value)
        except ValueError as exc:
            raise ValidationFailed({name: str(exc)}) from None
    if value is None:
        return default_values(catalogue).get(name)
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise ValidationFailed({name: f"{attribute.label} is a table: give a list of rows"})
    if attribute.type == AttributeType.COMPOSITE_TABLE and len(value) > 1:
        raise ValidationFailed({name: f"{attribute.label} holds at most one row"})
    rows = []
    errors: dict[str, str] = {}
    for index, row in enumerate(value):
        if not isinstance(row, Mapping):
            errors[f"{name}[{index}]"] = "a row must be an object of column to value"
            continue
        try:
            cells = validate_cells(catalogue, attribute, row, f"{name}[{index}]")
        except ValidationFailed as exc:
            errors.update(exc.field_errors)
            continue
        full = {child.key: child.default for child in catalogue.children(name)}
        full.update(cells)
        rows.append(full)
    if errors:
        raise ValidationFailed(errors)
    return rows


def validate_cells(catalogue: Catalogue, table: Attribute, cells: Mapping[str, Any], path: str) -> Row:
    """Canonical values of some cells of a row of ``table`` (``path`` names the row in errors)."""
    if not isinstance(cells, Mapping):
        raise ValidationFailed({path: "a row must be an object of column to value"})
    result: Row = {}
    errors: dict[str, str] = {}
    for key, value in cells.items():
        child = catalogue.child(table.name, key) if isinstance(key, str) else None
        if child is None:
            errors[f"{path}.{key}"] = f"{table.label} has no column {key!r}"
            continue
        try:
            result[child.key] = validate_value(child, value)
        except ValueError as exc:
            errors[f"{path}.{key}"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    return result


def check_exit_keys(catalogue: Catalogue, values: SettingsValues, changed: Mapping[str, Any]) -> None:
    """The three exit keys must differ (SEB's exit sequence); checked for the ones just changed."""
    for name in EXIT_KEY_NAMES:
        if name in changed and name in catalogue:
            others = [other for other in EXIT_KEY_NAMES if other != name and values.get(other) == values.get(name)]
            if others:
                raise ValidationFailed({name: f"{catalogue[name].label} must differ from "
                                              f"{catalogue[others[0]].label} (the exit sequence needs "
                                              "three different keys)"})


def check_row_index(table: str, rows: list[Any], index: int) -> None:
    if not isinstance(index, int) or not 0 <= index < len(rows):
        raise NotFound(f"{table} has no row {index + 1 if isinstance(index, int) else index}")
