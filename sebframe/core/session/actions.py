"""What supporters do with live SEB connections: send instructions, confirm notifications, cancel
connections, and how many connections an exam has. Whoever may see the exam's connections
(``CLIENT_CONNECTION`` read) and modify the exam supervises it: exam administrators of its institution and its
assigned supporters (SEB Server's EXAM modify on owner level); other institutions' exams are not found."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database
from sebframe.core.db.models import ACTIVE_STATES, ClientConnection, ClientNotification, ConnectionStatus
from sebframe.core.errors import NotFound, ValidationFailed
from sebframe.core.exams.access import load_monitored_exam
from sebframe.core.session.clock import now_ms
from sebframe.core.session.instructions import InstructionType
from sebframe.core.session.runtime import SessionRuntime

# What a supporter may send; proctoring instructions come from proctoring services, not from here.
SUPERVISOR_INSTRUCTIONS = (InstructionType.SEB_QUIT, InstructionType.SEB_FORCE_LOCK_SCREEN)
MAX_MESSAGE = 1000


@dataclass(frozen=True)
class InstructionResult:
    sent: int  # connections the instruction was queued for
    skipped: int  # selected but not in an active state (closed, canceled) or not in the exam


class SupervisorActions:
    """Instructions, cancelling and notification confirmations, each checked against the exam (see above)."""

    def __init__(self, db: Database, runtime: SessionRuntime) -> None:
        self.db = db
        self.runtime = runtime

    async def send_instruction(self, actor: Actor, exam_id: int, connection_tokens: Sequence[str] | None,
                               instruction_type: str, attributes: Mapping[str, str] | None = None
                               ) -> InstructionResult:
        """Queue ``SEB_QUIT`` or ``SEB_FORCE_LOCK_SCREEN`` (with an optional ``message``) for the given
        connections of the exam, or for all its active ones when ``connection_tokens`` is None."""
        try:
            kind = InstructionType(instruction_type)
        except ValueError:
            kind = None
        if kind not in SUPERVISOR_INSTRUCTIONS:
            raise ValidationFailed({"type": "choose SEB_QUIT or SEB_FORCE_LOCK_SCREEN"})
        values = {key: str(value) for key, value in (attributes or {}).items() if key in ("message", "imageURL")}
        if len(values.get("message", "")) > MAX_MESSAGE:
            raise ValidationFailed({"message": f"at most {MAX_MESSAGE} characters"})
        async with self.db.transaction() as session:
            exam = (await load_monitored_exam(session, actor, exam_id, Privilege.MODIFY, doing="supervise")).exam
            targets, selected = await self._targets(session, exam.id, connection_tokens)
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"{kind.value} sent to {len(targets)} SEB connection(s)",
                            institution_id=exam.institution_id)
        # SEB Server's GUI sends an empty attribute map for a manual quit.
        await self.runtime.queue_instruction(targets, kind, values)
        return InstructionResult(len(targets), selected - len(targets))

    async def disable(self, actor: Actor, exam_id: int, connection_tokens: Sequence[str]) -> InstructionResult:
        """Mark connections as canceled (DISABLED): allowed for closed ones and for missing ones; a client
        that still pings then gets SEB_QUIT."""
        now = now_ms()
        async with self.db.transaction() as session:
            exam = (await load_monitored_exam(session, actor, exam_id, Privilege.MODIFY, doing="supervise")).exam
            unique = list(set(connection_tokens))[:10_000]
            rows = (await session.execute(select(ClientConnection).where(
                ClientConnection.exam_id == exam.id, ClientConnection.connection_token.in_(unique)))).scalars().all()
            changed = [row for row in rows if row.status == ConnectionStatus.CLOSED.value
                       or self._missing(row, now)]
            for row in changed:
                row.status = ConnectionStatus.DISABLED.value
                row.changed_ms = now
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"{len(changed)} SEB connection(s) marked as canceled",
                            institution_id=exam.institution_id)
        for row in changed:
            await self.runtime.adopt(row)
        return InstructionResult(len(changed), len(unique) - len(changed))

    def _missing(self, row: ClientConnection, now: int) -> bool:
        """Missing now, not as of the supervision's last round (it flags every few seconds)."""
        return self.runtime.is_missing(row.exam_id, row.status, self.runtime.last_ping(row.connection_token,
                                                                                       row.last_ping_ms),
                                       row.created_ms, now)

    async def confirm_notification(self, actor: Actor, exam_id: int, notification_id: int) -> bool:
        """Confirm a pending raise-hand or lock-screen notification; the client gets NOTIFICATION_CONFIRM.
        False when it was already confirmed (by a supporter or by the client)."""
        now = now_ms()
        async with self.db.transaction() as session:
            exam = (await load_monitored_exam(session, actor, exam_id, Privilege.MODIFY, doing="supervise")).exam
            found = (await session.execute(
                select(ClientNotification, ClientConnection)
                .join(ClientConnection, ClientConnection.id == ClientNotification.connection_id)
                .where(ClientNotification.id == notification_id, ClientConnection.exam_id == exam.id))).first()
            if found is None:
                raise NotFound(f"notification {notification_id} not found in exam {exam.name!r}")
            notification, connection = found
            if notification.confirmed_ms is not None:
                return False
            notification.confirmed_ms = now
            await session.execute(update(ClientConnection).where(ClientConnection.id == connection.id)
                                  .values(changed_ms=now))
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"{notification.notification_type} notification of {connection.user_session_id} confirmed",
                            institution_id=exam.institution_id)
        await self.runtime.queue_instruction(
            [connection.id], InstructionType.NOTIFICATION_CONFIRM,
            {"type": notification.notification_type, "id": str(notification.value)})
        return True

    async def _targets(self, session: AsyncSession, exam_id: int, tokens: Sequence[str] | None
                       ) -> tuple[list[int], int]:
        """The active connections among ``tokens`` (all of the exam's when None) and how many were selected."""
        statement = select(ClientConnection.id, ClientConnection.status).where(ClientConnection.exam_id == exam_id)
        unique = set(tokens) if tokens is not None else None
        if unique is not None:
            statement = statement.where(ClientConnection.connection_token.in_(list(unique)[:10_000]))
        rows = (await session.execute(statement)).all()
        active = {state.value for state in ACTIVE_STATES}
        targets = [row.id for row in rows if row.status in active]
        return targets, len(unique) if unique is not None else len(targets)
