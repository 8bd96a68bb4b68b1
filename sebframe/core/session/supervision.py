"""What SEB Server's master task does every few seconds: missing-ping events and the app-signature-key
grant flag, done by one server process at a time.

The process holding the ``supervision`` lease (a row of ``session_lease``, taken over when its holder stops
renewing it) does the work, after flushing its own pings, from the database, so it sees every process's
pings. One holder means each transition is logged once, and the changes go out as bulk updates: when a whole
room's network drops, thousands of connections turn missing at once.

Other domains add their periodic work to ``jobs`` (live proctoring assigns connections to rooms); the holder runs
them after its own, each on its own (one failing job is logged and does not stop the others).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from sebframe.core.db import Database, table_of
from sebframe.core.db.models import ACTIVE_STATES, ClientConnection, SessionLease
from sebframe.core.session.ask import grant_decision
from sebframe.core.session.clock import now_ms
from sebframe.core.session.events import EventType

if TYPE_CHECKING:
    from sebframe.core.session.runtime import SessionRuntime

MISSING_PING_TEXT = "Missing Client Ping"
PING_BACK_TEXT = "Client Ping Back To Normal"
log = logging.getLogger(__name__)

LEASE_NAME = "supervision"
LEASE_MS = 15_000  # another process takes over when the holder has not renewed for this long


class Supervisor:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.holder = uuid.uuid4().hex  # this process
        self.jobs: list[Callable[[SessionRuntime], Awaitable[None]]] = []

    async def run(self, runtime: SessionRuntime) -> None:
        if not (runtime.running or self.jobs) or not await self._lease():
            return
        if runtime.running:
            await self._supervise(runtime)
        for job in self.jobs:
            try:
                await job(runtime)
            except Exception:
                log.exception("supervision job %s failed", getattr(job, "__qualname__", job))

    async def _supervise(self, runtime: SessionRuntime) -> None:
        running = runtime.running
        now = now_ms()
        async with self.db.read() as session:
            rows = (await session.execute(
                select(ClientConnection.id, ClientConnection.exam_id, ClientConnection.last_ping_ms,
                       ClientConnection.created_ms, ClientConnection.missing_ping, ClientConnection.ask,
                       ClientConnection.security_check_granted)
                .where(ClientConnection.exam_id.in_(list(running)),
                       ClientConnection.status.in_([state.value for state in ACTIVE_STATES]))
                .order_by(ClientConnection.id))).all()
        changes: list[dict[str, Any]] = []
        events = []
        grants = dict(self._grant_changes(runtime, rows))
        for row in rows:
            age = now - (row.last_ping_ms or row.created_ms)
            missing = age >= running[row.exam_id].missing_ping_threshold_ms
            if missing == row.missing_ping and row.id not in grants:
                continue
            changes.append({"connection_id": row.id, "missing": missing, "changed": now,
                            "granted": grants.get(row.id, row.security_check_granted)})
            if missing != row.missing_ping:
                events.append((row, EventType.ERROR_LOG if missing else EventType.INFO_LOG,
                               MISSING_PING_TEXT if missing else PING_BACK_TEXT, float(age)))
        if not changes:
            return
        table = table_of(ClientConnection)
        async with self.db.engine.begin() as connection:  # rows in id order: no deadlock with the ping flush
            await connection.execute(
                update(table).where(table.c.id == bindparam("connection_id"))
                .values(missing_ping=bindparam("missing"), changed_ms=bindparam("changed"),
                        security_check_granted=bindparam("granted")), changes)
        for row, event_type, text, age in events:
            runtime.server_event_for(row.id, row.exam_id, event_type, text, age)

    async def _lease(self) -> bool:
        """Take or renew the lease; True while this process holds it."""
        now = now_ms()
        table = table_of(SessionLease)
        async with self.db.engine.begin() as connection:
            result = await connection.execute(
                update(table).where(table.c.name == LEASE_NAME,
                                    or_(table.c.holder == self.holder, table.c.expires_ms < now))
                .values(holder=self.holder, expires_ms=now + LEASE_MS))
            if result.rowcount:
                return True
            exists = (await connection.execute(select(table.c.name).where(table.c.name == LEASE_NAME))).first()
        if exists is not None:
            return False
        try:  # the row the migration creates was deleted (tests empty every table): the first process recreates it
            async with self.db.engine.begin() as connection:
                await connection.execute(insert(table).values(name=LEASE_NAME, holder=self.holder,
                                                              expires_ms=now + LEASE_MS))
        except IntegrityError:
            return False
        return True

    @staticmethod
    def _grant_changes(runtime: SessionRuntime, rows: Sequence[Row[*tuple[Any, ...]]]) -> list[tuple[int, bool]]:
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
