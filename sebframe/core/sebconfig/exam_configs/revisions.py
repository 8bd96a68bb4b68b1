"""Numbered revisions: publish the working copy (after the publish guards; then the listeners are told), undo
and restore into the working copy, the history with what changed, and copies of a configuration."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import Privilege
from sebframe.core.db import Database, is_valid_id, utc_now
from sebframe.core.db.models import ExamConfiguration, ExamConfigurationRevision
from sebframe.core.errors import Conflict, NotFound, ValidationFailed
from sebframe.core.validation import parse_input

from ..settings import SECRET_ATTRIBUTES, Change, SettingsValues, diff
from .access import check_editable, check_unique_name, load_configuration, require_create
from .schemas import ExamConfigCreate
from .storage import SettingsStorage, add_initial_revisions, last_published, working_copy_row
from .types import ConfigKind, ConfigStatus, History, PublishGuard, PublishListener, RevisionInfo

__all__ = ["MAX_SUMMARY_LENGTH", "Revisions"]

log = logging.getLogger(__name__)

MAX_SUMMARY_LENGTH = 2000


class Revisions:
    def __init__(self, db: Database, storage: SettingsStorage) -> None:
        self.db = db
        self.storage = storage
        # Checked before every publish; the exam domain registers "no active SEB connections" here.
        self.publish_guards: list[PublishGuard] = []
        # Told after every publish; the exam domain re-applies SEB restrictions with the new Config Key.
        self.publish_listeners: list[PublishListener] = []

    async def publish(self, actor: Actor, config_id: int, summary: str = "") -> RevisionInfo:
        """Save the working copy as the next revision, which exports and Config Keys use from now on."""
        summary = _clean_summary(summary)
        async with self.db.transaction() as session:
            configuration = await load_configuration(session, actor, config_id, Privilege.MODIFY, lock=True)
            check_editable(configuration)
            working = await working_copy_row(session, configuration.id)
            published = await last_published(session, configuration.id)
            changes = diff(self.storage.decode(published.settings), self.storage.decode(working.settings))
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
            configuration = await load_configuration(session, actor, config_id, Privilege.MODIFY, lock=True)
            check_editable(configuration)
            published = await last_published(session, configuration.id)
            return await self._replace_working(session, actor, configuration, published,
                                               f"unpublished changes undone (back to version {published.number})")

    async def restore(self, actor: Actor, config_id: int, revision_id: int) -> int:
        """Working copy := the values of a revision (publish to make them current); returns the changes."""
        async with self.db.transaction() as session:
            configuration = await load_configuration(session, actor, config_id, Privilege.MODIFY, lock=True)
            check_editable(configuration)
            revision = await session.get(ExamConfigurationRevision, revision_id) if is_valid_id(revision_id) else None
            if revision is None or revision.configuration_id != configuration.id or revision.working:
                raise NotFound(f"revision {revision_id} not found")
            return await self._replace_working(session, actor, configuration, revision,
                                               f"working copy restored from version {revision.number}")

    async def history(self, actor: Actor, config_id: int) -> History:
        async with self.db.read() as session:
            configuration = await load_configuration(session, actor, config_id)
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
            values = self.storage.decode(revision.settings)
            changes = [] if previous is None else [_secret_masked(c) for c in diff(previous, values)]
            infos.append(RevisionInfo(revision.id, revision.number or 0, revision.summary, revision.author,
                                      revision.published_at, changes, revision is numbered[-1]))
            previous = values
        pending = [_secret_masked(c) for c in diff(previous or {}, self.storage.decode(working.settings))]
        return History(configuration, list(reversed(infos)), pending)

    async def copy(
        self, actor: Actor, config_id: int, name: str, *, description: str = "", with_history: bool = False
    ) -> ExamConfiguration:
        """A new configuration (Under Construction) with the published settings; ``with_history`` also copies
        the revisions. Unpublished changes are not copied."""
        data = parse_input(ExamConfigCreate, {"name": name, "description": description})
        async with self.db.transaction() as session:
            source = await load_configuration(session, actor, config_id)
            kind = ConfigKind(source.kind)
            require_create(actor, kind, source.institution_id)
            await check_unique_name(session, source.institution_id, kind, data.name)
            copied = ExamConfiguration(
                institution_id=source.institution_id, kind=source.kind, name=data.name, description=data.description,
                status=ConfigStatus.CONSTRUCTION.value, template_id=source.template_id, owner_id=actor.user_id,
                hidden_attributes=source.hidden_attributes,
            )
            session.add(copied)
            await session.flush()
            published = await last_published(session, source.id)
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
                add_initial_revisions(session, copied, published.settings,
                                      f"copy of {source.name} version {published.number}", actor)
            record_activity(session, actor, Activity.CREATE, kind.entity_type, copied.id, copied.name,
                            f"copy of {source.name}" + (" with history" if with_history else ""),
                            institution_id=copied.institution_id)
        return copied

    async def _replace_working(
        self, session: AsyncSession, actor: Actor, configuration: ExamConfiguration,
        source: ExamConfigurationRevision, message: str,
    ) -> int:
        working = await working_copy_row(session, configuration.id)
        changes = diff(self.storage.decode(working.settings), self.storage.decode(source.settings))
        if changes:
            working.settings = source.settings
            configuration.updated_at = utc_now()
            kind = ConfigKind(configuration.kind)
            record_activity(session, actor, Activity.MODIFY, kind.entity_type, configuration.id, configuration.name,
                            f"{message}: {len(changes)} change{'s' if len(changes) != 1 else ''}",
                            institution_id=configuration.institution_id)
        return len(changes)


def _secret_masked(change: Change) -> Change:
    if change.name not in SECRET_ATTRIBUTES:
        return change
    hidden = "(hidden)"
    return Change(change.name, hidden if change.old else None, hidden if change.new else None, change.row,
                  change.column)


def _clean_summary(summary: str) -> str:
    summary = (summary or "").strip()
    if len(summary) > MAX_SUMMARY_LENGTH:
        raise ValidationFailed({"summary": f"at most {MAX_SUMMARY_LENGTH} characters"})
    if "\x00" in summary or any("\ud800" <= ch <= "\udfff" for ch in summary):
        raise ValidationFailed({"summary": "contains characters that cannot be stored"})
    return summary
