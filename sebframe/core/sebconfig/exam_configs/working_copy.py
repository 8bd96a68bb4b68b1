"""The working copy: the one revision per configuration the editor shows and changes. Every change is validated
and stored at once, under a row lock, and logged; nothing here reaches exports until it is published."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import Privilege
from sebframe.core.db import Database, utc_now
from sebframe.core.errors import ValidationFailed

from ..catalogue import AttributeType
from ..settings import SECRET_ATTRIBUTES, Row, SettingsValues
from .access import check_editable, load_configuration
from .storage import SettingsStorage, last_published, working_copy_row
from .template_attributes import TemplateAttributes
from .types import ConfigKind, WorkingSettings
from .validation import (
    check_exit_keys,
    check_row_index,
    root_attribute,
    table_attribute,
    validate_cells,
    validate_setting,
)

__all__ = ["WorkingCopy"]


class WorkingCopy:
    def __init__(self, db: Database, storage: SettingsStorage) -> None:
        self.db = db
        self.storage = storage
        self.catalogue = storage.catalogue

    async def get(self, actor: Actor, config_id: int) -> WorkingSettings:
        async with self.db.read() as session:
            configuration = await load_configuration(session, actor, config_id)
            working = await working_copy_row(session, configuration.id)
            published = await last_published(session, configuration.id)
            values = self.storage.decode(working.settings)
            return WorkingSettings(
                configuration=configuration,
                values=values,
                hidden=frozenset(TemplateAttributes.hidden(configuration)),
                published_number=published.number or 0,
                unpublished_changes=values != self.storage.decode(published.settings),
            )

    async def has_unpublished_changes(self, actor: Actor, config_id: int) -> bool:
        return (await self.get(actor, config_id)).unpublished_changes

    async def set_value(self, actor: Actor, config_id: int, attribute: str, value: Any) -> Any:
        """Validate and store one setting in the working copy; returns the stored (canonical) value.

        ``None`` resets to the default. Raises ``ValidationFailed`` keyed by the setting name.
        """
        stored = await self.set_values(actor, config_id, {attribute: value})
        return stored[attribute]

    async def set_values(self, actor: Actor, config_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Several settings at once (all or nothing). Table settings take a complete list of rows."""
        if not isinstance(changes, Mapping) or not changes:
            raise ValidationFailed({"values": "give at least one setting"})
        validated: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name, value in changes.items():
            try:
                validated[name] = validate_setting(self.catalogue, name, value)
            except ValidationFailed as exc:
                errors.update(exc.field_errors)
        if errors:
            raise ValidationFailed(errors)

        def apply(values: SettingsValues) -> str | None:
            changed = {name: value for name, value in validated.items() if values.get(name) != value}
            if not changed:
                return None  # the same value again (e.g. a field saved twice): nothing to store or log
            values.update(changed)
            check_exit_keys(self.catalogue, values, changed)
            return "changed: " + ", ".join(_change_text(name, value) for name, value in changed.items())

        await self._modify(actor, config_id, apply)
        return validated

    async def add_row(self, actor: Actor, config_id: int, table: str, row: Mapping[str, Any] | None = None) -> int:
        """Append a row (missing columns at their defaults); returns its index."""
        attribute = table_attribute(self.catalogue, table)
        cells = validate_cells(self.catalogue, attribute, row or {}, f"{table}[new]")
        index = 0

        def apply(values: SettingsValues) -> str:
            nonlocal index
            rows = list(values.get(table) or [])
            if attribute.type == AttributeType.COMPOSITE_TABLE and rows:
                raise ValidationFailed({table: f"{attribute.label} holds one set of values, which exists already"})
            new_row = {child.key: child.default for child in self.catalogue.children(table)}
            new_row.update(cells)
            rows.append(new_row)
            values[table] = rows
            index = len(rows) - 1
            return f"{table}: row {index + 1} added"

        await self._modify(actor, config_id, apply)
        return index

    async def update_row(
        self, actor: Actor, config_id: int, table: str, index: int, changes: Mapping[str, Any]
    ) -> Row:
        """Change some cells of a row; returns the stored row."""
        attribute = table_attribute(self.catalogue, table)
        cells = validate_cells(self.catalogue, attribute, changes, f"{table}[{index}]")
        result: Row = {}

        def apply(values: SettingsValues) -> str:
            nonlocal result
            rows = [dict(r) for r in values.get(table) or []]
            check_row_index(table, rows, index)
            rows[index].update(cells)
            values[table] = rows
            result = rows[index]
            return f"{table}: row {index + 1} " + ", ".join(_change_text(k, v) for k, v in cells.items())

        await self._modify(actor, config_id, apply)
        return result

    async def delete_row(self, actor: Actor, config_id: int, table: str, index: int) -> None:
        table_attribute(self.catalogue, table)

        def apply(values: SettingsValues) -> str:
            rows = list(values.get(table) or [])
            check_row_index(table, rows, index)
            del rows[index]
            values[table] = rows
            return f"{table}: row {index + 1} removed"

        await self._modify(actor, config_id, apply)

    async def reset_to_defaults(self, actor: Actor, config_id: int, attribute: str | None = None) -> None:
        """Set one setting (or, without ``attribute``, all) of the working copy to SEB Server's defaults."""
        defaults = self.storage.defaults()
        if attribute is not None:
            root_attribute(self.catalogue, attribute)

        def apply(values: SettingsValues) -> str:
            if attribute is None:
                values.clear()
                values.update(defaults)
                return "all settings reset to the defaults"
            values[attribute] = defaults.get(attribute)
            return f"{attribute} reset to the default"

        await self._modify(actor, config_id, apply)

    async def _modify(self, actor: Actor, config_id: int, apply: Callable[[SettingsValues], str | None]) -> None:
        """Load the working copy under a row lock, let ``apply`` change the values, store, log.

        ``apply`` returns the activity message, or None when it changed nothing."""
        async with self.db.transaction() as session:
            configuration = await load_configuration(session, actor, config_id, Privilege.MODIFY, lock=True)
            check_editable(configuration)
            working = await working_copy_row(session, configuration.id)
            values = self.storage.decode(working.settings)
            message = apply(values)
            if message is None:
                return
            working.settings = self.storage.encode(values)
            configuration.updated_at = utc_now()
            kind = ConfigKind(configuration.kind)
            record_activity(session, actor, Activity.MODIFY, kind.entity_type, configuration.id, configuration.name,
                            message, institution_id=configuration.institution_id)


def _change_text(name: str, value: Any) -> str:
    if name in SECRET_ATTRIBUTES:
        return f"{name} {'set' if value else 'cleared'}"
    return f"{name}={_describe_value(value)}"


def _describe_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
