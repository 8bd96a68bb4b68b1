"""The location check of SEB clients: an admission check at the handshake steps that bind an exam, a
re-check when a bound client shows up from a new address, and the filter that hides restricted exams from
clients outside.

Reference §8: ``PATCH /handshake``, ``GET /examconfig`` and ``PUT /handshake`` refuse a client outside the
exam's profiles (403 with the profiles' help text and an approval code the student reads out to a proctor;
audit code 36); the exam configuration is never handed out to it. A ping or log from a new address is
re-evaluated: still inside is code 1002 (at most one record per connection every five minutes), outside is a
violation (code 37), flagged on the connection and, if the exam says so, answered with SEB_QUIT; the ping
itself is never refused (that would break SEB's ping loop). In log-only mode nothing is refused and every
would-be refusal is recorded.

Each exam's restriction (profiles compiled per version, exceptions, active overrides) is loaded at most once a
second per process, so changes made on another process take effect within a second; this process's own
changes invalidate at once. Decisions are written with their audit records in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.db import Database
from sebframe.core.db.models import (
    ClientConnection,
    ConnectionLocation,
    Exam,
    ExamLocationPolicy,
    ExamLocationProfile,
    Location,
    LocationException,
    LocationOverride,
    LocationProfile,
)
from sebframe.core.location.audit_format import AuditCode, AuditRecord
from sebframe.core.location.audit_log import LocationAudit
from sebframe.core.location.decide import (
    ActiveOverride,
    Decision,
    ExamRestriction,
    PlannedException,
    Reason,
    decide,
)
from sebframe.core.location.profiles import ProfileCompiler
from sebframe.core.location.schemas import (
    ExceptionKind,
    LocationStatus,
    OverrideScope,
    PolicyMode,
    ViolationAction,
)
from sebframe.core.session.clock import now_ms
from sebframe.hookspecs import hookimpl
from sebframe.types import AdmissionCheck, AdmissionDecision, AdmissionRequest

log = logging.getLogger(__name__)

RESTRICTION_TTL_SECONDS = 1.0
CHANGE_RECORD_INTERVAL_MS = 5 * 60_000  # 1002 / repeated 37 records per connection (reference H9)
APPROVAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over a room
APPROVAL_LENGTH = 6
DENIED_CODE = "location_not_allowed"
ENFORCED_STEPS = frozenset({"handshake-update", "exam-config", "handshake-establish"})


@dataclass(frozen=True, slots=True)
class Seat:
    """Where a connection sits and how it stands, for a monitoring cell."""

    status: str  # LocationStatus
    room: str
    seat: str
    approval_code: str

    @property
    def label(self) -> str:
        return ", ".join(part for part in (self.room, f"seat {self.seat}" if self.seat else "") if part)

    @property
    def flagged(self) -> bool:
        return self.status in (LocationStatus.BLOCKED, LocationStatus.VIOLATION, LocationStatus.WOULD_BLOCK)


@dataclass(frozen=True, slots=True)
class _Client:
    """What the audit record and the exceptions need of the connection."""

    user_ids: tuple[str, ...]
    user: str
    machine: str
    os: str
    seb_version: str


class LocationGate:
    def __init__(self, db: Database, audit: LocationAudit, compiler: ProfileCompiler,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.audit = audit
        self.compiler = compiler
        self.clock = clock
        self._cache: dict[int, tuple[float, ExamRestriction | None]] = {}
        self._seats: dict[int, tuple[float, dict[int, Seat]]] = {}
        self._loading: dict[int, asyncio.Future[ExamRestriction | None]] = {}
        self._invalidations = 0

    # -- the plugin side -----------------------------------------------------------------------------

    @hookimpl
    def sebframe_admission_checks(self) -> Iterator[AdmissionCheck]:
        yield AdmissionCheck(name="location", check=self.check, filter_exams=self.visible_exams)

    # -- restrictions --------------------------------------------------------------------------------

    def invalidate(self, exam_id: int | None = None) -> None:
        """Forget the exam's restriction (all when None); a load already under way is not kept."""
        self._invalidations += 1
        if exam_id is None:
            self._cache.clear()
            self._loading.clear()
        else:
            self._cache.pop(exam_id, None)
            self._loading.pop(exam_id, None)

    async def restriction(self, exam_id: int) -> ExamRestriction | None:
        """The exam's restriction as of at most a second ago; None when the exam does not exist."""
        now = self.clock()
        cached = self._cache.get(exam_id)
        if cached is not None and now - cached[0] < RESTRICTION_TTL_SECONDS:
            return cached[1]
        # One load per exam at a time: hundreds of handshakes arrive together when the second runs out.
        loading = self._loading.get(exam_id)
        if loading is None:
            loading = asyncio.ensure_future(self._reload(exam_id, now))
            self._loading[exam_id] = loading
            loading.add_done_callback(lambda done: self._loading.pop(exam_id, None)
                                      if self._loading.get(exam_id) is done else None)
        return await asyncio.shield(loading)

    async def _reload(self, exam_id: int, now: float) -> ExamRestriction | None:
        invalidations = self._invalidations
        async with self.db.read() as session:
            restriction = await self._load(session, exam_id)
        if invalidations == self._invalidations:  # else it may predate a change: the next caller reloads
            self._cache[exam_id] = (now, restriction)
        return restriction

    async def _load(self, session: AsyncSession, exam_id: int) -> ExamRestriction | None:
        exam = await session.get(Exam, exam_id)
        if exam is None:
            return None
        policy = await session.get(ExamLocationPolicy, exam_id)
        profiles = (await session.execute(
            select(LocationProfile, Location.name)
            .join(ExamLocationProfile, ExamLocationProfile.profile_id == LocationProfile.id)
            .outerjoin(Location, Location.id == LocationProfile.location_id)
            .where(ExamLocationProfile.exam_id == exam_id).order_by(LocationProfile.id))).all()
        versions = tuple(self.compiler.version_of(profile, location or "") for profile, location in profiles)
        if policy is None:
            return ExamRestriction(exam.id, exam.institution_id, exam.name, exam.end_time, PolicyMode.ENFORCE,
                                   False, ViolationAction.LOG, False, versions)
        exceptions = []
        for exception in (await session.execute(select(LocationException).where(
                LocationException.exam_id == exam_id))).scalars():
            substitute = None
            if exception.substitute_profile_id is not None:
                profile = await session.get(LocationProfile, exception.substitute_profile_id)
                substitute = self.compiler.version_of(profile) if profile is not None else None
            members = ([exception.name] if exception.kind == ExceptionKind.USER.value
                       else exception.members.splitlines())
            exceptions.append(PlannedException(
                exception.id, ExceptionKind(exception.kind), exception.name,
                frozenset(member.strip().casefold() for member in members if member.strip()), substitute,
                exception.valid_from, exception.valid_to))
        overrides = tuple(
            ActiveOverride(row.id, OverrideScope(row.scope), row.connection_id,
                           row.user_session_id.casefold() if row.user_session_id else None, row.address,
                           row.expires_at)
            for row in (await session.execute(select(LocationOverride).where(
                LocationOverride.exam_id == exam_id, LocationOverride.revoked_at.is_(None)))).scalars())
        return ExamRestriction(exam.id, exam.institution_id, exam.name, exam.end_time, PolicyMode(policy.mode),
                               policy.hide_when_outside, ViolationAction(policy.on_violation), policy.suspended,
                               versions, tuple(exceptions), overrides)

    async def seats(self, exam_id: int) -> dict[int, Seat]:
        """Each connection's room, seat and location status, by connection id, as of at most a second ago
        (monitoring reads it for every tick; an exam without a restriction costs nothing)."""
        restriction = await self.restriction(exam_id)
        if restriction is None or not restriction.profiles:
            return {}
        now = self.clock()
        cached = self._seats.get(exam_id)
        if cached is not None and now - cached[0] < RESTRICTION_TTL_SECONDS:
            return cached[1]
        async with self.db.read() as session:
            rows = await session.execute(select(
                ConnectionLocation.connection_id, ConnectionLocation.status, ConnectionLocation.room,
                ConnectionLocation.seat, ConnectionLocation.approval_code).where(ConnectionLocation.exam_id == exam_id))
            seats = {row.connection_id: Seat(row.status, row.room, row.seat, row.approval_code) for row in rows}
        self._seats[exam_id] = (now, seats)
        return seats

    # -- the admission check -------------------------------------------------------------------------

    async def check(self, request: AdmissionRequest) -> AdmissionDecision:
        if request.exam_id is None or request.connection_id is None:
            # handshake-create: the connection does not exist yet and the user is unknown; PATCH enforces.
            return AdmissionDecision.allow()
        restriction = await self.restriction(request.exam_id)
        if restriction is None or not restriction.restricted:
            return AdmissionDecision.allow()
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            client = await self._client(session, request)
            decision = decide(restriction, request.client_address, connection_id=request.connection_id,
                              user_ids=client.user_ids, now=now)
            snapshot = await session.get(ConnectionLocation, request.connection_id, with_for_update=True)
            if request.forwarding_ignored and snapshot is None:
                # Sampled: once per connection, at its first check (a spoofing attempt or a misconfigured proxy).
                self._record(session, AuditCode.UNTRUSTED_FORWARDING, request, restriction, decision, client, now,
                             msg="forwarding headers from a peer that is not a trusted proxy were ignored")
            if request.step == "address-change":
                return self._moved(session, request, restriction, decision, client, snapshot, now)
            return self._handshake(session, request, restriction, decision, client, snapshot, now)

    def _handshake(self, session: AsyncSession, request: AdmissionRequest, restriction: ExamRestriction,
                   decision: Decision, client: _Client, snapshot: ConnectionLocation | None, now: datetime
                   ) -> AdmissionDecision:
        enforce = restriction.mode is PolicyMode.ENFORCE
        if decision.allowed:
            status = _admitted_status(decision)
            first = snapshot is None or snapshot.first_allowed_ms is None
            snapshot = self._snapshot(session, request, decision, status, snapshot, now)
            if first:
                snapshot.first_allowed_ms = now_ms()
                code = AuditCode.EXCEPTION_APPLIED if decision.reason is Reason.EXCEPTION else AuditCode.ALLOWED
                self._record(session, code, request, restriction, decision, client, now,
                             msg=_allowed_message(decision))
            return AdmissionDecision.allow()
        status = LocationStatus.BLOCKED if enforce else LocationStatus.WOULD_BLOCK
        snapshot = self._snapshot(session, request, decision, status, snapshot, now)
        if not snapshot.approval_code:
            snapshot.approval_code = _approval_code()
        if request.address_problem:
            self._record(session, AuditCode.UNRESOLVABLE, request, restriction, decision, client, now,
                         msg=request.address_problem)
        self._record(session, AuditCode.START_BLOCKED, request, restriction, decision, client, now,
                     act="blocked" if enforce else "logged", msg=_denied_message(decision))
        if not enforce:
            return AdmissionDecision.allow()
        return AdmissionDecision.deny(restriction.help_text, DENIED_CODE,
                                      details={"approval_code": snapshot.approval_code})

    def _moved(self, session: AsyncSession, request: AdmissionRequest, restriction: ExamRestriction,
               decision: Decision, client: _Client, snapshot: ConnectionLocation | None, now: datetime
               ) -> AdmissionDecision:
        """A bound client reports from a new address: logged, flagged, never refused (the ping stays 200)."""
        stamp = now_ms()
        recent = (snapshot is not None and snapshot.last_change_event_ms is not None
                  and stamp - snapshot.last_change_event_ms < CHANGE_RECORD_INTERVAL_MS)
        if decision.allowed:
            status = _admitted_status(decision)
            snapshot = self._snapshot(session, request, decision, status, snapshot, now)
            if not recent:
                snapshot.last_change_event_ms = stamp
                self._record(session, AuditCode.IP_CHANGED, request, restriction, decision, client, now,
                             msg=f"address changed from {request.previous_address} and is still admitted")
            return AdmissionDecision.allow()
        quit_client = (restriction.on_violation is ViolationAction.QUIT and restriction.mode is PolicyMode.ENFORCE)
        was_violating = snapshot is not None and snapshot.status == LocationStatus.VIOLATION
        snapshot = self._snapshot(session, request, decision, LocationStatus.VIOLATION, snapshot, now)
        snapshot.violations += 1
        if not (recent and was_violating) or quit_client:
            snapshot.last_change_event_ms = stamp
            self._record(session, AuditCode.VIOLATION, request, restriction, decision, client, now,
                         act="quit" if quit_client else "logged",
                         msg=_moved_message(request, decision, snapshot.violations))
        return AdmissionDecision.deny(_denied_message(decision), DENIED_CODE, quit_client=quit_client)

    # -- the handshake list --------------------------------------------------------------------------

    async def visible_exams(self, request: AdmissionRequest, exam_ids: Sequence[int]) -> Collection[int]:
        """Leave out exams that hide themselves from clients outside (reference H1). The user is not known
        yet, so an exam with exceptions is always listed (its exceptions may admit the user)."""
        visible = []
        now = datetime.now(UTC)
        for exam_id in exam_ids:
            restriction = await self.restriction(exam_id)
            if (restriction is None or not restriction.restricted or not restriction.hide_when_outside
                    or restriction.exceptions or restriction.mode is PolicyMode.LOG_ONLY):
                visible.append(exam_id)
                continue
            if decide(restriction, request.client_address, connection_id=None, user_ids=(), now=now).allowed:
                visible.append(exam_id)
        return visible

    # -- writing -------------------------------------------------------------------------------------

    @staticmethod
    def _snapshot(session: AsyncSession, request: AdmissionRequest, decision: Decision, status: str,
                  snapshot: ConnectionLocation | None, now: datetime) -> ConnectionLocation:
        assert request.exam_id is not None and request.connection_id is not None
        if snapshot is None:
            snapshot = ConnectionLocation(connection_id=request.connection_id, exam_id=request.exam_id,
                                          violations=0, approval_code="")
            session.add(snapshot)
        snapshot.exam_id = request.exam_id
        snapshot.status = status
        snapshot.reason = decision.reason.value
        snapshot.address = decision.address or request.client_address
        snapshot.user_id = request.user_session_id or snapshot.user_id
        snapshot.peer_address = request.peer_address
        snapshot.forwarded_chain = request.forwarded_chain[:512]
        snapshot.profile_id = decision.profile.profile_id if decision.profile else None
        snapshot.profile_version = decision.profile.version if decision.profile else None
        snapshot.rule = decision.rule_text[:320]
        snapshot.room = decision.room[:255]
        snapshot.seat = decision.seat[:255]
        snapshot.message = _allowed_message(decision) if decision.allowed else _denied_message(decision)
        snapshot.decided_ms = now_ms()
        return snapshot

    def _record(self, session: AsyncSession, code: AuditCode, request: AdmissionRequest,
                restriction: ExamRestriction, decision: Decision, client: _Client, now: datetime, *,
                act: str | None = None, msg: str = "") -> None:
        self.audit.add(session, AuditRecord(
            timestamp=now, code=code, src_ip=request.client_address or "", peer_ip=request.peer_address or "",
            fwd_chain=request.forwarded_chain, suid=request.user_session_id or "", suser=client.user,
            session_id=str(request.connection_id), exam_id=restriction.exam_id,
            profile_id=decision.profile.profile_id if decision.profile else None,
            profile_ver=decision.profile.version if decision.profile else None, rule=decision.rule_text,
            reason=decision.reason.value, room=decision.room, seat=decision.seat, client_machine=client.machine,
            client_os=client.os, seb_version=client.seb_version, override_id=decision.override_id,
            msg=msg, http_useragent=request.user_agent, act=act, request=request.request_line),
            institution_id=restriction.institution_id, connection_id=request.connection_id)

    @staticmethod
    async def _client(session: AsyncSession, request: AdmissionRequest) -> _Client:
        row = await session.get(ClientConnection, request.connection_id)
        if row is None:
            return _Client(tuple(filter(None, (request.user_session_id,))), request.user_session_id or "", "", "",
                           "")
        ids = tuple(dict.fromkeys(filter(None, (request.user_session_id, row.lms_user_session_id,
                                                row.user_session_id))))
        return _Client(ids, row.user_session_id or "", row.seb_machine_name or "", row.seb_os_name or "",
                       row.seb_version or "")


def _admitted_status(decision: Decision) -> LocationStatus:
    return {Reason.OVERRIDE: LocationStatus.OVERRIDDEN, Reason.EXCEPTION: LocationStatus.EXCEPTION}.get(
        decision.reason, LocationStatus.ALLOWED)


def _approval_code() -> str:
    return "".join(secrets.choice(APPROVAL_ALPHABET) for _ in range(APPROVAL_LENGTH))


def _allowed_message(decision: Decision) -> str:
    if decision.reason is Reason.OVERRIDE:
        return "admitted by a proctor's override"
    if decision.reason is Reason.EXCEPTION:
        return "admitted by a planned exception"
    where = decision.room or (decision.profile.name if decision.profile else "")
    return f"admitted: {where}" if where else "admitted"


def _denied_message(decision: Decision) -> str:
    if decision.reason is Reason.UNRESOLVABLE:
        return "the client address could not be determined"
    if decision.reason is Reason.BLOCK_RULE:
        return f"address {decision.address} blocked by rule {decision.rule_text}"
    return f"address {decision.address} is in no admitted location"


def _moved_message(request: AdmissionRequest, decision: Decision, violations: int) -> str:
    moved = request.previous_address != request.client_address
    text = (f"moved from {request.previous_address}: " if moved else "re-checked (override revoked): ")
    text += _denied_message(decision)
    return text + (f" ({violations} violations)" if violations > 1 else "")
