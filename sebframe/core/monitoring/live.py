"""The live state of an exam's SEB connections as supervisors see it: status, missing ping, notifications,
security flags and indicator values, computed by the installed indicator plugins from the stored events.

Indicator values are folded from ``client_event`` rows, so every server process shows the same values
whichever process received the events. Each process keeps the folds of running exams warm in the background
(:meth:`MonitoringService.warm`, every few seconds): the first fold reads the exam's whole history, later
ones only what arrived since (re-reading a few seconds back, because events committed by other processes may
carry slightly older server times), so even the first view of an exam after a restart is quick.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sebframe.core.accounts.actor import Actor
from sebframe.core.db import Database
from sebframe.core.db.models import (
    ACTIVE_STATES,
    ClientConnection,
    ClientEvent,
    ClientNotification,
    ConnectionStatus,
    Exam,
)
from sebframe.core.exams.access import MonitoredExam, load_monitored_exam
from sebframe.core.monitoring.cells import Cell, indicator_cell
from sebframe.core.session.clock import now_ms
from sebframe.core.session.running import LiveIndicator, RunningExam
from sebframe.core.session.runtime import SessionRuntime
from sebframe.types import ClientEventView

log = logging.getLogger(__name__)

_STATUSES = {status.value: status for status in ConnectionStatus}

NO_NAME = "--"  # a connection without OS login, machine name or LMS user
FOLD_OVERLAP_MS = 5_000
FOLD_IDLE_SECONDS = 600.0  # a fold not used (nor warmed: its exam ended) in this long is dropped
WARM_SECONDS = 5.0
FOLD_CHUNK = 10_000


@dataclass
class ExamFold:
    """Indicator values of one exam's connections, folded from its events in server-time order."""

    indicators: tuple[LiveIndicator, ...]
    values: dict[int, list[float]] = field(default_factory=dict)
    seen: dict[int, int] = field(default_factory=dict)  # event id -> server time, within the overlap window
    until_ms: int = 0
    used: float = 0.0

    def fold(self, connection_id: int, event: ClientEventView) -> None:
        values = self.values.get(connection_id)
        if values is None:
            values = self.values[connection_id] = [item.computation.initial_value() for item in self.indicators]
        for index, item in enumerate(self.indicators):
            values[index] = item.computation.on_event(values[index], event)

    def initial(self) -> list[float]:
        return [item.computation.initial_value() for item in self.indicators]


@dataclass(frozen=True)
class Notification:
    id: int
    type: str  # raisehand, lockscreen
    text: str
    client_id: int


@dataclass(slots=True)  # not frozen: 5,000 of them per snapshot, and frozen __init__ costs twice as much
class ConnectionState:
    id: int
    token: str
    user_session_id: str
    client_address: str | None
    seb_os_name: str | None
    seb_version: str | None
    seb_machine_name: str | None
    status: ConnectionStatus
    missing: bool
    notifications: tuple[Notification, ...]
    security_check_granted: bool | None
    client_version_granted: bool | None
    last_ping_ms: int | None
    cells: tuple[Cell, ...]

    @property
    def incident(self) -> bool:
        """SEB Server's ``hasAnyIncident``: missing ping, a pending notification, or an indicator incident."""
        return self.missing or bool(self.notifications) or any(cell.incident for cell in self.cells)

    @property
    def info(self) -> str:
        """SEB Server's connection info: ``SEB:<version>, OS:<first part of the OS name>, IP:<address>``."""
        os_name = (self.seb_os_name or "").split(",")[0].strip() or "--"
        return f"SEB:{self.seb_version or '--'}, OS:{os_name}, IP:{self.client_address or '--'}"


@dataclass(frozen=True)
class ExamSnapshot:
    exam_id: int
    exam_name: str
    running: bool
    indicators: tuple[LiveIndicator, ...]
    connections: tuple[ConnectionState, ...]
    taken_ms: int

    def counts(self) -> Counter[str]:
        """Connections per state; ``ACTIVE`` split into with and without incident, as the filters need."""
        counts: Counter[str] = Counter()
        for connection in self.connections:
            counts[connection.status.value] += 1
            if connection.status is ConnectionStatus.ACTIVE and not connection.incident:
                counts["ACTIVE_NO_INCIDENT"] += 1
        return counts


def without_notification_texts(snapshot: ExamSnapshot) -> ExamSnapshot:
    """The snapshot with every notification's text blanked (its kind and id stay: a raised hand is part of the
    connection's state). A copy: snapshots are shared between watchers."""
    if not any(state.notifications for state in snapshot.connections):
        return snapshot
    connections = tuple(replace(state, notifications=tuple(replace(note, text="") for note in state.notifications))
                        if state.notifications else state for state in snapshot.connections)
    return replace(snapshot, connections=connections)


class MonitoringService:
    def __init__(self, db: Database, runtime: SessionRuntime) -> None:
        self.db = db
        self.runtime = runtime
        self._folds: dict[int, ExamFold] = {}
        self._shared: dict[int, ExamSnapshot] = {}

    async def access(self, actor: Actor, exam_id: int) -> MonitoredExam:
        """Whether ``actor`` may watch the exam (else ``NotFound`` or ``PermissionDenied``), read its client
        events and supervise it: what a screen checks before it shows (or starts streaming) anything."""
        async with self.db.read() as session:
            return await load_monitored_exam(session, actor, exam_id)

    async def snapshot(self, actor: Actor, exam_id: int, *, connection_id: int | None = None,
                       max_age_ms: int = 0) -> ExamSnapshot:
        """All connections of the exam with their current state (``CLIENT_CONNECTION`` read on the exam); with
        ``connection_id`` only that one (the connection detail view; none when it is not the exam's). Without
        ``CLIENT_EVENT`` read the notifications come without their texts (what the student wrote is a client
        event).

        ``max_age_ms``: a snapshot of the whole exam taken that recently (for anybody) is good enough; live
        streams pass their tick, so ten supervisors watching one exam cost one snapshot per tick, not ten."""
        now = now_ms()
        async with self.db.read() as session:
            access = await load_monitored_exam(session, actor, exam_id)
            exam: Exam = access.exam
            shared = self._shared.get(exam.id)
            if connection_id is None and shared is not None and now - shared.taken_ms <= max_age_ms:
                snapshot = shared
            else:
                snapshot = await self._take(session, exam.id, exam.name, connection_id, now)
        return snapshot if access.may_read_logs else without_notification_texts(snapshot)

    async def _take(self, session: AsyncSession, exam_id: int, exam_name: str, connection_id: int | None,
                    now: int) -> ExamSnapshot:
        only = (ClientConnection.id == connection_id,) if connection_id is not None else ()
        rows = (await (await session.connection()).execute(select(  # Core rows: no ORM loading
            ClientConnection.id, ClientConnection.connection_token, ClientConnection.user_session_id,
            ClientConnection.client_address, ClientConnection.seb_os_name, ClientConnection.seb_version,
            ClientConnection.seb_machine_name, ClientConnection.status, ClientConnection.last_ping_ms,
            ClientConnection.created_ms, ClientConnection.security_check_granted,
            ClientConnection.client_version_granted).where(ClientConnection.exam_id == exam_id, *only)
            .order_by(ClientConnection.id))).all()
        notifications: dict[int, list[Notification]] = {}
        for row in (await session.execute(
                select(ClientNotification).join(ClientConnection,
                                                ClientConnection.id == ClientNotification.connection_id)
                .where(ClientConnection.exam_id == exam_id, ClientNotification.confirmed_ms.is_(None), *only)
                .order_by(ClientNotification.id))).scalars():
            notifications.setdefault(row.connection_id, []).append(
                Notification(row.id, row.notification_type, row.text, row.value))
        running = self.runtime.running.get(exam_id)
        fold = await self._fold(session, running) if running is not None else None
        indicators = running.indicators if running is not None else ()
        states = []
        shared: dict[tuple[int, float, bool], Cell] = {}  # cells are immutable: equal values share one
        folded = fold.values if fold is not None else {}
        initial = fold.initial() if fold is not None else []
        runtime = self.runtime
        numbered = tuple(enumerate(indicators))
        # Unpacked by position: 5,000 rows a tick, and a named column costs a lookup each.
        # (``row_id``, not ``connection_id``: that parameter says below whether this is the whole exam's snapshot.)
        for (row_id, token, user_session_id, address, os_name, version, machine, status_name, stored_ping,
             created_ms, security_granted, version_granted) in rows:
            status = _STATUSES[status_name]
            last_ping = runtime.last_ping(token, stored_ping)
            active = status in ACTIVE_STATES
            missing = runtime.is_missing(exam_id, status_name, last_ping, created_ms, now)
            values = folded.get(row_id, initial)
            cells = tuple([self._cell(shared, index, indicator, values[index], last_ping, now, active)
                           for index, indicator in numbered])
            states.append(ConnectionState(
                id=row_id, token=token, user_session_id=user_session_id or NO_NAME, client_address=address,
                seb_os_name=os_name, seb_version=version, seb_machine_name=machine, status=status, missing=missing,
                notifications=tuple(notifications.get(row_id, ())), security_check_granted=security_granted,
                client_version_granted=version_granted, last_ping_ms=last_ping, cells=cells))
        snapshot = ExamSnapshot(exam_id, exam_name, running is not None, indicators, tuple(states), now)
        if connection_id is None:
            self._shared[exam_id] = snapshot
        return snapshot

    @staticmethod
    def _cell(shared: dict[tuple[int, float, bool], Cell], index: int, indicator: LiveIndicator, value: float,
              last_ping: int | None, now: int, active: bool) -> Cell:
        current = indicator.computation.current_value(value, last_ping, now)
        key = (index, current, active)
        cell = shared.get(key)
        if cell is None:
            cell = shared[key] = indicator_cell(current, indicator.thresholds, inverse=indicator.inverse,
                                                default_color=indicator.color, active=active,
                                                show_only_when_active=indicator.show_only_when_active)
        return cell

    async def _fold(self, session: object, running: RunningExam) -> ExamFold:
        """Bring the exam's fold up to date (created on first use, rebuilt when its indicators changed)."""
        self._drop_idle()
        fold = self._folds.get(running.id)
        if fold is None or [item.id for item in fold.indicators] != [item.id for item in running.indicators]:
            fold = self._folds[running.id] = ExamFold(running.indicators)
        fold.used = time.monotonic()
        if not fold.indicators or not any(item.type != "LAST_PING" for item in fold.indicators):
            return fold
        since = fold.until_ms - FOLD_OVERLAP_MS if fold.until_ms else -1
        last_id = 0
        connection = await session.connection()  # type: ignore[attr-defined]  # Core rows: no ORM loading
        while True:
            rows = (await connection.execute(
                select(ClientEvent.id, ClientEvent.connection_id, ClientEvent.event_type, ClientEvent.text,
                       ClientEvent.numeric_value, ClientEvent.server_time_ms)
                .where(ClientEvent.exam_id == running.id, ClientEvent.server_time_ms > since,
                       ClientEvent.id > last_id)
                .order_by(ClientEvent.id).limit(FOLD_CHUNK))).all()
            for row in rows:
                if row.id in fold.seen:
                    continue
                fold.seen[row.id] = row.server_time_ms
                fold.fold(row.connection_id, ClientEventView(row.event_type, row.text, row.numeric_value,
                                                             row.server_time_ms))
                fold.until_ms = max(fold.until_ms, row.server_time_ms)
            if len(rows) < FOLD_CHUNK:
                break
            last_id = rows[-1].id
        horizon = fold.until_ms - 2 * FOLD_OVERLAP_MS
        fold.seen = {event_id: at for event_id, at in fold.seen.items() if at > horizon}
        return fold

    async def warm(self) -> None:
        """Bring the folds of all running exams up to date (the app runs this in the background). An exam seen
        for the first time also gets one snapshot: the first takes a third longer (cold statement and database
        caches), and that should not be a supervisor's first view."""
        for running in list(self.runtime.running.values()):
            async with self.db.read() as session:
                if running.id in self._folds:
                    await self._fold(session, running)
                else:
                    await self._take(session, running.id, running.name, None, now_ms())

    async def warm_forever(self, interval: float = WARM_SECONDS) -> None:
        while True:
            try:
                await self.warm()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("warming the monitoring folds failed; retrying in %.0f s", interval)
            await asyncio.sleep(interval)

    def _drop_idle(self) -> None:
        limit = time.monotonic() - FOLD_IDLE_SECONDS
        for exam_id in [exam_id for exam_id, fold in self._folds.items() if fold.used < limit]:
            del self._folds[exam_id]
        oldest = now_ms() - int(FOLD_IDLE_SECONDS * 1000)
        for exam_id in [exam_id for exam_id, shared in self._shared.items() if shared.taken_ms < oldest]:
            del self._shared[exam_id]
