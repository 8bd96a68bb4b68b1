"""An exam's location restriction: its profiles, enforce or log-only (trial), hiding from the handshake list,
the reaction to a violation, emergency suspension, and planned exceptions for users and groups.

Exam administrators change the policy and the exceptions (``EXAM`` write); whoever supervises the exam (its
supporters too) may suspend and resume the restriction in an emergency, with a reason. Every change reaches
the checks of every server process within a second (``LocationGate`` reloads at most that old).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database, is_valid_id
from sebframe.core.db.models import (
    Exam,
    ExamLocationPolicy,
    ExamLocationProfile,
    LocationException,
    LocationProfile,
)
from sebframe.core.errors import NotFound, ValidationFailed
from sebframe.core.exams.access import load_exam
from sebframe.core.location.audit_format import AuditCode
from sebframe.core.location.audit_log import LocationAudit
from sebframe.core.location.schemas import (
    ExceptionInput,
    ExceptionKind,
    PolicyInput,
    PolicyMode,
    SuspendInput,
    ViolationAction,
)

MAX_EXCEPTIONS = 2000


@dataclass(frozen=True)
class ExamPolicy:
    """What the exam's location settings screen and the admin API show."""

    exam_id: int
    exam_name: str
    institution_id: int
    mode: PolicyMode = PolicyMode.ENFORCE
    hide_when_outside: bool = False
    on_violation: ViolationAction = ViolationAction.LOG
    suspended: bool = False
    suspend_reason: str = ""
    suspended_by: str = ""
    suspended_at: datetime | None = None
    profiles: list[LocationProfile] = field(default_factory=list)
    exceptions: list[LocationException] = field(default_factory=list)

    @property
    def restricted(self) -> bool:
        return bool(self.profiles) and not self.suspended


class ExamLocationService:
    def __init__(self, db: Database, audit: LocationAudit, invalidate: Callable[[int], None]) -> None:
        self.db = db
        self.audit = audit
        self._invalidate = invalidate  # LocationGate.invalidate: this process sees a change at once

    async def policy(self, actor: Actor, exam_id: int) -> ExamPolicy:
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id)
            return await self._policy(session, exam)

    async def set_policy(self, actor: Actor, exam_id: int, data: PolicyInput) -> ExamPolicy:
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.WRITE,
                                   doing="change the location restriction of")
            row = await self._row(session, exam.id)
            current = set((await session.execute(select(ExamLocationProfile.profile_id).where(
                ExamLocationProfile.exam_id == exam.id))).scalars())
            await self._check_profiles(session, exam, data.profile_ids, current)
            await session.execute(delete(ExamLocationProfile).where(ExamLocationProfile.exam_id == exam.id))
            session.add_all(ExamLocationProfile(exam_id=exam.id, profile_id=profile_id)
                            for profile_id in data.profile_ids)
            row.mode, row.hide_when_outside, row.on_violation = (data.mode.value, data.hide_when_outside,
                                                                  data.on_violation.value)
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"location restriction: {len(data.profile_ids)} profile(s), {data.mode.value}, "
                            f"on violation {data.on_violation.value}", institution_id=exam.institution_id)
            await session.flush()
            policy = await self._policy(session, exam)
        self._invalidate(exam.id)
        return policy

    async def suspend(self, actor: Actor, exam_id: int, data: SuspendInput, *, suspended: bool = True
                      ) -> ExamPolicy:
        """Emergency switch: checks stop (or resume) for the exam at once, on every process within a second."""
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.MODIFY, doing="supervise")
            row = await self._row(session, exam.id)
            row.suspended = suspended
            row.suspend_reason = data.reason if suspended else ""
            row.suspended_by = actor.username if suspended else ""
            row.suspended_at = datetime.now(UTC) if suspended else None
            verb = "suspended" if suspended else "resumed"
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"location restriction {verb}: {data.reason}", institution_id=exam.institution_id)
            self.audit.admin(session, AuditCode.RESTRICTION_SUSPENDED, actor, exam.institution_id, exam_id=exam.id,
                             act=verb, msg=f"location restriction {verb}: {data.reason}")
            await session.flush()
            policy = await self._policy(session, exam)
        self._invalidate(exam.id)
        return policy

    # -- planned exceptions --------------------------------------------------------------------------

    async def add_exception(self, actor: Actor, exam_id: int, data: ExceptionInput) -> LocationException:
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.WRITE,
                                   doing="change the location exceptions of")
            count = (await session.execute(select(func.count()).where(LocationException.exam_id == exam.id))
                     ).scalar_one()
            if count >= MAX_EXCEPTIONS:
                raise ValidationFailed({"name": f"an exam has at most {MAX_EXCEPTIONS} exceptions"})
            exception = LocationException(exam_id=exam.id, created_by=actor.username)
            await self._apply_exception(session, exam, exception, data)
            session.add(exception)
            await session.flush()
            record_activity(session, actor, Activity.CREATE, EntityType.EXAM, exam.id, exam.name,
                            f"location exception for {data.kind.value.lower()} {data.name!r}",
                            institution_id=exam.institution_id)
        self._invalidate(exam.id)
        return exception

    async def update_exception(self, actor: Actor, exam_id: int, exception_id: int, data: ExceptionInput
                               ) -> LocationException:
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.WRITE,
                                   doing="change the location exceptions of")
            exception = await self._exception(session, exam, exception_id)
            await self._apply_exception(session, exam, exception, data)
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"location exception for {data.kind.value.lower()} {data.name!r} changed",
                            institution_id=exam.institution_id)
        self._invalidate(exam.id)
        return exception

    async def delete_exception(self, actor: Actor, exam_id: int, exception_id: int) -> None:
        async with self.db.transaction() as session:
            exam = await load_exam(session, actor, exam_id, Privilege.WRITE,
                                   doing="change the location exceptions of")
            exception = await self._exception(session, exam, exception_id)
            await session.delete(exception)
            record_activity(session, actor, Activity.DELETE, EntityType.EXAM, exam.id, exam.name,
                            f"location exception for {exception.kind.lower()} {exception.name!r} removed",
                            institution_id=exam.institution_id)
        self._invalidate(exam.id)

    async def get_exception(self, actor: Actor, exam_id: int, exception_id: int) -> LocationException:
        async with self.db.read() as session:
            exam = await load_exam(session, actor, exam_id)
            return await self._exception(session, exam, exception_id)

    # -- helpers -------------------------------------------------------------------------------------

    @staticmethod
    async def _row(session: AsyncSession, exam_id: int) -> ExamLocationPolicy:
        row = await session.get(ExamLocationPolicy, exam_id, with_for_update=True)
        if row is None:
            row = ExamLocationPolicy(exam_id=exam_id, mode=PolicyMode.ENFORCE.value, hide_when_outside=False,
                                     on_violation=ViolationAction.LOG.value, suspended=False)
            session.add(row)
        return row

    @staticmethod
    async def _policy(session: AsyncSession, exam: Exam) -> ExamPolicy:
        row = await session.get(ExamLocationPolicy, exam.id)
        profiles = list((await session.execute(
            select(LocationProfile).join(ExamLocationProfile, ExamLocationProfile.profile_id == LocationProfile.id)
            .where(ExamLocationProfile.exam_id == exam.id).order_by(func.lower(LocationProfile.name)))).scalars())
        exceptions = list((await session.execute(select(LocationException).where(
            LocationException.exam_id == exam.id).order_by(LocationException.kind, func.lower(LocationException.name))
        )).scalars())
        if row is None:
            return ExamPolicy(exam.id, exam.name, exam.institution_id, profiles=profiles, exceptions=exceptions)
        return ExamPolicy(exam.id, exam.name, exam.institution_id, PolicyMode(row.mode), row.hide_when_outside,
                          ViolationAction(row.on_violation), row.suspended, row.suspend_reason, row.suspended_by,
                          row.suspended_at, profiles, exceptions)

    @staticmethod
    async def _check_profiles(session: AsyncSession, exam: Exam, wanted: list[int], current: set[int]) -> None:
        """Profiles of the exam's institution; a hidden one only if the exam already has it (reference E10)."""
        found = {profile.id: profile for profile in (await session.execute(select(LocationProfile).where(
            LocationProfile.id.in_([item for item in wanted if is_valid_id(item)])))).scalars()}
        for profile_id in wanted:
            profile = found.get(profile_id)
            if profile is None or profile.institution_id != exam.institution_id:
                raise ValidationFailed({"profile_ids": f"IP profile {profile_id} not found"})
            if profile.hidden and profile_id not in current:
                raise ValidationFailed({"profile_ids": f"the IP profile {profile.name!r} is unavailable (hidden); "
                                                       "choose another"})

    @staticmethod
    async def _apply_exception(session: AsyncSession, exam: Exam, exception: LocationException,
                               data: ExceptionInput) -> None:
        if data.kind is ExceptionKind.GROUP and not data.members:
            raise ValidationFailed({"members": "a group exception needs its members' user ids"})
        if data.valid_from and data.valid_to and data.valid_to <= data.valid_from:
            raise ValidationFailed({"valid_to": "must be after the start"})
        if data.substitute_profile_id is not None:
            profile = (await session.get(LocationProfile, data.substitute_profile_id)
                       if is_valid_id(data.substitute_profile_id) else None)
            if profile is None or profile.institution_id != exam.institution_id:
                raise ValidationFailed({"substitute_profile_id": f"IP profile {data.substitute_profile_id} "
                                                                 "not found"})
            if profile.hidden and profile.id != exception.substitute_profile_id:
                raise ValidationFailed({"substitute_profile_id": f"the IP profile {profile.name!r} is unavailable "
                                                                 "(hidden); choose another"})
        exception.kind = data.kind.value
        exception.name = data.name
        exception.members = "\n".join(data.members if data.kind is ExceptionKind.GROUP else [])
        exception.substitute_profile_id = data.substitute_profile_id
        exception.valid_from, exception.valid_to = data.valid_from, data.valid_to
        exception.reason = data.reason

    @staticmethod
    async def _exception(session: AsyncSession, exam: Exam, exception_id: int) -> LocationException:
        exception = await session.get(LocationException, exception_id) if is_valid_id(exception_id) else None
        if exception is None or exception.exam_id != exam.id:
            raise NotFound(f"location exception {exception_id} not found")
        return exception
