"""Monitoring indicators of exams (and of exam templates): validation against the installed indicator types.

The core computes nothing indicator-specific: the types (LAST_PING, ERROR_COUNT, ...) come from plugins
(``sebframe_indicator_types``, e.g. the sebframe-indicators distribution). An indicator here is only its
definition: name, type, default colour, tags and thresholds (value + colour, sorted by value).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database, is_valid_id
from sebframe.core.db.models import Indicator
from sebframe.core.errors import NotFound, ValidationFailed
from sebframe.core.exams.access import load_exam
from sebframe.core.exams.schemas import IndicatorInput
from sebframe.core.plugins import PluginRegistry
from sebframe.types import IndicatorType

PING_TYPE = "LAST_PING"
# SEB Server's default ping indicator on import (application-ws.properties, reference §1.4).
DEFAULT_PING_THRESHOLDS = ((5000.0, "ffc20e"), (10000.0, "ff7e00"), (15000.0, "ed1c24"))
NO_TYPES = "no indicator types installed (install a plugin providing them, e.g. sebframe-indicators)"


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def format_value(value: float) -> str:
    return f"{_number(value)}"


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """A validated indicator definition, as stored in an exam's ``indicator`` row or an exam template's JSON."""

    name: str
    indicator_type: str
    color: str = "ffffff"
    tags: tuple[str, ...] = ()
    thresholds: tuple[tuple[float, str], ...] = ()

    def thresholds_json(self) -> str:
        return json.dumps([{"value": _number(value), "color": color} for value, color in self.thresholds])

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "indicator_type": self.indicator_type, "color": self.color,
                "tags": list(self.tags),
                "thresholds": [{"value": _number(value), "color": color} for value, color in self.thresholds]}

    def to_input(self) -> dict[str, Any]:
        return self.to_json()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IndicatorSpec:
        thresholds = tuple((float(item["value"]), str(item["color"])) for item in data.get("thresholds") or [])
        return cls(name=str(data["name"]), indicator_type=str(data["indicator_type"]),
                   color=str(data.get("color") or "ffffff"), tags=tuple(data.get("tags") or ()),
                   thresholds=thresholds)

    @classmethod
    def from_row(cls, row: Indicator) -> IndicatorSpec:
        return cls(name=row.name, indicator_type=row.indicator_type, color=row.color,
                   tags=tuple(tag for tag in row.tags.split(",") if tag), thresholds=parse_thresholds(row.thresholds))


def parse_thresholds(text: str) -> tuple[tuple[float, str], ...]:
    try:
        items = json.loads(text or "[]")
        return tuple(sorted((float(item["value"]), str(item["color"])) for item in items))
    except (ValueError, TypeError, KeyError):
        return ()


def default_ping(types: Mapping[str, IndicatorType]) -> IndicatorSpec | None:
    """The "Ping" indicator every exam gets on import without template indicators; None without LAST_PING."""
    ping = types.get(PING_TYPE)
    if ping is None:
        return None
    thresholds = tuple((float(t.value), t.color) for t in ping.default_thresholds) or DEFAULT_PING_THRESHOLDS
    return IndicatorSpec("Ping", PING_TYPE, "ffffff", (), thresholds)


def validate_indicator(data: IndicatorInput, types: Mapping[str, IndicatorType]) -> IndicatorSpec:
    """The indicator as it will be stored, or ``ValidationFailed`` with one message per field."""
    errors: dict[str, str] = {}
    name = data.indicator_type.strip().upper()
    indicator_type = types.get(name)
    if not types:
        errors["indicator_type"] = NO_TYPES
    elif indicator_type is None:
        choices = ", ".join(f"{t.name} ({t.display_name})" for t in types.values())
        errors["indicator_type"] = f"unknown indicator type {data.indicator_type!r}; choose one of {choices}"
    seen: set[float] = set()
    for threshold in data.thresholds:
        if threshold.value in seen:
            errors["thresholds"] = (f"threshold values must be unique: {format_value(threshold.value)} is given "
                                    "more than once")
            break
        seen.add(threshold.value)
    if errors:
        raise ValidationFailed(errors)
    assert indicator_type is not None
    if indicator_type.fixed_tags:
        tags: tuple[str, ...] = tuple(indicator_type.fixed_tags)
    elif indicator_type.uses_tags:
        tags = tuple(data.tags)
        if len(",".join(tags)) > 1024:
            raise ValidationFailed({"tags": "the tags are too long (at most 1024 characters together)"})
    else:
        tags = ()  # the type does not read tags
    thresholds = tuple(sorted((threshold.value, threshold.color) for threshold in data.thresholds))
    return IndicatorSpec(data.name, indicator_type.name, data.color, tags, thresholds)


def check_unique_names(specs: Sequence[IndicatorSpec]) -> None:
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        key = spec.name.lower()
        if key in seen:
            raise ValidationFailed({f"indicators.{index}.name": f"an indicator named {spec.name!r} exists already"})
        seen.add(key)


def type_label(types: Mapping[str, IndicatorType], name: str) -> str:
    found = types.get(name)
    return found.display_name if found else f"{name} (not installed)"


def new_row(exam_id: int, spec: IndicatorSpec) -> Indicator:
    return Indicator(exam_id=exam_id, name=spec.name, indicator_type=spec.indicator_type, color=spec.color,
                     tags=",".join(spec.tags), thresholds=spec.thresholds_json())


class IndicatorService:
    """The indicators of one exam. Reading follows the exam; creating and deleting need the exam's write
    privilege, changing one its modify privilege (so assigned supporters may adjust thresholds)."""

    def __init__(self, db: Database, plugins: PluginRegistry) -> None:
        self.db = db
        self.plugins = plugins

    def types(self) -> dict[str, IndicatorType]:
        return self.plugins.indicator_types()

    async def list(self, actor: Actor, exam_id: int) -> list[Indicator]:
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id)
            statement = select(Indicator).where(Indicator.exam_id == exam.id).order_by(Indicator.id)
            return list((await session.execute(statement)).scalars())

    async def get(self, actor: Actor, exam_id: int, indicator_id: int) -> Indicator:
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id)
            return await self._indicator(session, exam.id, indicator_id)

    async def create(self, actor: Actor, exam_id: int, data: IndicatorInput) -> Indicator:
        spec = validate_indicator(data, self.types())
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.WRITE, lock=True,
                                   doing="add indicators to")
            await self._check_name(session, exam.id, spec.name)
            row = new_row(exam.id, spec)
            session.add(row)
            await session.flush()
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"indicator {spec.name} ({spec.indicator_type}) added",
                            institution_id=exam.institution_id)
        return row

    async def update(self, actor: Actor, exam_id: int, indicator_id: int, data: IndicatorInput) -> Indicator:
        spec = validate_indicator(data, self.types())
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.MODIFY, lock=True,
                                   doing="change the indicators of")
            row = await self._indicator(session, exam.id, indicator_id)
            await self._check_name(session, exam.id, spec.name, exclude_id=row.id)
            row.name, row.indicator_type, row.color = spec.name, spec.indicator_type, spec.color
            row.tags, row.thresholds = ",".join(spec.tags), spec.thresholds_json()
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"indicator {spec.name} changed", institution_id=exam.institution_id)
        return row

    async def delete(self, actor: Actor, exam_id: int, indicator_id: int) -> Indicator:
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.WRITE, lock=True,
                                   doing="remove indicators from")
            row = await self._indicator(session, exam.id, indicator_id)
            await session.delete(row)
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"indicator {row.name} deleted", institution_id=exam.institution_id)
        return row

    @staticmethod
    async def _indicator(session: AsyncSession, exam_id: int, indicator_id: int) -> Indicator:
        row = await session.get(Indicator, indicator_id) if is_valid_id(indicator_id) else None
        if row is None or row.exam_id != exam_id:
            raise NotFound(f"indicator {indicator_id} not found")
        return row

    @staticmethod
    async def _check_name(session: AsyncSession, exam_id: int, name: str, exclude_id: int | None = None) -> None:
        statement = select(Indicator.id).where(Indicator.exam_id == exam_id,
                                               func.lower(Indicator.name) == name.lower())
        if exclude_id is not None:
            statement = statement.where(Indicator.id != exclude_id)
        if (await session.execute(statement)).first():
            raise ValidationFailed({"name": f"this exam has an indicator named {name!r} already"})


def specs_json(specs: Iterable[IndicatorSpec]) -> str:
    return json.dumps([spec.to_json() for spec in specs])


def specs_of(text: str) -> list[IndicatorSpec]:
    try:
        return [IndicatorSpec.from_json(item) for item in json.loads(text or "[]")]
    except (ValueError, TypeError, KeyError):
        return []
