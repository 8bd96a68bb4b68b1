"""Loading a configuration for an actor, and the rules every change checks: privileges, a template of the
actor's institution, archived means read-only, names unique per institution and kind."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import Privilege
from sebframe.core.db import is_valid_id
from sebframe.core.db.models import ExamConfiguration
from sebframe.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

from .types import ConfigKind, ConfigStatus

__all__ = ["check_editable", "check_unique_name", "load_configuration", "load_template", "may", "require_create"]


async def load_configuration(
    session: AsyncSession, actor: Actor, config_id: int, privilege: Privilege = Privilege.READ, *,
    kind: ConfigKind | None = None, lock: bool = False,
) -> ExamConfiguration:
    """The configuration if the actor may see it (else ``NotFound``) and holds ``privilege`` on it."""
    noun = kind.noun if kind else "configuration"
    configuration = (
        await session.get(ExamConfiguration, config_id, with_for_update=lock or None)
        if isinstance(config_id, int) and is_valid_id(config_id) else None
    )
    if (configuration is None or (kind is not None and configuration.kind != kind.value)
            or not may(actor, Privilege.READ, configuration)):
        raise NotFound(f"{noun} {config_id} not found")
    if privilege > Privilege.READ and not may(actor, privilege, configuration):
        verb = "change" if privilege == Privilege.MODIFY else "create or delete"
        raise PermissionDenied(f"you may not {verb} {ConfigKind(configuration.kind).noun} "
                               f"{configuration.name!r}")
    return configuration


def may(actor: Actor, privilege: Privilege, configuration: ExamConfiguration) -> bool:
    return actor.may(privilege, ConfigKind(configuration.kind).entity_type,
                     institution_id=configuration.institution_id, owner_id=configuration.owner_id)


def require_create(actor: Actor, kind: ConfigKind, institution_id: int | None = None) -> None:
    target = actor.institution_id if institution_id is None else institution_id
    if not actor.may(Privilege.WRITE, kind.entity_type, institution_id=target):
        raise PermissionDenied(f"you may not create {kind.noun}s")


async def load_template(session: AsyncSession, actor: Actor, template_id: int) -> ExamConfiguration:
    """A template of the actor's institution to create an exam configuration from (errors on ``template_id``)."""
    template = await session.get(ExamConfiguration, template_id) if is_valid_id(template_id) else None
    if (template is None or template.kind != ConfigKind.TEMPLATE or template.institution_id != actor.institution_id
            or not may(actor, Privilege.READ, template)):
        raise ValidationFailed({"template_id": f"configuration template {template_id} not found"})
    return template


def check_editable(configuration: ExamConfiguration) -> None:
    if configuration.status == ConfigStatus.ARCHIVED:
        raise Conflict(f"{ConfigKind(configuration.kind).noun} {configuration.name!r} is archived and read-only; "
                       "copy it to make changes")


async def check_unique_name(session: AsyncSession, institution_id: int, kind: ConfigKind, name: str,
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
