"""Proctor overrides of blocked connections, and the lane of blocked connections proctors see.

A blocked student reads out the approval code shown by SEB; a proctor who supervises the exam finds the
connection by it and allows it with a reason and a scope (this connection at this address, the user from any
address, or the address), until a time no later than the exam's end (reference §4.2). Two proctors clicking at
once make one override (the unique ``active_key``). Revoking re-checks the connections concerned at once:
one that is outside is a violation (code 37) and, if the exam says so, quits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database, is_valid_id
from sebframe.core.db.models import ACTIVE_STATES, ClientConnection, ConnectionLocation, Exam, LocationOverride
from sebframe.core.errors import Conflict, NotFound, ValidationFailed
from sebframe.core.exams.access import load_monitored_exam
from sebframe.core.location.audit_format import AuditCode
from sebframe.core.location.audit_log import LocationAudit
from sebframe.core.location.gate import LocationGate
from sebframe.core.location.schemas import LocationStatus, OverrideInput, OverrideScope, RevokeInput
from sebframe.core.session.origin import Origin
from sebframe.core.session.runtime import SessionRuntime

DEFAULT_OVERRIDE_HOURS = 12  # for an exam without an end time
LANE_STATES = (LocationStatus.BLOCKED, LocationStatus.WOULD_BLOCK, LocationStatus.VIOLATION)


@dataclass(frozen=True, slots=True)
class PlacedConnection:
    """A connection with its latest location decision, as the blocked lane and monitoring show it."""

    connection_id: int
    user: str | None
    lms_user_id: str | None
    machine: str | None
    os: str | None
    seb_version: str | None
    status: str  # the location status (LocationStatus)
    reason: str
    address: str | None
    peer_address: str | None
    forwarded_chain: str
    room: str
    seat: str
    rule: str
    approval_code: str
    message: str
    violations: int
    decided_at: datetime
    profile_id: int | None = None  # the profile (and its version) that decided
    profile_version: int | None = None


class LocationOverrides:
    def __init__(self, db: Database, audit: LocationAudit, gate: LocationGate, runtime: SessionRuntime) -> None:
        self.db = db
        self.audit = audit
        self.gate = gate
        self.runtime = runtime

    async def placements(self, actor: Actor, exam_id: int, *, lane_only: bool = False,
                         code: str | None = None, connection_id: int | None = None) -> list[PlacedConnection]:
        """The exam's connections with a location decision; ``lane_only``: the blocked and violating ones;
        ``connection_id``: only that one (the connection detail view)."""
        async with self.db.read() as session:
            exam = (await load_monitored_exam(session, actor, exam_id)).exam
            statement = (select(ConnectionLocation, ClientConnection)
                         .join(ClientConnection, ClientConnection.id == ConnectionLocation.connection_id)
                         .where(ConnectionLocation.exam_id == exam.id))
            if lane_only:
                statement = statement.where(ConnectionLocation.status.in_(LANE_STATES))
            if code:
                statement = statement.where(func.upper(ConnectionLocation.approval_code) == code.strip().upper())
            if connection_id is not None:
                statement = statement.where(ConnectionLocation.connection_id == connection_id)
            rows = (await session.execute(statement.order_by(ConnectionLocation.decided_ms.desc()))).all()
        return [_placed(snapshot, connection) for snapshot, connection in rows]

    async def overrides(self, actor: Actor, exam_id: int) -> list[LocationOverride]:
        """Newest first, revoked ones included."""
        async with self.db.read() as session:
            exam = (await load_monitored_exam(session, actor, exam_id)).exam
            return list((await session.execute(select(LocationOverride).where(
                LocationOverride.exam_id == exam.id).order_by(LocationOverride.created_at.desc()))).scalars())

    async def grant(self, actor: Actor, exam_id: int, data: OverrideInput) -> LocationOverride:
        now = datetime.now(UTC)
        try:
            override = await self._grant(actor, exam_id, data, now)
        except Conflict:
            # Another proctor approved the same connection at the same moment: theirs is the override.
            active = await self._active(exam_id, data)
            if active is None:
                raise
            override = active
        self.gate.invalidate(exam_id)
        return override

    async def _grant(self, actor: Actor, exam_id: int, data: OverrideInput, now: datetime) -> LocationOverride:
        async with self.db.transaction() as session:
            exam = (await load_monitored_exam(session, actor, exam_id, Privilege.MODIFY, doing="supervise")).exam
            if exam.end_time is not None and exam.end_time <= now:
                raise ValidationFailed({"expires_at": "the exam has ended; overrides are no longer possible"})
            connection, snapshot = await self._connection(session, exam, data.connection_id)
            user, address = self._subject(data.scope, connection, snapshot)
            key = _active_key(exam.id, data.scope, data.connection_id, user, address)
            existing = (await session.execute(select(LocationOverride).where(
                LocationOverride.active_key == key))).scalar_one_or_none()
            if existing is not None and existing.expires_at > now:
                return existing  # idempotent: the same approval again changes nothing
            if existing is not None:
                existing.active_key = None  # expired: make room for the new one
                await session.flush()
            latest = exam.end_time or now + timedelta(hours=DEFAULT_OVERRIDE_HOURS)
            expires = min(data.expires_at, latest) if data.expires_at is not None else latest
            if expires <= now:
                raise ValidationFailed({"expires_at": "must be in the future"})
            override = LocationOverride(
                exam_id=exam.id, connection_id=connection.id if data.scope is OverrideScope.CONNECTION else None,
                scope=data.scope.value, user_session_id=user, address=address, reason=data.reason.strip(),
                created_by=actor.username, created_at=now, expires_at=expires, active_key=key)
            session.add(override)
            await session.flush()
            if snapshot is not None and snapshot.status in (LocationStatus.BLOCKED, LocationStatus.VIOLATION):
                snapshot.status = LocationStatus.OVERRIDDEN
                snapshot.message = f"override by {actor.username}: {override.reason}"
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"location override ({data.scope.value.lower()}) for connection {connection.id}: "
                            f"{override.reason}", institution_id=exam.institution_id)
            self.audit.admin(session, AuditCode.OVERRIDDEN, actor, exam.institution_id, exam_id=exam.id,
                             override_id=override.id, src_ip=address or "", suid=connection.lms_user_session_id or "",
                             suser=connection.user_session_id or "", connection_id=connection.id,
                             client_machine=connection.seb_machine_name or "", room=snapshot.room if snapshot else "",
                             msg=f"scope={data.scope.value} until {expires.isoformat()}: {override.reason}")
        return override

    async def revoke(self, actor: Actor, exam_id: int, override_id: int, data: RevokeInput) -> LocationOverride:
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            exam = (await load_monitored_exam(session, actor, exam_id, Privilege.MODIFY, doing="supervise")).exam
            override = (await session.get(LocationOverride, override_id, with_for_update=True)
                        if is_valid_id(override_id) else None)
            if override is None or override.exam_id != exam.id:
                raise NotFound(f"location override {override_id} not found")
            if override.revoked_at is not None:
                return override
            override.revoked_at, override.revoked_by = now, actor.username
            override.revoke_reason, override.active_key = data.reason, None
            record_activity(session, actor, Activity.MODIFY, EntityType.EXAM, exam.id, exam.name,
                            f"location override {override.id} revoked", institution_id=exam.institution_id)
            self.audit.admin(session, AuditCode.OVERRIDE_REVOKED, actor, exam.institution_id, exam_id=exam.id,
                             override_id=override.id, src_ip=override.address or "",
                             suid=override.user_session_id or "",
                             connection_id=override.connection_id, msg=data.reason or "revoked")
            affected = await self._affected(session, exam, override)
        self.gate.invalidate(exam.id)
        for token, address in affected:  # re-checked now, not at the next move (reference O8)
            live = await self.runtime.connection(token)
            if live is not None and live.exam_id == exam.id and live.status.client_active:
                await self.runtime.recheck(live, address, Origin.of_address(address))
        return override

    async def _active(self, exam_id: int, data: OverrideInput) -> LocationOverride | None:
        async with self.db.read() as session:
            return (await session.execute(select(LocationOverride).where(
                LocationOverride.exam_id == exam_id, LocationOverride.revoked_at.is_(None),
                LocationOverride.scope == data.scope.value,
                or_(LocationOverride.connection_id == data.connection_id, LocationOverride.connection_id.is_(None)))
                .order_by(LocationOverride.id.desc()).limit(1))).scalar_one_or_none()

    @staticmethod
    async def _connection(session: AsyncSession, exam: Exam, connection_id: int
                          ) -> tuple[ClientConnection, ConnectionLocation | None]:
        connection = await session.get(ClientConnection, connection_id) if is_valid_id(connection_id) else None
        snapshot = await session.get(ConnectionLocation, connection_id, with_for_update=True) if connection else None
        in_exam = connection is not None and (connection.exam_id == exam.id
                                              or (snapshot is not None and snapshot.exam_id == exam.id))
        if connection is None or not in_exam:
            raise NotFound(f"SEB connection {connection_id} not found in exam {exam.name!r}")
        return connection, snapshot

    @staticmethod
    def _subject(scope: OverrideScope, connection: ClientConnection, snapshot: ConnectionLocation | None
                 ) -> tuple[str | None, str | None]:
        address = snapshot.address if snapshot is not None and snapshot.address else connection.client_address
        user = connection.lms_user_session_id or (snapshot.user_id if snapshot is not None else None)
        if scope is OverrideScope.USER:
            if not user:
                raise ValidationFailed({"scope": "the connection has not sent its user yet; allow the connection "
                                                 "or the address"})
            return user, None
        if not address:
            raise ValidationFailed({"scope": "the connection's address is unknown; allow the user instead"})
        return (user if scope is OverrideScope.CONNECTION else None), address

    @staticmethod
    async def _affected(session: AsyncSession, exam: Exam, override: LocationOverride
                        ) -> Sequence[tuple[str, str | None]]:
        statement = select(ClientConnection.connection_token, ClientConnection.client_address).where(
            ClientConnection.exam_id == exam.id,
            ClientConnection.status.in_([state.value for state in ACTIVE_STATES]))
        if override.scope == OverrideScope.CONNECTION.value:
            statement = statement.where(or_(ClientConnection.id == override.connection_id, and_(
                ClientConnection.client_address == override.address,
                ClientConnection.lms_user_session_id == override.user_session_id)))
        elif override.scope == OverrideScope.USER.value:
            statement = statement.where(or_(ClientConnection.lms_user_session_id == override.user_session_id,
                                            ClientConnection.user_session_id == override.user_session_id))
        else:
            statement = statement.where(ClientConnection.client_address == override.address)
        return [(row.connection_token, row.client_address) for row in (await session.execute(statement.limit(5000)))]


def _active_key(exam_id: int, scope: OverrideScope, connection_id: int, user: str | None, address: str | None
                ) -> str:
    subject = {OverrideScope.CONNECTION: f"{connection_id}@{address}", OverrideScope.USER: (user or "").casefold(),
               OverrideScope.ADDRESS: address or ""}[scope]
    return f"{exam_id}:{scope.value}:{subject}"[:320]


def _placed(snapshot: ConnectionLocation, connection: ClientConnection) -> PlacedConnection:
    return PlacedConnection(
        connection.id, connection.user_session_id, connection.lms_user_session_id or snapshot.user_id,
        connection.seb_machine_name,
        connection.seb_os_name, connection.seb_version, snapshot.status, snapshot.reason, snapshot.address,
        snapshot.peer_address, snapshot.forwarded_chain, snapshot.room, snapshot.seat, snapshot.rule,
        snapshot.approval_code, snapshot.message, snapshot.violations,
        datetime.fromtimestamp(snapshot.decided_ms / 1000, UTC), snapshot.profile_id, snapshot.profile_version)
