"""Exam configurations and configuration templates: properties, SEB settings with revisions, import/export.

Both kinds are SEB Server "configuration nodes" (table ``exam_configuration``, ``kind`` EXAM_CONFIG or
TEMPLATE) and share one service. Their SEB settings live in revisions (``exam_configuration_revision``,
see ``seb-config-formats.md`` §4.2):

* number 0 is the initial version (defaults, a template's published values, an import or a copy);
* one revision per configuration is the **working copy** (``working``): every change is stored there
  at once, validated value by value;
* **publish** adds the next numbered revision with the working copy's values; the newest numbered
  revision is the **last published** one, the only one exports, Config Keys, copies and new
  configurations from a template use (the initial version counts until something is published);
* **undo** sets the working copy back to the last published revision, **restore** to any revision.

The two password settings hold plaintext in the values (exported as SHA-256) and are encrypted with
the server key inside the stored JSON. Publishing runs :attr:`ExamConfigService.publish_guards` first:
the exam domain adds one that refuses while a running exam using the configuration has active SEB
connections.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.dependencies import DeleteOption, Dependent, UserDependencies
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import MAX_ID, Database, is_valid_id, utc_now
from sebframe.core.db.models import ExamConfiguration, ExamConfigurationRevision
from sebframe.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sebframe.core.paging import ListParams, Page, contains, fetch_page
from sebframe.core.secrets import SecretBox
from sebframe.core.validation import InputModel, empty_to_none, parse_input

from .catalogue import Attribute, AttributeType, Catalogue, load_catalogue
from .codec import decode_seb
from .errors import PasswordRequiredError, SebConfigError, WrongPasswordError
from .settings import (
    SECRET_ATTRIBUTES,
    Change,
    Row,
    SettingsValues,
    default_values,
    diff,
    validate_value,
)
from .settings_io import exam_config_file, exam_config_key, from_plist_dict

__all__ = [
    "EXAM_CONFIG_FILTERS",
    "EXPORT_FILENAME",
    "MAX_IMPORT_BYTES",
    "ConfigKind",
    "ConfigStatus",
    "ExamConfigCreate",
    "ExamConfigService",
    "ExamConfigUpdate",
    "History",
    "PublishGuard",
    "PublishListener",
    "RevisionInfo",
    "WorkingSettings",
]

log = logging.getLogger(__name__)

EXPORT_FILENAME = "SEBExamSettings.seb"
# Real SEB configuration files are a few dozen KiB; anything this large is not one.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_SUMMARY_LENGTH = 2000
EXIT_KEYS = ("exitKey1", "exitKey2", "exitKey3")
EXAM_CONFIG_FILTERS = ("name", "description", "status", "template_id", "institution_id")


class ConfigKind(StrEnum):
    EXAM_CONFIG = "EXAM_CONFIG"
    TEMPLATE = "TEMPLATE"

    @property
    def entity_type(self) -> EntityType:
        return EntityType.EXAM_CONFIGURATION if self is ConfigKind.EXAM_CONFIG else EntityType.CONFIGURATION_TEMPLATE

    @property
    def noun(self) -> str:
        return "exam configuration" if self is ConfigKind.EXAM_CONFIG else "configuration template"


class ConfigStatus(StrEnum):
    CONSTRUCTION = "CONSTRUCTION"
    READY_TO_USE = "READY_TO_USE"
    IN_USE = "IN_USE"
    ARCHIVED = "ARCHIVED"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    ConfigStatus.CONSTRUCTION: "Under Construction",
    ConfigStatus.READY_TO_USE: "Ready To Use",
    ConfigStatus.IN_USE: "In Use",
    ConfigStatus.ARCHIVED: "Archived",
}

# An async check run inside the publish transaction; returns a refusal message, or None to allow.
PublishGuard = Callable[[AsyncSession, ExamConfiguration], Awaitable[str | None]]
# Called after a publish is committed with the actor and the configuration id; failures are logged only.
PublishListener = Callable[[Actor, int], Awaitable[None]]


def _check_text(value: str) -> str:
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("contains characters that cannot be stored")
    return value


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


@dataclass(frozen=True, slots=True)
class WorkingSettings:
    """The working copy as the editor shows it. ``values`` holds plaintext passwords: never render them."""

    configuration: ExamConfiguration
    values: SettingsValues
    hidden: frozenset[str]
    published_number: int
    unpublished_changes: bool

    @property
    def editable(self) -> bool:
        return self.configuration.status != ConfigStatus.ARCHIVED


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    """A numbered revision and what changed against the one before (password values masked)."""

    id: int
    number: int
    summary: str
    author: str
    published_at: Any
    changes: list[Change]
    current: bool  # the revision exports and Config Keys use


@dataclass(frozen=True, slots=True)
class History:
    configuration: ExamConfiguration
    revisions: list[RevisionInfo]  # newest first
    pending: list[Change]  # unpublished changes of the working copy


def _secret_masked(change: Change) -> Change:
    if change.name not in SECRET_ATTRIBUTES:
        return change
    hidden = "(hidden)"
    return Change(change.name, hidden if change.old else None, hidden if change.new else None, change.row,
                  change.column)


def _describe_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ExamConfigService:
    """Exam configurations and configuration templates (``kind``) with their SEB settings revisions."""

    def __init__(self, db: Database, secrets: SecretBox, catalogue: Catalogue | None = None) -> None:
        self.db = db
        self.secrets = secrets
        self.catalogue = catalogue if catalogue is not None else load_catalogue()
        self._defaults_json = self._encode(default_values(self.catalogue))  # no passwords set: plain JSON
        # Checked before every publish; the exam domain registers "no active SEB connections" here.
        self.publish_guards: list[PublishGuard] = []
        # Told after every publish; the exam domain re-applies SEB restrictions with the new Config Key.
        self.publish_listeners: list[PublishListener] = []

    # -- queries -------------------------------------------------------------------------------

    async def list(
        self, actor: Actor, params: ListParams, *, kind: ConfigKind = ConfigKind.EXAM_CONFIG
    ) -> Page[ExamConfiguration]:
        scope = actor.scope(Privilege.READ, kind.entity_type)
        if scope == Scope.NONE:
            raise PermissionDenied(f"you may not list {kind.noun}s")
        statement = select(ExamConfiguration).where(ExamConfiguration.kind == kind.value)
        if scope == Scope.INSTITUTION:
            statement = statement.where(ExamConfiguration.institution_id == actor.institution_id)
        elif scope == Scope.OWNER:
            statement = statement.where(ExamConfiguration.owner_id == actor.user_id)
        filters = params.filters
        for name in ("name", "description"):
            if name in filters:
                statement = statement.where(contains(getattr(ExamConfiguration, name), filters[name]))
        if "status" in filters:
            if filters["status"] not in ConfigStatus.__members__:
                raise ValidationFailed({"status": f"choose one of {', '.join(ConfigStatus)}"})
            statement = statement.where(ExamConfiguration.status == filters["status"])
        for name in ("template_id", "institution_id"):
            if name in filters:
                number = _filter_id(name, filters[name])
                statement = statement.where(getattr(ExamConfiguration, name) == number)
        sortable = {
            "name": ExamConfiguration.name,
            "description": ExamConfiguration.description,
            "status": ExamConfiguration.status,
            "institution_id": ExamConfiguration.institution_id,
            "updated_at": ExamConfiguration.updated_at,
        }
        async with self.db.read() as session:
            return await fetch_page(session, statement, params, sortable, [ExamConfiguration.name,
                                                                          ExamConfiguration.id])

    async def get(self, actor: Actor, config_id: int, *, kind: ConfigKind | None = None) -> ExamConfiguration:
        async with self.db.read() as session:
            return await self._load(session, actor, config_id, kind=kind)

    async def template_choices(self, actor: Actor) -> list[ExamConfiguration]:
        """Templates of the actor's institution a new exam configuration can start from."""
        if not actor.may(Privilege.READ, EntityType.CONFIGURATION_TEMPLATE, institution_id=actor.institution_id):
            return []
        statement = (
            select(ExamConfiguration)
            .where(ExamConfiguration.kind == ConfigKind.TEMPLATE.value,
                   ExamConfiguration.institution_id == actor.institution_id)
            .order_by(ExamConfiguration.name)
        )
        async with self.db.read() as session:
            return list((await session.execute(statement)).scalars())

    async def names(self, actor: Actor, ids: Sequence[int | None]) -> dict[int, str]:
        """Names of the given configurations the actor may see (e.g. template names in a list)."""
        wanted = [i for i in set(ids) if isinstance(i, int) and is_valid_id(i)]
        if not wanted:
            return {}
        async with self.db.read() as session:
            rows = (await session.execute(select(ExamConfiguration).where(ExamConfiguration.id.in_(wanted)))).scalars()
            return {row.id: row.name for row in rows if self._may(actor, Privilege.READ, row)}

    def may(self, actor: Actor, privilege: Privilege, configuration: ExamConfiguration) -> bool:
        """Whether ``actor`` holds ``privilege`` on a configuration (screens enable actions by it)."""
        return self._may(actor, privilege, configuration)

    # -- create, edit, delete ------------------------------------------------------------------

    async def create(
        self, actor: Actor, data: ExamConfigCreate, *, kind: ConfigKind = ConfigKind.EXAM_CONFIG
    ) -> ExamConfiguration:
        """Create with the default settings, or (exam configurations) with a template's published settings
        and its hidden attributes."""
        self._require_create(actor, kind)
        async with self.db.transaction() as session:
            values_json = self._defaults_json
            hidden = "[]"
            template_name = ""
            if data.template_id is not None:
                if kind is not ConfigKind.EXAM_CONFIG:
                    raise ValidationFailed({"template_id": "only exam configurations start from a template"})
                template = await self._template(session, actor, data.template_id)
                values_json = (await self._last_published(session, template.id)).settings
                hidden = template.hidden_attributes
                template_name = template.name
            await self._check_unique(session, actor.institution_id, kind, data.name)
            configuration = ExamConfiguration(
                institution_id=actor.institution_id, kind=kind.value, name=data.name, description=data.description,
                status=data.status if kind is ConfigKind.EXAM_CONFIG else ConfigStatus.CONSTRUCTION.value,
                template_id=data.template_id, owner_id=actor.user_id, hidden_attributes=hidden,
            )
            session.add(configuration)
            await session.flush()
            summary = f"from template {template_name}" if template_name else "default settings"
            self._add_initial(session, configuration, values_json, summary, actor)
            record_activity(session, actor, Activity.CREATE, kind.entity_type, configuration.id, configuration.name,
                            summary, institution_id=configuration.institution_id)
        return configuration

    async def create_from_template(
        self, actor: Actor, template_id: int, name: str, description: str = ""
    ) -> ExamConfiguration:
        """"Create Exam Configuration" of a template's view."""
        data = parse_input(ExamConfigCreate, {"name": name, "description": description, "template_id": template_id})
        return await self.create(actor, data)

    async def update(self, actor: Actor, config_id: int, data: ExamConfigUpdate) -> ExamConfiguration:
        changes = data.model_dump(exclude_unset=True)
        async with self.db.transaction() as session:
            configuration = await self._load(session, actor, config_id, Privilege.MODIFY, lock=True)
            kind = ConfigKind(configuration.kind)
            self._check_editable(configuration)
            new_status = changes.get("status")
            if new_status is not None and new_status != configuration.status:
                if configuration.status == ConfigStatus.IN_USE:
                    raise Conflict(f"{kind.noun} {configuration.name!r} is in use by an exam; its status changes "
                                   "when it is detached from the exam")
                configuration.status = new_status
            if "name" in changes and changes["name"] != configuration.name:
                await self._check_unique(session, configuration.institution_id, kind, changes["name"],
                                         exclude_id=configuration.id)
                configuration.name = changes["name"]
            if "description" in changes:
                configuration.description = changes["description"]
            configuration.updated_at = utc_now()
            record_activity(session, actor, Activity.MODIFY, kind.entity_type, configuration.id, configuration.name,
                            ", ".join(sorted(changes)), institution_id=configuration.institution_id)
        return configuration

    async def delete(self, actor: Actor, config_id: int) -> ExamConfiguration:
        async with self.db.transaction() as session:
            configuration = await self._load(session, actor, config_id, Privilege.WRITE, lock=True)
            kind = ConfigKind(configuration.kind)
            if configuration.status == ConfigStatus.IN_USE:
                raise Conflict(f"{kind.noun} {configuration.name!r} is in use by an exam and cannot be deleted")
            await session.execute(delete(ExamConfigurationRevision)
                                  .where(ExamConfigurationRevision.configuration_id == configuration.id))
            await session.delete(configuration)
            record_activity(session, actor, Activity.DELETE, kind.entity_type, configuration.id, configuration.name,
                            institution_id=configuration.institution_id)
        return configuration

    # -- attaching to exams (used by the exam domain) ------------------------------------------

    async def mark_in_use(
        self, actor: Actor, config_id: int, *, session: AsyncSession | None = None, note: str = ""
    ) -> ExamConfiguration:
        """Attach: a READY_TO_USE exam configuration becomes IN_USE. Pass the exam domain's ``session`` to
        do it in the same transaction as the exam change."""
        async with self._unit(session) as unit:
            configuration = await self._load(unit, actor, config_id, Privilege.MODIFY, kind=ConfigKind.EXAM_CONFIG,
                                             lock=True)
            if configuration.status != ConfigStatus.READY_TO_USE:
                status = ConfigStatus(configuration.status).label
                raise Conflict(f"exam configuration {configuration.name!r} is {status}; only configurations "
                               "that are Ready To Use can be attached to an exam")
            configuration.status = ConfigStatus.IN_USE.value
            configuration.updated_at = utc_now()
            record_activity(unit, actor, Activity.MODIFY, EntityType.EXAM_CONFIGURATION, configuration.id,
                            configuration.name, note or "attached to an exam: In Use",
                            institution_id=configuration.institution_id)
        return configuration

    async def release(
        self, actor: Actor, config_id: int, *, session: AsyncSession | None = None, note: str = ""
    ) -> ExamConfiguration:
        """Detach: an IN_USE exam configuration becomes READY_TO_USE again."""
        async with self._unit(session) as unit:
            configuration = await self._load(unit, actor, config_id, Privilege.MODIFY, kind=ConfigKind.EXAM_CONFIG,
                                             lock=True)
            if configuration.status == ConfigStatus.IN_USE:
                configuration.status = ConfigStatus.READY_TO_USE.value
                configuration.updated_at = utc_now()
                record_activity(unit, actor, Activity.MODIFY, EntityType.EXAM_CONFIGURATION, configuration.id,
                                configuration.name, note or "detached from its exam: Ready To Use",
                                institution_id=configuration.institution_id)
        return configuration

    # -- settings: the working copy ------------------------------------------------------------

    async def get_working(self, actor: Actor, config_id: int) -> WorkingSettings:
        async with self.db.read() as session:
            configuration = await self._load(session, actor, config_id)
            working = await self._working(session, configuration.id)
            published = await self._last_published(session, configuration.id)
            values = self._decode(working.settings)
            return WorkingSettings(
                configuration=configuration,
                values=values,
                hidden=frozenset(self.hidden_attributes(configuration)),
                published_number=published.number or 0,
                unpublished_changes=values != self._decode(published.settings),
            )

    async def has_unpublished_changes(self, actor: Actor, config_id: int) -> bool:
        return (await self.get_working(actor, config_id)).unpublished_changes

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
                validated[name] = self._validate_setting(name, value)
            except ValidationFailed as exc:
                errors.update(exc.field_errors)
        if errors:
            raise ValidationFailed(errors)

        def apply(values: SettingsValues) -> str | None:
            changed = {name: value for name, value in validated.items() if values.get(name) != value}
            if not changed:
                return None  # the same value again (e.g. a field saved twice): nothing to store or log
            values.update(changed)
            self._check_exit_keys(values, changed)
            return "changed: " + ", ".join(self._change_text(name, value) for name, value in changed.items())

        await self._modify(actor, config_id, apply)
        return validated

    async def add_row(self, actor: Actor, config_id: int, table: str, row: Mapping[str, Any] | None = None) -> int:
        """Append a row (missing columns at their defaults); returns its index."""
        attribute = self._table(table)
        cells = self._validate_cells(attribute, row or {}, f"{table}[new]")
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
        attribute = self._table(table)
        cells = self._validate_cells(attribute, changes, f"{table}[{index}]")
        result: Row = {}

        def apply(values: SettingsValues) -> str:
            nonlocal result
            rows = [dict(r) for r in values.get(table) or []]
            self._check_index(table, rows, index)
            rows[index].update(cells)
            values[table] = rows
            result = rows[index]
            return f"{table}: row {index + 1} " + ", ".join(self._change_text(k, v) for k, v in cells.items())

        await self._modify(actor, config_id, apply)
        return result

    async def delete_row(self, actor: Actor, config_id: int, table: str, index: int) -> None:
        self._table(table)

        def apply(values: SettingsValues) -> str:
            rows = list(values.get(table) or [])
            self._check_index(table, rows, index)
            del rows[index]
            values[table] = rows
            return f"{table}: row {index + 1} removed"

        await self._modify(actor, config_id, apply)

    async def reset_to_defaults(self, actor: Actor, config_id: int, attribute: str | None = None) -> None:
        """Set one setting (or, without ``attribute``, all) of the working copy to SEB Server's defaults."""
        defaults = json.loads(self._defaults_json)
        if attribute is not None:
            self._root(attribute)

        def apply(values: SettingsValues) -> str:
            if attribute is None:
                values.clear()
                values.update(defaults)
                return "all settings reset to the defaults"
            values[attribute] = defaults.get(attribute)
            return f"{attribute} reset to the default"

        await self._modify(actor, config_id, apply)

    # -- revisions -----------------------------------------------------------------------------

    async def publish(self, actor: Actor, config_id: int, summary: str = "") -> RevisionInfo:
        """Save the working copy as the next revision, which exports and Config Keys use from now on."""
        summary = self._clean_summary(summary)
        async with self.db.transaction() as session:
            configuration = await self._load(session, actor, config_id, Privilege.MODIFY, lock=True)
            self._check_editable(configuration)
            working = await self._working(session, configuration.id)
            published = await self._last_published(session, configuration.id)
            changes = diff(self._decode(published.settings), self._decode(working.settings))
            if not changes:
                raise Conflict(f"there are no unpublished changes; version {published.number} is current")
            for guard in self.publish_guards:
                refusal = await guard(session, configuration)
                if refusal:
                    raise Conflict(refusal)
            revision = ExamConfigurationRevision(
                configuration_id=configuration.id, number=(published.number or 0) + 1, working=False,
                settings=working.settings, summary=summary, author=actor.username, published_at=utc_now(),
            )
            session.add(revision)
            configuration.updated_at = utc_now()
            await session.flush()
            names = sorted({change.name for change in changes})
            message = f"published version {revision.number}" + (f": {summary}" if summary else "")
            message += f" ({len(changes)} change{'s' if len(changes) != 1 else ''}: {', '.join(names[:20])}"
            message += ", ...)" if len(names) > 20 else ")"
            kind = ConfigKind(configuration.kind)
            record_activity(session, actor, Activity.MODIFY, kind.entity_type, configuration.id, configuration.name,
                            message, institution_id=configuration.institution_id)
            info = RevisionInfo(revision.id, revision.number or 0, revision.summary, revision.author,
                                revision.published_at, [_secret_masked(c) for c in changes], True)
        for listener in self.publish_listeners:
            try:
                await listener(actor, configuration.id)
            except Exception:  # the publish is done; a listener's trouble must not turn it into an error
                log.exception("publish listener %r failed for configuration %s", listener, configuration.id)
        return info

    async def undo(self, actor: Actor, config_id: int) -> int:
        """Drop the unpublished changes (working copy := last published); returns how many there were."""
        async with self.db.transaction() as session:
            configuration = await self._load(session, actor, config_id, Privilege.MODIFY, lock=True)
            self._check_editable(configuration)
            published = await self._last_published(session, configuration.id)
            return await self._replace_working(session, actor, configuration, published,
                                               f"unpublished changes undone (back to version {published.number})")

    async def restore(self, actor: Actor, config_id: int, revision_id: int) -> int:
        """Working copy := the values of a revision (publish to make them current); returns the changes."""
        async with self.db.transaction() as session:
            configuration = await self._load(session, actor, config_id, Privilege.MODIFY, lock=True)
            self._check_editable(configuration)
            revision = await session.get(ExamConfigurationRevision, revision_id) if is_valid_id(revision_id) else None
            if revision is None or revision.configuration_id != configuration.id or revision.working:
                raise NotFound(f"revision {revision_id} not found")
            return await self._replace_working(session, actor, configuration, revision,
                                               f"working copy restored from version {revision.number}")

    async def history(self, actor: Actor, config_id: int) -> History:
        async with self.db.read() as session:
            configuration = await self._load(session, actor, config_id)
            revisions = list((await session.execute(
                select(ExamConfigurationRevision)
                .where(ExamConfigurationRevision.configuration_id == configuration.id)
                .order_by(ExamConfigurationRevision.working, ExamConfigurationRevision.number)
            )).scalars())
        numbered = [r for r in revisions if not r.working]
        working = next(r for r in revisions if r.working)
        infos: list[RevisionInfo] = []
        previous: SettingsValues | None = None
        for revision in numbered:
            values = self._decode(revision.settings)
            changes = [] if previous is None else [_secret_masked(c) for c in diff(previous, values)]
            infos.append(RevisionInfo(revision.id, revision.number or 0, revision.summary, revision.author,
                                      revision.published_at, changes, revision is numbered[-1]))
            previous = values
        pending = [_secret_masked(c) for c in diff(previous or {}, self._decode(working.settings))]
        return History(configuration, list(reversed(infos)), pending)

    async def copy(
        self, actor: Actor, config_id: int, name: str, *, description: str = "", with_history: bool = False
    ) -> ExamConfiguration:
        """A new configuration (Under Construction) with the published settings; ``with_history`` also copies
        the revisions. Unpublished changes are not copied."""
        data = parse_input(ExamConfigCreate, {"name": name, "description": description})
        async with self.db.transaction() as session:
            source = await self._load(session, actor, config_id)
            kind = ConfigKind(source.kind)
            self._require_create(actor, kind, source.institution_id)
            await self._check_unique(session, source.institution_id, kind, data.name)
            copied = ExamConfiguration(
                institution_id=source.institution_id, kind=source.kind, name=data.name, description=data.description,
                status=ConfigStatus.CONSTRUCTION.value, template_id=source.template_id, owner_id=actor.user_id,
                hidden_attributes=source.hidden_attributes,
            )
            session.add(copied)
            await session.flush()
            published = await self._last_published(session, source.id)
            if with_history:
                history = (await session.execute(
                    select(ExamConfigurationRevision)
                    .where(ExamConfigurationRevision.configuration_id == source.id,
                           ExamConfigurationRevision.working.is_(False))
                    .order_by(ExamConfigurationRevision.number)
                )).scalars()
                for revision in history:
                    session.add(ExamConfigurationRevision(
                        configuration_id=copied.id, number=revision.number, working=False, settings=revision.settings,
                        summary=revision.summary, author=revision.author, published_at=revision.published_at,
                    ))
                session.add(ExamConfigurationRevision(configuration_id=copied.id, number=None, working=True,
                                                      settings=published.settings, author=actor.username))
            else:
                self._add_initial(session, copied, published.settings,
                                  f"copy of {source.name} version {published.number}", actor)
            record_activity(session, actor, Activity.CREATE, kind.entity_type, copied.id, copied.name,
                            f"copy of {source.name}" + (" with history" if with_history else ""),
                            institution_id=copied.institution_id)
        return copied

    # -- files ---------------------------------------------------------------------------------

    async def import_seb(
        self,
        actor: Actor,
        data: bytes,
        *,
        password: str | None = None,
        name: str,
        description: str = "",
        status: str = ConfigStatus.CONSTRUCTION.value,
        kind: ConfigKind = ConfigKind.EXAM_CONFIG,
    ) -> tuple[ExamConfiguration, list[str]]:
        """A new configuration from a ``.seb`` file (any packaging SEB writes); returns it with the import
        warnings (ignored or converted settings). Nothing is created when the file cannot be read."""
        fields = parse_input(ExamConfigCreate, {"name": name, "description": description, "status": status})
        self._require_create(actor, kind)
        if len(data) > MAX_IMPORT_BYTES:
            raise ValidationFailed({"file": f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB; "
                                            "it is not a SEB configuration"})
        if not data:
            raise ValidationFailed({"file": "the file is empty"})
        try:
            seb = decode_seb(data, password=password or None, max_size=MAX_IMPORT_BYTES)
        except (PasswordRequiredError, WrongPasswordError) as exc:
            raise ValidationFailed({"password": str(exc)}) from None
        except SebConfigError as exc:
            raise ValidationFailed({"file": str(exc)}) from None
        values, warnings = from_plist_dict(seb.settings, self.catalogue)
        async with self.db.transaction() as session:
            await self._check_unique(session, actor.institution_id, kind, fields.name)
            configuration = ExamConfiguration(
                institution_id=actor.institution_id, kind=kind.value, name=fields.name,
                description=fields.description,
                status=fields.status if kind is ConfigKind.EXAM_CONFIG else ConfigStatus.CONSTRUCTION.value,
                owner_id=actor.user_id, hidden_attributes="[]",
            )
            session.add(configuration)
            await session.flush()
            self._add_initial(session, configuration, self._encode(values), "imported from a SEB file", actor)
            record_activity(session, actor, Activity.IMPORT, kind.entity_type, configuration.id, configuration.name,
                            f"imported from a SEB file ({len(warnings)} warning{'s' if len(warnings) != 1 else ''})",
                            institution_id=configuration.institution_id)
        return configuration, warnings

    async def export(self, actor: Actor, config_id: int, *, password: str | None = None) -> bytes:
        """``SEBExamSettings.seb`` of the last published settings: SEB Server's plain XML, or with a password
        ``pswd`` + RNCryptor as SEB Server sends it to clients."""
        if password is not None and (password == "" or "\x00" in password):
            raise ValidationFailed({"password": "give a non-empty password, or none for a plain export"})
        async with self.db.transaction() as session:
            configuration = await self._load(session, actor, config_id)
            published = await self._last_published(session, configuration.id)
            data = exam_config_file(self._decode(published.settings), password=password, catalogue=self.catalogue)
            kind = ConfigKind(configuration.kind)
            record_activity(session, actor, Activity.EXPORT, kind.entity_type, configuration.id, configuration.name,
                            f"version {published.number}" + (", password protected" if password else ""),
                            institution_id=configuration.institution_id)
        return data

    async def config_key(self, actor: Actor, config_id: int) -> str:
        """The Config Key of the last published settings (what SEB computes from the exported file)."""
        async with self.db.read() as session:
            configuration = await self._load(session, actor, config_id)
            published = await self._last_published(session, configuration.id)
            return exam_config_key(self._decode(published.settings), self.catalogue)

    async def published_values(self, actor: Actor, config_id: int) -> SettingsValues:
        """The last published settings (plaintext passwords; for the exam domain and exports)."""
        async with self.db.read() as session:
            configuration = await self._load(session, actor, config_id)
            return self._decode((await self._last_published(session, configuration.id)).settings)

    # -- SEB clients (Exam API: the client, not a user, is authorised) ---------------------------

    async def published_revision_id(self, config_id: int) -> int:
        async with self.db.read() as session:
            return (await self._last_published(session, config_id)).id

    async def client_file(self, config_id: int, *, password: str | None) -> tuple[int, bytes]:
        """The last published settings as a SEB client downloads them, with the revision they come from."""
        async with self.db.read() as session:
            published = await self._last_published(session, config_id)
        return published.id, exam_config_file(self._decode(published.settings), password=password,
                                               catalogue=self.catalogue)

    # -- templates: attributes shown in the editor ---------------------------------------------

    def hidden_attributes(self, configuration: ExamConfiguration) -> list[str]:
        try:
            names = json.loads(configuration.hidden_attributes or "[]")
        except ValueError:
            return []
        return [name for name in names if isinstance(name, str)]

    async def set_attribute_shown(self, actor: Actor, template_id: int, attribute: str, shown: bool) -> list[str]:
        """Attach a setting to (``shown``) or detach it from the editor view of a template and of the exam
        configurations created from it later; returns the hidden settings."""
        attr = self._root(attribute)
        if attr.orientation is None:
            raise ValidationFailed({attribute: f"{attr.label} has no place on an editor tab"})
        async with self.db.transaction() as session:
            template = await self._load(session, actor, template_id, Privilege.MODIFY, kind=ConfigKind.TEMPLATE,
                                        lock=True)
            self._check_editable(template)
            hidden = set(self.hidden_attributes(template))
            if shown == (attribute not in hidden):
                return sorted(hidden)
            hidden = hidden - {attribute} if shown else hidden | {attribute}
            template.hidden_attributes = json.dumps(sorted(hidden))
            template.updated_at = utc_now()
            record_activity(session, actor, Activity.MODIFY, EntityType.CONFIGURATION_TEMPLATE, template.id,
                            template.name, f"{attribute} {'attached to' if shown else 'removed from'} the view",
                            institution_id=template.institution_id)
            return sorted(hidden)

    # -- internals -----------------------------------------------------------------------------

    @asynccontextmanager
    async def _unit(self, session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
        if session is not None:
            yield session
            return
        async with self.db.transaction() as own:
            yield own

    async def _modify(self, actor: Actor, config_id: int, apply: Callable[[SettingsValues], str | None]) -> None:
        """Load the working copy under a row lock, let ``apply`` change the values, store, log.

        ``apply`` returns the activity message, or None when it changed nothing."""
        async with self.db.transaction() as session:
            configuration = await self._load(session, actor, config_id, Privilege.MODIFY, lock=True)
            self._check_editable(configuration)
            working = await self._working(session, configuration.id)
            values = self._decode(working.settings)
            message = apply(values)
            if message is None:
                return
            working.settings = self._encode(values)
            configuration.updated_at = utc_now()
            kind = ConfigKind(configuration.kind)
            record_activity(session, actor, Activity.MODIFY, kind.entity_type, configuration.id, configuration.name,
                            message, institution_id=configuration.institution_id)

    async def _replace_working(
        self, session: AsyncSession, actor: Actor, configuration: ExamConfiguration,
        source: ExamConfigurationRevision, message: str,
    ) -> int:
        working = await self._working(session, configuration.id)
        changes = diff(self._decode(working.settings), self._decode(source.settings))
        if changes:
            working.settings = source.settings
            configuration.updated_at = utc_now()
            kind = ConfigKind(configuration.kind)
            record_activity(session, actor, Activity.MODIFY, kind.entity_type, configuration.id, configuration.name,
                            f"{message}: {len(changes)} change{'s' if len(changes) != 1 else ''}",
                            institution_id=configuration.institution_id)
        return len(changes)

    def _add_initial(self, session: AsyncSession, configuration: ExamConfiguration, settings_json: str,
                     summary: str, actor: Actor) -> None:
        now = utc_now()
        session.add(ExamConfigurationRevision(configuration_id=configuration.id, number=0, working=False,
                                              settings=settings_json, summary=summary, author=actor.username,
                                              published_at=now))
        session.add(ExamConfigurationRevision(configuration_id=configuration.id, number=None, working=True,
                                              settings=settings_json, author=actor.username))

    async def _load(
        self, session: AsyncSession, actor: Actor, config_id: int, privilege: Privilege = Privilege.READ, *,
        kind: ConfigKind | None = None, lock: bool = False,
    ) -> ExamConfiguration:
        noun = kind.noun if kind else "configuration"
        configuration = (
            await session.get(ExamConfiguration, config_id, with_for_update=lock or None)
            if isinstance(config_id, int) and is_valid_id(config_id) else None
        )
        if (configuration is None or (kind is not None and configuration.kind != kind.value)
                or not self._may(actor, Privilege.READ, configuration)):
            raise NotFound(f"{noun} {config_id} not found")
        if privilege > Privilege.READ and not self._may(actor, privilege, configuration):
            verb = "change" if privilege == Privilege.MODIFY else "create or delete"
            raise PermissionDenied(f"you may not {verb} {ConfigKind(configuration.kind).noun} "
                                   f"{configuration.name!r}")
        return configuration

    @staticmethod
    def _may(actor: Actor, privilege: Privilege, configuration: ExamConfiguration) -> bool:
        return actor.may(privilege, ConfigKind(configuration.kind).entity_type,
                         institution_id=configuration.institution_id, owner_id=configuration.owner_id)

    @staticmethod
    def _require_create(actor: Actor, kind: ConfigKind, institution_id: int | None = None) -> None:
        target = actor.institution_id if institution_id is None else institution_id
        if not actor.may(Privilege.WRITE, kind.entity_type, institution_id=target):
            raise PermissionDenied(f"you may not create {kind.noun}s")

    async def _template(self, session: AsyncSession, actor: Actor, template_id: int) -> ExamConfiguration:
        template = await session.get(ExamConfiguration, template_id) if is_valid_id(template_id) else None
        if (template is None or template.kind != ConfigKind.TEMPLATE or template.institution_id != actor.institution_id
                or not self._may(actor, Privilege.READ, template)):
            raise ValidationFailed({"template_id": f"configuration template {template_id} not found"})
        return template

    @staticmethod
    def _check_editable(configuration: ExamConfiguration) -> None:
        if configuration.status == ConfigStatus.ARCHIVED:
            raise Conflict(f"{ConfigKind(configuration.kind).noun} {configuration.name!r} is archived and read-only; "
                           "copy it to make changes")

    @staticmethod
    async def _check_unique(session: AsyncSession, institution_id: int, kind: ConfigKind, name: str,
                            exclude_id: int | None = None) -> None:
        statement = select(ExamConfiguration.id).where(
            ExamConfiguration.institution_id == institution_id, ExamConfiguration.kind == kind.value,
            func.lower(ExamConfiguration.name) == name.lower(),
        )
        if exclude_id is not None:
            statement = statement.where(ExamConfiguration.id != exclude_id)
        if (await session.execute(statement)).first():
            article = "an" if kind is ConfigKind.EXAM_CONFIG else "a"
            raise ValidationFailed({"name": f"{article} {kind.noun} named {name!r} already exists"})

    @staticmethod
    async def _working(session: AsyncSession, config_id: int) -> ExamConfigurationRevision:
        working = (await session.execute(
            select(ExamConfigurationRevision).where(ExamConfigurationRevision.configuration_id == config_id,
                                                    ExamConfigurationRevision.working.is_(True))
        )).scalars().first()
        if working is None:  # pragma: no cover - every configuration is created with one
            raise NotFound(f"configuration {config_id} has no working copy")
        return working

    @staticmethod
    async def _last_published(session: AsyncSession, config_id: int) -> ExamConfigurationRevision:
        revision = (await session.execute(
            select(ExamConfigurationRevision)
            .where(ExamConfigurationRevision.configuration_id == config_id,
                   ExamConfigurationRevision.working.is_(False))
            .order_by(ExamConfigurationRevision.number.desc())
            .limit(1)
        )).scalars().first()
        if revision is None:  # pragma: no cover - every configuration is created with version 0
            raise NotFound(f"configuration {config_id} has no published version")
        return revision

    # values <-> stored JSON (passwords encrypted) ------------------------------------------------

    def _encode(self, values: Mapping[str, Any]) -> str:
        stored = dict(values)
        for name in SECRET_ATTRIBUTES:
            if stored.get(name):
                stored[name] = self.secrets.encrypt(stored[name])
        return json.dumps(stored, separators=(",", ":"))

    def _decode(self, text: str) -> SettingsValues:
        values: SettingsValues = json.loads(text)
        for name in SECRET_ATTRIBUTES:
            if values.get(name):
                values[name] = self.secrets.decrypt(values[name])
        missing = [attr.name for attr in self.catalogue.root_attributes() if attr.name not in values]
        if missing:  # settings added to the catalogue after this revision was stored
            defaults = json.loads(self._defaults_json)
            for name in missing:
                values[name] = defaults.get(name)
        return values

    # validation ----------------------------------------------------------------------------------

    def _root(self, name: str) -> Attribute:
        attribute = self.catalogue.get(name) if isinstance(name, str) else None
        if attribute is None or not attribute.is_root:
            raise ValidationFailed({str(name): "unknown setting"})
        return attribute

    def _table(self, name: str) -> Attribute:
        attribute = self._root(name)
        if not attribute.is_table:
            raise ValidationFailed({name: f"{attribute.label} is not a table"})
        return attribute

    def _validate_setting(self, name: str, value: Any) -> Any:
        attribute = self._root(name)
        if not attribute.is_table:
            try:
                return validate_value(attribute, value)
            except ValueError as exc:
                raise ValidationFailed({name: str(exc)}) from None
        if value is None:
            return json.loads(self._defaults_json).get(name)
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
                cells = self._validate_cells(attribute, row, f"{name}[{index}]")
            except ValidationFailed as exc:
                errors.update(exc.field_errors)
                continue
            full = {child.key: child.default for child in self.catalogue.children(name)}
            full.update(cells)
            rows.append(full)
        if errors:
            raise ValidationFailed(errors)
        return rows

    def _validate_cells(self, table: Attribute, cells: Mapping[str, Any], path: str) -> Row:
        if not isinstance(cells, Mapping):
            raise ValidationFailed({path: "a row must be an object of column to value"})
        result: Row = {}
        errors: dict[str, str] = {}
        for key, value in cells.items():
            child = self.catalogue.child(table.name, key) if isinstance(key, str) else None
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

    def _check_exit_keys(self, values: SettingsValues, changed: Mapping[str, Any]) -> None:
        for name in EXIT_KEYS:
            if name in changed and name in self.catalogue:
                others = [other for other in EXIT_KEYS if other != name and values.get(other) == values.get(name)]
                if others:
                    raise ValidationFailed({name: f"{self.catalogue[name].label} must differ from "
                                                  f"{self.catalogue[others[0]].label} (the exit sequence needs "
                                                  "three different keys)"})

    @staticmethod
    def _check_index(table: str, rows: list[Any], index: int) -> None:
        if not isinstance(index, int) or not 0 <= index < len(rows):
            raise NotFound(f"{table} has no row {index + 1 if isinstance(index, int) else index}")

    @staticmethod
    def _change_text(name: str, value: Any) -> str:
        if name in SECRET_ATTRIBUTES:
            return f"{name} {'set' if value else 'cleared'}"
        return f"{name}={_describe_value(value)}"

    @staticmethod
    def _clean_summary(summary: str) -> str:
        summary = (summary or "").strip()
        if len(summary) > MAX_SUMMARY_LENGTH:
            raise ValidationFailed({"summary": f"at most {MAX_SUMMARY_LENGTH} characters"})
        try:
            return _check_text(summary)
        except ValueError as exc:
            raise ValidationFailed({"summary": str(exc)}) from None


def _filter_id(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed({name: "must be a number"}) from None
    if not is_valid_id(value):
        raise ValidationFailed({name: "must be a valid id"})
    return value


# -- user deletion "with all dependencies" deletes the exam configurations the user owns -------------


async def _find_owned(session: AsyncSession, user_id: int) -> list[Dependent]:
    rows = await session.execute(
        select(ExamConfiguration.id, ExamConfiguration.name)
        .where(ExamConfiguration.owner_id == user_id, ExamConfiguration.kind == ConfigKind.EXAM_CONFIG.value)
        .order_by(ExamConfiguration.name)
    )
    return [Dependent(EntityType.EXAM_CONFIGURATION.value, str(row.id), row.name) for row in rows]


async def _delete_owned(session: AsyncSession, user_id: int) -> None:
    # Ids first: MariaDB refuses a DELETE whose subquery reads the table it deletes from.
    owned = [int(d.entity_id) for d in await _find_owned(session, user_id)]
    if owned:
        await session.execute(delete(ExamConfigurationRevision)
                              .where(ExamConfigurationRevision.configuration_id.in_(owned)))
        await session.execute(delete(ExamConfiguration).where(ExamConfiguration.id.in_(owned)))


# Deleting a user account WITH_ALL deletes the exam configurations the user owns (wired in by Services.create).
OWNED_EXAM_CONFIGURATIONS = UserDependencies("Exam configurations", frozenset({DeleteOption.WITH_ALL}), _find_owned,
                                             _delete_owned)
