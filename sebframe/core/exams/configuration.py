"""The exam configuration attached to an exam (one per exam), with an optional encryption password.

Only a Ready To Use exam configuration of the exam's institution can be attached; it is In Use while
attached and Ready To Use again when removed (or the exam deleted). Export and Config Key use the
configuration's last published settings. Registers on the configuration service:

* a publish guard: no publishing while the configuration's exam is running with active SEB connections
  (the message names the exam and how many connections are active);
* a publish listener: the exam's SEB restriction gets the new Config Key (``restriction.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database, utc_now
from sebframe.core.db.models import Exam, ExamConfiguration, ExamConfigurationMapping
from sebframe.core.errors import Conflict, NotFound, ValidationFailed
from sebframe.core.exams.access import load_exam
from sebframe.core.exams.connections import ActiveConnections
from sebframe.core.exams.restriction import RestrictionService
from sebframe.core.exams.schemas import ConfigurationAttach
from sebframe.core.exams.types import ExamStatus
from sebframe.core.paging import MAX_PAGE_SIZE, ListParams
from sebframe.core.sebconfig.exam_configs import ConfigStatus, ExamConfigService
from sebframe.core.secrets import SecretBox


@dataclass(frozen=True, slots=True)
class AttachedConfiguration:
    configuration: ExamConfiguration
    password_set: bool
    attached_at: datetime


class ExamConfigurationService:
    def __init__(self, db: Database, exam_configs: ExamConfigService, secrets: SecretBox,
                 restriction: RestrictionService, connections: ActiveConnections) -> None:
        self.db = db
        self.exam_configs = exam_configs
        self.secrets = secrets
        self.restriction = restriction
        self.connections = connections
        exam_configs.revisions.publish_guards.append(self.publish_guard)
        exam_configs.revisions.publish_listeners.append(restriction.on_published)

    # -- queries -------------------------------------------------------------------------------

    async def attached(self, actor: Actor, exam_id: int) -> AttachedConfiguration | None:
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id)
            mapping = await session.get(ExamConfigurationMapping, exam.id)
            if mapping is None:
                return None
            configuration = await session.get(ExamConfiguration, mapping.configuration_id)
            assert configuration is not None  # the foreign key holds it
            return AttachedConfiguration(configuration, mapping.encryption_password_encrypted is not None,
                                         mapping.created_at)

    async def available(self, actor: Actor, exam_id: int) -> list[ExamConfiguration]:
        """What can be attached: the Ready To Use exam configurations of the exam's institution (an attached
        one is In Use, so these are unused)."""
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id)
        params = ListParams(size=MAX_PAGE_SIZE, filters={"status": ConfigStatus.READY_TO_USE.value,
                                                        "institution_id": str(exam.institution_id)})
        return (await self.exam_configs.list(actor, params)).items

    # -- attach and remove ---------------------------------------------------------------------

    async def attach(self, actor: Actor, exam_id: int, data: ConfigurationAttach) -> AttachedConfiguration:
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.WRITE, lock=True,
                                   doing="attach exam configurations to")
            current = await session.get(ExamConfigurationMapping, exam.id)
            if current is not None:
                raise Conflict(f"exam {exam.name!r} has an exam configuration already; remove it first")
            try:
                configuration = await self.exam_configs.mark_in_use(
                    actor, data.configuration_id, session=session, note=f"attached to exam {exam.name}")
            except NotFound:
                raise ValidationFailed({"configuration_id": f"exam configuration {data.configuration_id} "
                                                            "not found"}) from None
            if configuration.institution_id != exam.institution_id:
                raise ValidationFailed({"configuration_id": "the exam configuration belongs to another "
                                                            "institution"})
            password = self.secrets.encrypt(data.password) if data.password else None
            mapping = ExamConfigurationMapping(exam_id=exam.id, configuration_id=configuration.id,
                                               encryption_password_encrypted=password)
            session.add(mapping)
            await session.flush()
            exam.updated_at = utc_now()
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"exam configuration {configuration.name} attached"
                            + (" (password protected)" if password else ""), institution_id=exam.institution_id)
            attached = AttachedConfiguration(configuration, password is not None, mapping.created_at)
        await self.restriction.reapply_if_applied(exam_id, "exam configuration attached")
        return attached

    async def remove(self, actor: Actor, exam_id: int) -> ExamConfiguration:
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.WRITE, lock=True,
                                   doing="remove exam configurations from")
            mapping = await session.get(ExamConfigurationMapping, exam.id)
            if mapping is None:
                raise Conflict(f"exam {exam.name!r} has no exam configuration")
            if exam.status == ExamStatus.RUNNING:
                active = await self.connections.count(session, exam.id)
                if active:
                    raise Conflict(f"exam {exam.name!r} is running with {active} active SEB connection(s); "
                                   "its exam configuration cannot be removed now")
            configuration = await self.exam_configs.release(
                actor, mapping.configuration_id, session=session, note=f"removed from exam {exam.name}")
            await session.delete(mapping)
            exam.updated_at = utc_now()
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"exam configuration {configuration.name} removed", institution_id=exam.institution_id)
        await self.restriction.reapply_if_applied(exam_id, "exam configuration removed")
        return configuration

    async def release_in(self, session: AsyncSession, actor: Actor, exam: Exam) -> str | None:
        """Deleting an exam: its configuration back to Ready To Use (in the caller's transaction)."""
        mapping = await session.get(ExamConfigurationMapping, exam.id)
        if mapping is None:
            return None
        configuration = await self.exam_configs.release(actor, mapping.configuration_id, session=session,
                                                        note=f"exam {exam.name} deleted")
        await session.delete(mapping)
        return configuration.name

    # -- files ---------------------------------------------------------------------------------

    async def _mapping(self, actor: Actor, exam_id: int) -> tuple[Exam, ExamConfigurationMapping]:
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id)
            mapping = await session.get(ExamConfigurationMapping, exam.id)
        if mapping is None:
            raise NotFound(f"exam {exam.name!r} has no exam configuration")
        return exam, mapping

    async def export(self, actor: Actor, exam_id: int) -> bytes:
        """``SEBExamSettings.seb`` as SEB clients of the exam get it: encrypted with the exam's password if set."""
        _, mapping = await self._mapping(actor, exam_id)
        password = (self.secrets.decrypt(mapping.encryption_password_encrypted)
                    if mapping.encryption_password_encrypted else None)
        return await self.exam_configs.files.export(actor, mapping.configuration_id, password=password)

    async def config_key(self, actor: Actor, exam_id: int) -> str:
        _, mapping = await self._mapping(actor, exam_id)
        return await self.exam_configs.files.config_key(actor, mapping.configuration_id)

    # -- publish guard -------------------------------------------------------------------------

    async def publish_guard(self, session: AsyncSession, configuration: ExamConfiguration) -> str | None:
        """Refuse publishing while the configuration's exam is running with active SEB connections."""
        rows = await session.execute(
            select(Exam.id, Exam.name, Exam.status)
            .join(ExamConfigurationMapping, ExamConfigurationMapping.exam_id == Exam.id)
            .where(ExamConfigurationMapping.configuration_id == configuration.id))
        for row in rows.all():
            if row.status != ExamStatus.RUNNING:
                continue
            active = await self.connections.count(session, row.id)
            if active:
                return (f"exam {row.name!r} is running with {active} active SEB connection(s) using this "
                        "configuration; publish when they have ended")
        return None
