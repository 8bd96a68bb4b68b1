"""What SEB Server's master task does every few seconds, done by whichever process gets there first:
missing-ping events and the app-signature-key grant flag.

It reads the database after the process flushed its own pings, so it sees every process's pings. A flag
changes with a conditional update (``WHERE missing_ping = old``), and only the process whose update took
writes the event: two processes never log the same transition twice.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from sebframe.core.db import Database
from sebframe.core.db.models import ClientConnection
from sebframe.core.session.ask import grant_decision
from sebframe.core.session.clock import now_ms
from sebframe.core.session.events import EventType
from sebframe.core.session.states import ACTIVE_STATES

if TYPE_CHECKING:
    from sebframe.core.session.runtime import SessionRuntime

MISSING_PING_TEXT = "Missing Client Ping"
PING_BACK_TEXT = "Client Ping Back To Normal"


class Supervisor:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def run(self, runtime: SessionRuntime) -> None:
        running = runtime.running
        if not running:
            return
        now = now_ms()
        async with self.db.read() as session:
            rows = (await session.execute(
                select(ClientConnection.id, ClientConnection.exam_id, ClientConnection.last_ping_ms,
                       ClientConnection.created_ms, ClientConnection.missing_ping, ClientConnection.ask,
                       ClientConnection.security_check_granted)
                .where(ClientConnection.exam_id.in_(list(running)),
                       ClientConnection.status.in_([state.value for state in ACTIVE_STATES])))).all()
        missing_changes = []
        for row in rows:
            age = now - (row.last_ping_ms or row.created_ms)
            missing = age >= running[row.exam_id].missing_ping_threshold_ms
            if missing != row.missing_ping:
                missing_changes.append((row, missing, age))
        grant_changes = self._grant_changes(runtime, rows)
        if not missing_changes and not grant_changes:
            return
        async with self.db.transaction() as session:
            for row, missing, age in missing_changes:
                result = await session.execute(
                    update(ClientConnection)
                    .where(ClientConnection.id == row.id, ClientConnection.missing_ping.is_(row.missing_ping))
                    .values(missing_ping=missing, changed_ms=now))
                if result.rowcount:  # type: ignore[attr-defined]
                    event_type, text = ((EventType.ERROR_LOG, MISSING_PING_TEXT) if missing
                                        else (EventType.INFO_LOG, PING_BACK_TEXT))
                    runtime.server_event_for(row.id, row.exam_id, event_type, text, float(age))
            for connection_id, granted in grant_changes:
                await session.execute(update(ClientConnection).where(ClientConnection.id == connection_id)
                                      .values(security_check_granted=granted, changed_ms=now))

    @staticmethod
    def _grant_changes(runtime: SessionRuntime, rows: list) -> list[tuple[int, bool]]:  # type: ignore[type-arg]
        """SEB Server's numerical trust: an ASK shared by more connections than the threshold, or a registered
        grant, is trusted. Only for exams that check signature keys."""
        counts = Counter((row.exam_id, row.ask) for row in rows if row.ask)
        changes = []
        for row in rows:
            exam = runtime.running[row.exam_id]
            if not exam.signature_key_check:
                continue
            granted = grant_decision(row.ask, exam.signature_key_grants, counts[(row.exam_id, row.ask)],
                                     exam.signature_key_trust_threshold)
            if granted != row.security_check_granted:
                changes.append((row.id, granted))
        return changes
