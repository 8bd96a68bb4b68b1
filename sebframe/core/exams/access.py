"""Who may see and change an exam: SEB Server's EXAM grants, where an assigned supporter counts as owner.

Exam administrators write the exams of their institution, institutional administrators read them, SEB Server
administrators read all; an exam supporter reads and modifies (not creates or deletes) the exams they are
assigned to. Other institutions' exams are "not found".

The live data of an exam (its SEB connections, their client events) has grants of its own in the same table,
reached the same way (``CLIENT_CONNECTION``, ``CLIENT_EVENT``): :func:`load_monitored_exam` is the one check
every monitoring screen, endpoint, stream and export goes through.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import is_valid_id
from sebframe.core.db.models import Exam, ExamSupporter
from sebframe.core.errors import NotFound, PermissionDenied
from sebframe.core.paging import AnySelect

_VERBS = {Privilege.MODIFY: "change", Privilege.WRITE: "create or delete"}


def may(actor: Actor, privilege: Privilege, exam: Exam, supporter_ids: set[int] | frozenset[int],
        entity_type: EntityType = EntityType.EXAM) -> bool:
    """``privilege`` on ``exam`` (or, with ``entity_type``, on its connections or client events); the owner level
    covers the exam's owner and its assigned supporters."""
    owner = actor.user_id if (exam.owner_id == actor.user_id or actor.user_id in supporter_ids) else exam.owner_id
    return actor.may(privilege, entity_type, institution_id=exam.institution_id, owner_id=owner)


def visible(statement: AnySelect, actor: Actor, privilege: Privilege = Privilege.READ,
            entity_type: EntityType = EntityType.EXAM) -> AnySelect:
    """Limit an exam query to what ``actor`` may see (or, with ``privilege``, change).

    ``entity_type`` names another grant that reaches exams the same way, e.g. ``CLIENT_EVENT``: the logs of
    the exams of the institution, or of the exams a supporter owns or is assigned to.
    """
    scope = actor.scope(privilege, entity_type)
    if scope == Scope.OVERALL:
        return statement
    if scope == Scope.INSTITUTION:
        return statement.where(Exam.institution_id == actor.institution_id)
    if scope == Scope.OWNER:
        assigned = select(ExamSupporter.exam_id).where(ExamSupporter.user_id == actor.user_id)
        return statement.where(or_(Exam.owner_id == actor.user_id, Exam.id.in_(assigned)))
    return statement.where(Exam.id.is_(None))  # nothing


async def supporter_ids(session: AsyncSession, exam_id: int) -> set[int]:
    rows = await session.execute(select(ExamSupporter.user_id).where(ExamSupporter.exam_id == exam_id))
    return {row.user_id for row in rows}


async def load_exam(session: AsyncSession, actor: Actor, exam_id: int, privilege: Privilege = Privilege.READ, *,
                    lock: bool = False, doing: str | None = None) -> Exam:
    """The exam if ``actor`` may see it (else ``NotFound``) and holds ``privilege`` (else ``PermissionDenied``,
    saying ``doing``, e.g. "attach configurations to")."""
    exam, _ = await _load(session, actor, exam_id, privilege, lock=lock, doing=doing)
    return exam


@dataclass(frozen=True, slots=True)
class MonitoredExam:
    """An exam whose SEB connections ``actor`` may see, and what else the privilege table lets it do there."""

    exam: Exam
    may_read_logs: bool  # CLIENT_EVENT read: the texts of client events and notifications
    may_supervise: bool  # EXAM modify: instructions, canceling, confirming notifications, location overrides


async def load_monitored_exam(session: AsyncSession, actor: Actor, exam_id: int,
                              privilege: Privilege = Privilege.READ, *, doing: str | None = None) -> MonitoredExam:
    """The exam for monitoring: ``NotFound`` if ``actor`` may not see the exam, ``PermissionDenied`` if it may see
    the exam but not its SEB connections (``CLIENT_CONNECTION`` read: a SEB Server administrator and another
    institution's exam) or, with ``privilege`` above read, may not supervise it (the exam's ``privilege``)."""
    exam, supporters = await _load(session, actor, exam_id)
    if not may(actor, Privilege.READ, exam, supporters, EntityType.CLIENT_CONNECTION):
        raise PermissionDenied(f"you may not see the SEB connections of exam {exam.name!r}")
    supervise = may(actor, Privilege.MODIFY, exam, supporters)
    if privilege > Privilege.READ and not may(actor, privilege, exam, supporters):
        raise PermissionDenied(f"you may not {doing or _VERBS.get(privilege, 'change')} exam {exam.name!r}")
    return MonitoredExam(exam, may(actor, Privilege.READ, exam, supporters, EntityType.CLIENT_EVENT), supervise)


async def _load(session: AsyncSession, actor: Actor, exam_id: int, privilege: Privilege = Privilege.READ, *,
                lock: bool = False, doing: str | None = None) -> tuple[Exam, set[int]]:
    exam = (await session.get(Exam, exam_id, with_for_update=lock or None)
            if isinstance(exam_id, int) and is_valid_id(exam_id) else None)
    if exam is None:
        raise NotFound(f"exam {exam_id} not found")
    supporters = await supporter_ids(session, exam.id)
    if not may(actor, Privilege.READ, exam, supporters):
        raise NotFound(f"exam {exam_id} not found")
    if privilege > Privilege.READ and not may(actor, privilege, exam, supporters):
        raise PermissionDenied(f"you may not {doing or _VERBS.get(privilege, 'change')} exam {exam.name!r}")
    return exam, supporters
