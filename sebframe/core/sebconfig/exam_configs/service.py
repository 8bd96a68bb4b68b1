"""``ExamConfigService``: list, view, create, change and delete configurations and templates, attach them to
exams; the settings are in its parts (``working_copy``, ``revisions``, ``files``, ``template_attributes``)."""

from __future__ import annotations

import builtins  # `list` is also a method name of a class here, shadowing the builtin in its signatures
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database, is_valid_id, utc_now
from sebframe.core.db.models import ExamConfiguration, ExamConfigurationRevision
from sebframe.core.errors import Conflict, PermissionDenied, ValidationFailed
from sebframe.core.paging import ListParams, Page, contains, fetch_page
from sebframe.core.secrets import SecretBox
from sebframe.core.validation import parse_input

from ..catalogue import Catalogue, load_catalogue
from . import access
from .access import check_editable, check_unique_name, load_configuration, load_template, require_create
from .files import ConfigFiles
from .revisions import Revisions
from .schemas import ExamConfigCreate, ExamConfigUpdate
from .storage import SettingsStorage, add_initial_revisions, last_published
from .template_attributes import TemplateAttributes
from .types import ConfigKind, ConfigStatus
from .working_copy import WorkingCopy

__all__ = ["EXAM_CONFIG_FILTERS", "ExamConfigService"]

EXAM_CONFIG_FILTERS = ("name", "description", "status", "template_id", "institution_id")


class ExamConfigService:
    """Exam configurations and configuration templates (``kind``) with their SEB settings revisions."""

    def __init__(self, db: Database, secrets: SecretBox, catalogue: Catalogue | None = None) -> None:
        self.db = db
        self.catalogue = catalogue if catalogue is not None else load_catalogue()
        self._storage = SettingsStorage(secrets, self.catalogue)
        self.working_copy = WorkingCopy(db, self._storage)
        self.revisions = Revisions(db, self._storage)
        self.files = ConfigFiles(db, self._storage)
        self.template_attributes = TemplateAttributes(db, self.catalogue)

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
            return await load_configuration(session, actor, config_id, kind=kind)

    async def template_choices(self, actor: Actor) -> builtins.list[ExamConfiguration]:
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
            return {row.id: row.name for row in rows if access.may(actor, Privilege.READ, row)}

    def may(self, actor: Actor, privilege: Privilege, configuration: ExamConfiguration) -> bool:
        """Whether ``actor`` holds ``privilege`` on a configuration (screens enable actions by it)."""
        return access.may(actor, privilege, configuration)

    # -- create, edit, delete ------------------------------------------------------------------

    async def create(
        self, actor: Actor, data: ExamConfigCreate, *, kind: ConfigKind = ConfigKind.EXAM_CONFIG
    ) -> ExamConfiguration:
        """Create with the default settings, or (exam configurations) with a template's published settings
        and its hidden attributes."""
        require_create(actor, kind)
        async with self.db.transaction() as session:
            values_json = self._storage.defaults_json
            hidden = "[]"
            template_name = ""
            if data.template_id is not None:
                if kind is not ConfigKind.EXAM_CONFIG:
                    raise ValidationFailed({"template_id": "only exam configurations start from a template"})
                template = await load_template(session, actor, data.template_id)
                values_json = (await last_published(session, template.id)).settings
                hidden = template.hidden_attributes
                template_name = template.name
            await check_unique_name(session, actor.institution_id, kind, data.name)
            configuration = ExamConfiguration(
                institution_id=actor.institution_id, kind=kind.value, name=data.name, description=data.description,
                status=data.status if kind is ConfigKind.EXAM_CONFIG else ConfigStatus.CONSTRUCTION.value,
                template_id=data.template_id, owner_id=actor.user_id, hidden_attributes=hidden,
            )
            session.add(configuration)
            await session.flush()
            summary = f"from template {template_name}" if template_name else "default settings"
            add_initial_revisions(session, configuration, values_json, summary, actor)
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
            configuration = await load_configuration(session, actor, config_id, Privilege.MODIFY, lock=True)
            kind = ConfigKind(configuration.kind)
            check_editable(configuration)
            new_status = changes.get("status")
            if new_status is not None and new_status != configuration.status:
                if configuration.status == ConfigStatus.IN_USE:
                    raise Conflict(f"{kind.noun} {configuration.name!r} is in use by an exam; its status changes "
                                   "when it is detached from the exam")
                configuration.status = new_status
            if "name" in changes and changes["name"] != configuration.name:
                await check_unique_name(session, configuration.institution_id, kind, changes["name"],
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
            configuration = await load_configuration(session, actor, config_id, Privilege.WRITE, lock=True)
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
            configuration = await load_configuration(unit, actor, config_id, Privilege.MODIFY,
                                                     kind=ConfigKind.EXAM_CONFIG, lock=True)
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
            configuration = await load_configuration(unit, actor, config_id, Privilege.MODIFY,
                                                     kind=ConfigKind.EXAM_CONFIG, lock=True)
            if configuration.status == ConfigStatus.IN_USE:
                configuration.status = ConfigStatus.READY_TO_USE.value
                configuration.updated_at = utc_now()
                record_activity(unit, actor, Activity.MODIFY, EntityType.EXAM_CONFIGURATION, configuration.id,
                                configuration.name, note or "detached from its exam: Ready To Use",
                                institution_id=configuration.institution_id)
        return configuration

    @asynccontextmanager
    async def _unit(self, session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
        if session is not None:
            yield session
            return
        async with self.db.transaction() as own:
            yield own


def _filter_id(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed({name: "must be a number"}) from None
    if not is_valid_id(value):
        raise ValidationFailed({name: "must be a valid id"})
    return value
