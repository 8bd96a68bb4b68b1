"""Exam templates: defaults an exam import applies (type, supporters, indicators, and a configuration template
from which an exam configuration is created and attached). One template per institution may be the
institutional default, preselected on import. Changing a template does not change exams imported with it.
"""

from __future__ import annotations

import builtins  # `list` is also a method name of a class here, shadowing the builtin in its signatures
import json
from collections.abc import Callable, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database, is_valid_id, utc_now
from sebframe.core.db.models import ExamTemplate, Institution
from sebframe.core.errors import NotFound, PermissionDenied, ValidationFailed
from sebframe.core.exams.indicators import (
    IndicatorSpec,
    check_unique_names,
    specs_json,
    specs_of,
    validate_indicator,
)
from sebframe.core.exams.schemas import MAX_INDICATORS, ExamTemplateInput, IndicatorInput
from sebframe.core.exams.supporters import check_supporters
from sebframe.core.exams.types import ExamType
from sebframe.core.paging import ListParams, Page, contains, fetch_page
from sebframe.core.plugins import PluginRegistry
from sebframe.core.sebconfig.exam_configs import ExamConfigService

EXAM_TEMPLATE_FILTERS = ("name", "exam_type", "institution_id")
_SORTABLE = {"name": ExamTemplate.name, "exam_type": ExamTemplate.exam_type,
             "institutional_default": ExamTemplate.institutional_default,
             "institution_id": ExamTemplate.institution_id}


def template_supporter_ids(template: ExamTemplate) -> list[int]:
    try:
        ids = json.loads(template.supporter_ids or "[]")
    except ValueError:
        return []
    return [value for value in ids if isinstance(value, int)]


def template_indicators(template: ExamTemplate) -> list[IndicatorSpec]:
    return specs_of(template.indicators)


class ExamTemplateService:
    def __init__(self, db: Database, plugins: PluginRegistry, exam_configs: ExamConfigService) -> None:
        self.db = db
        self.plugins = plugins
        self.exam_configs = exam_configs

    # -- queries -------------------------------------------------------------------------------

    async def list(self, actor: Actor, params: ListParams) -> Page[ExamTemplate]:
        scope = actor.scope(Privilege.READ, EntityType.EXAM_TEMPLATE)
        if scope == Scope.NONE:
            raise PermissionDenied("you may not see exam templates")
        statement = select(ExamTemplate)
        if scope != Scope.OVERALL:
            statement = statement.where(ExamTemplate.institution_id == actor.institution_id)
        filters = params.filters
        if "name" in filters:
            statement = statement.where(contains(ExamTemplate.name, filters["name"]))
        if "exam_type" in filters:
            if filters["exam_type"] not in ExamType.__members__:
                raise ValidationFailed({"exam_type": f"choose one of {', '.join(ExamType)}"})
            statement = statement.where(ExamTemplate.exam_type == filters["exam_type"])
        if "institution_id" in filters:
            if not filters["institution_id"].isdigit():
                raise ValidationFailed({"institution_id": "must be a number"})
            statement = statement.where(ExamTemplate.institution_id == int(filters["institution_id"]))
        async with self.db.read() as session:
            return await fetch_page(session, statement, params, _SORTABLE, [ExamTemplate.name, ExamTemplate.id])

    async def get(self, actor: Actor, template_id: int) -> ExamTemplate:
        async with self.db.read() as session:
            return await self._load(session, actor, template_id)

    async def choices(self, actor: Actor, institution_id: int | None = None) -> builtins.list[ExamTemplate]:
        """The templates an import in the institution can use (institutional default first)."""
        target = actor.institution_id if institution_id is None else institution_id
        if not actor.may(Privilege.READ, EntityType.EXAM_TEMPLATE, institution_id=target):
            return []
        async with self.db.read() as session:
            rows = await session.execute(select(ExamTemplate).where(ExamTemplate.institution_id == target)
                                         .order_by(ExamTemplate.institutional_default.desc(), ExamTemplate.name))
            return list(rows.scalars())

    async def for_import(self, session: AsyncSession, actor: Actor, template_id: int,
                         institution_id: int) -> ExamTemplate:
        template = await session.get(ExamTemplate, template_id) if is_valid_id(template_id) else None
        if (template is None or template.institution_id != institution_id
                or not actor.may(Privilege.READ, EntityType.EXAM_TEMPLATE, institution_id=institution_id)):
            raise ValidationFailed({"exam_template_id": f"exam template {template_id} not found"})
        return template

    def may(self, actor: Actor, privilege: Privilege, template: ExamTemplate) -> bool:
        return actor.may(privilege, EntityType.EXAM_TEMPLATE, institution_id=template.institution_id)

    def may_create(self, actor: Actor) -> bool:
        return actor.may(Privilege.WRITE, EntityType.EXAM_TEMPLATE, institution_id=actor.institution_id)

    # -- changes -------------------------------------------------------------------------------

    async def create(self, actor: Actor, data: ExamTemplateInput) -> ExamTemplate:
        if not self.may_create(actor):
            raise PermissionDenied("you may not create exam templates")
        indicators = self._indicators(data.indicators or [])
        await self._check_configuration_template(actor, data.configuration_template_id)
        async with self.db.transaction() as session:
            institution_id = actor.institution_id
            await check_supporters(session, institution_id, data.supporter_ids, required=False)
            await self._check_unique(session, institution_id, data.name)
            if data.institutional_default:
                await self._clear_default(session, institution_id)
            template = ExamTemplate(
                institution_id=institution_id, name=data.name, description=data.description,
                institutional_default=data.institutional_default, exam_type=data.exam_type,
                configuration_template_id=data.configuration_template_id,
                supporter_ids=json.dumps(data.supporter_ids), indicators=specs_json(indicators),
            )
            session.add(template)
            await session.flush()
            record_activity(session, actor, Activity.CREATE, EntityType.EXAM_TEMPLATE, template.id, template.name,
                            "institutional default" if data.institutional_default else "",
                            institution_id=institution_id)
        return template

    async def update(self, actor: Actor, template_id: int, data: ExamTemplateInput) -> ExamTemplate:
        indicators = self._indicators(data.indicators) if data.indicators is not None else None
        await self._check_configuration_template(actor, data.configuration_template_id)
        async with self.db.transaction() as session:
            template = await self._load(session, actor, template_id, Privilege.WRITE, lock=True)
            await check_supporters(session, template.institution_id, data.supporter_ids, required=False)
            await self._check_unique(session, template.institution_id, data.name, exclude_id=template.id)
            if data.institutional_default and not template.institutional_default:
                await self._clear_default(session, template.institution_id, exclude_id=template.id)
            template.name, template.description = data.name, data.description
            template.institutional_default, template.exam_type = data.institutional_default, data.exam_type
            template.configuration_template_id = data.configuration_template_id
            template.supporter_ids = json.dumps(data.supporter_ids)
            if indicators is not None:
                template.indicators = specs_json(indicators)
            template.updated_at = utc_now()
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM_TEMPLATE, template.id, template.name,
                            institution_id=template.institution_id)
        return template

    async def delete(self, actor: Actor, template_id: int) -> ExamTemplate:
        """Exams imported with it keep everything; they only lose the reference."""
        async with self.db.transaction() as session:
            template = await self._load(session, actor, template_id, Privilege.WRITE, lock=True)
            await session.delete(template)
            record_activity(session, actor, Activity.DELETE, EntityType.EXAM_TEMPLATE, template.id, template.name,
                            institution_id=template.institution_id)
        return template

    # -- the template's indicators (by position) -----------------------------------------------

    async def add_indicator(self, actor: Actor, template_id: int, data: IndicatorInput) -> IndicatorSpec:
        spec = validate_indicator(data, self.plugins.indicator_types())

        def change(specs: list[IndicatorSpec]) -> str:
            if len(specs) >= MAX_INDICATORS:
                raise ValidationFailed({"name": f"an exam template holds at most {MAX_INDICATORS} indicators"})
            specs.append(spec)
            return f"indicator {spec.name} added"

        await self._change_indicators(actor, template_id, change)
        return spec

    async def update_indicator(self, actor: Actor, template_id: int, index: int,
                               data: IndicatorInput) -> IndicatorSpec:
        spec = validate_indicator(data, self.plugins.indicator_types())

        def change(specs: list[IndicatorSpec]) -> str:
            _check_index(specs, index)
            specs[index] = spec
            return f"indicator {spec.name} changed"

        await self._change_indicators(actor, template_id, change)
        return spec

    async def delete_indicator(self, actor: Actor, template_id: int, index: int) -> IndicatorSpec:
        removed: list[IndicatorSpec] = []

        def change(specs: list[IndicatorSpec]) -> str:
            _check_index(specs, index)
            removed.append(specs.pop(index))
            return f"indicator {removed[0].name} deleted"

        await self._change_indicators(actor, template_id, change)
        return removed[0]

    async def _change_indicators(self, actor: Actor, template_id: int,
                                 change: Callable[[builtins.list[IndicatorSpec]], str]) -> None:
        async with self.db.transaction() as session:
            template = await self._load(session, actor, template_id, Privilege.WRITE, lock=True)
            specs = template_indicators(template)
            message = change(specs)
            try:
                check_unique_names(specs)
            except ValidationFailed:
                raise ValidationFailed({"name": "this exam template has an indicator of that name already"}) from None
            template.indicators = specs_json(specs)
            template.updated_at = utc_now()
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM_TEMPLATE, template.id, template.name,
                            message, institution_id=template.institution_id)

    # -- rules ---------------------------------------------------------------------------------

    def _indicators(self, items: Sequence[IndicatorInput]) -> builtins.list[IndicatorSpec]:
        types = self.plugins.indicator_types()
        specs: list[IndicatorSpec] = []
        errors: dict[str, str] = {}
        for index, item in enumerate(items):
            try:
                specs.append(validate_indicator(item, types))
            except ValidationFailed as exc:
                errors.update({f"indicators.{index}.{key}": text for key, text in exc.field_errors.items()})
        if errors:
            raise ValidationFailed(errors)
        check_unique_names(specs)
        return specs

    async def _check_configuration_template(self, actor: Actor, template_id: int | None) -> None:
        if template_id is None:
            return
        if template_id not in {template.id for template in await self.exam_configs.template_choices(actor)}:
            raise ValidationFailed({"configuration_template_id": f"configuration template {template_id} not found "
                                                                 "in your institution"})

    @staticmethod
    async def _clear_default(session: AsyncSession, institution_id: int, exclude_id: int | None = None) -> None:
        # Lock the institution so two templates saved as default at the same moment cannot both stay default.
        await session.execute(select(Institution.id).where(Institution.id == institution_id).with_for_update())
        statement = update(ExamTemplate).where(ExamTemplate.institution_id == institution_id,
                                               ExamTemplate.institutional_default.is_(True))
        if exclude_id is not None:
            statement = statement.where(ExamTemplate.id != exclude_id)
        await session.execute(statement.values(institutional_default=False))

    async def _load(self, session: AsyncSession, actor: Actor, template_id: int,
                    privilege: Privilege = Privilege.READ, *, lock: bool = False) -> ExamTemplate:
        template = (await session.get(ExamTemplate, template_id, with_for_update=lock or None)
                    if isinstance(template_id, int) and is_valid_id(template_id) else None)
        if template is None or not self.may(actor, Privilege.READ, template):
            raise NotFound(f"exam template {template_id} not found")
        if privilege > Privilege.READ and not self.may(actor, privilege, template):
            raise PermissionDenied(f"you may not change exam template {template.name!r}")
        return template

    @staticmethod
    async def _check_unique(session: AsyncSession, institution_id: int, name: str,
                            exclude_id: int | None = None) -> None:
        statement = select(ExamTemplate.id).where(ExamTemplate.institution_id == institution_id,
                                                  func.lower(ExamTemplate.name) == name.lower())
        if exclude_id is not None:
            statement = statement.where(ExamTemplate.id != exclude_id)
        if (await session.execute(statement)).first():
            raise ValidationFailed({"name": f"an exam template named {name!r} already exists"})


def _check_index(specs: list[IndicatorSpec], index: int) -> None:
    if not isinstance(index, int) or not 0 <= index < len(specs):
        raise NotFound(f"the exam template has no indicator {index}")
