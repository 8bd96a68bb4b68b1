"""How settings revisions are stored: the working copy and last published rows, the initial revisions of a new
configuration, and values <-> the stored JSON with the two passwords encrypted by the server key."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.actor import Actor
from sebframe.core.db import utc_now
from sebframe.core.db.models import ExamConfiguration, ExamConfigurationRevision
from sebframe.core.errors import NotFound
from sebframe.core.secrets import SecretBox

from ..catalogue import Catalogue
from ..settings import SECRET_ATTRIBUTES, SettingsValues, default_values

__all__ = ["SettingsStorage", "add_initial_revisions", "last_published", "working_copy_row"]


class SettingsStorage:
    """Settings values <-> the JSON of a revision row (passwords encrypted), completed from the catalogue."""

    def __init__(self, secrets: SecretBox, catalogue: Catalogue) -> None:
        self.secrets = secrets
        self.catalogue = catalogue
        self.defaults_json = self.encode(default_values(catalogue))  # no passwords set: plain JSON

    def defaults(self) -> SettingsValues:
        """SEB Server's defaults as fresh objects (callers may change them)."""
        defaults: SettingsValues = json.loads(self.defaults_json)
        return defaults

    def encode(self, values: Mapping[str, Any]) -> str:
        stored = dict(values)
        for name in SECRET_ATTRIBUTES:
            if stored.get(name):
                stored[name] = self.secrets.encrypt(stored[name])
        return json.dumps(stored, separators=(",", ":"))

    def decode(self, text: str) -> SettingsValues:
        values: SettingsValues = json.loads(text)
        for name in SECRET_ATTRIBUTES:
            if values.get(name):
                values[name] = self.secrets.decrypt(values[name])
        missing = [attr.name for attr in self.catalogue.root_attributes() if attr.name not in values]
        if missing:  # settings added to the catalogue after this revision was stored
            defaults = self.defaults()
            for name in missing:
                values[name] = defaults.get(name)
        return values


async def working_copy_row(session: AsyncSession, config_id: int) -> ExamConfigurationRevision:
    working = (await session.execute(
        select(ExamConfigurationRevision).where(ExamConfigurationRevision.configuration_id == config_id,
                                                ExamConfigurationRevision.working.is_(True))
    )).scalars().first()
    if working is None:  # pragma: no cover - every configuration is created with one
        raise NotFound(f"configuration {config_id} has no working copy")
    return working


async def last_published(session: AsyncSession, config_id: int) -> ExamConfigurationRevision:
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


def add_initial_revisions(session: AsyncSession, configuration: ExamConfiguration, settings_json: str,
                          summary: str, actor: Actor) -> None:
    """Version 0 and the working copy of a new configuration, both with ``settings_json``."""
    now = utc_now()
    session.add(ExamConfigurationRevision(configuration_id=configuration.id, number=0, working=False,
                                          settings=settings_json, summary=summary, author=actor.username,
                                          published_at=now))
    session.add(ExamConfigurationRevision(configuration_id=configuration.id, number=None, working=True,
                                          settings=settings_json, author=actor.username))
