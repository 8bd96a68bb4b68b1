"""Kinds and states of configuration nodes, and what the service gives back (working copy, revisions, history)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType
from sebframe.core.db.models import ExamConfiguration

from ..settings import Change, SettingsValues

__all__ = [
    "STATUS_LABELS",
    "ConfigKind",
    "ConfigStatus",
    "History",
    "PublishGuard",
    "PublishListener",
    "RevisionInfo",
    "WorkingSettings",
]


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
