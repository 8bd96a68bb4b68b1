"""The live session runtime of one server process: SEB client connections in memory, no database I/O on a
ping, batched writes, and a sync with the database that lets several processes serve the same clients.

Every ``sync_interval`` the runtime writes the pings it received, deletes delivered instructions, and reads
back what other processes (or admins) changed: new instructions, connection state, revoked tokens and
the set of running exams. Every ``supervision_interval`` it raises missing-ping events and updates the
security flags (see :mod:`sebframe.core.session.supervision`).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update

from sebframe.core.db import Database, table_of
from sebframe.core.db.models import (
    ACTIVE_STATES,
    ClientConnection,
    ClientInstruction,
    ClientNotification,
    ConnectionStatus,
)
from sebframe.core.plugins import PluginRegistry
from sebframe.core.session.admission import Admission
from sebframe.core.session.clock import now_ms
from sebframe.core.session.errors import illegal_argument
from sebframe.core.session.events import ClientLogEvent, EventType, clean_text, notification_kind
from sebframe.core.session.instructions import (
    INSTRUCTION_TTL_MS,
    Instruction,
    InstructionType,
    decode_attributes,
    encode_attributes,
)
from sebframe.core.session.live import LiveConnection
from sebframe.core.session.origin import Origin
from sebframe.core.session.round_timer import RoundTimer
from sebframe.core.session.running import RunningExam, load_running_exams
from sebframe.core.session.supervision import Supervisor
from sebframe.core.session.text import client_text
from sebframe.core.session.tokens import ExamApiTokens
from sebframe.core.session.writer import EventRefused, EventRow, EventWriter

log = logging.getLogger(__name__)

AUTOMATED_QUIT_TEXT = "Automated SEB Client quit sent from SEB Server"
UNKNOWN_TOKEN_SECONDS = 10.0
MAX_UNKNOWN_TOKENS = 50_000
LOAD_BATCH = 500
CLOSED_EVICTION_MS = 120_000  # closed connections leave memory after two minutes without a ping
STATE_SYNC_MARGIN_MS = 5_000  # other processes' commits may land a little after their changed_ms
GC_THRESHOLDS = (100_000, 50, 100)  # CPython's defaults: (700, 10, 10)
SLOW_SYNC_SECONDS = 0.25


class SessionRuntime:
    def __init__(self, db: Database, plugins: PluginRegistry, tokens: ExamApiTokens, *,
                 sync_interval: float = 1.0, supervision_interval: float = 5.0) -> None:
        self.db = db
        self.plugins = plugins
        self.tokens = tokens
        self.sync_interval = sync_interval
        self.supervision_interval = supervision_interval
        self.writer = EventWriter(db)
        self.connections: dict[str, LiveConnection] = {}
        self.running: dict[int, RunningExam] = {}
        self._by_id: dict[int, LiveConnection] = {}
        self._unknown: dict[str, float] = {}
        self._loading: dict[str, asyncio.Future[LiveConnection | None]] = {}
        self._load_queue: list[str] = []
        self._loader: asyncio.Task[None] | None = None
        self._delivered: list[int] = []  # instruction ids delivered since the last sync
        self._last_instruction_id = 0
        self._state_since_ms = 0
        self._task: asyncio.Task[None] | None = None
        self.supervisor = Supervisor(db)
        self._last_supervision = 0.0
        self._last_cleanup = 0.0
        self.admission = Admission(plugins)
        self._rechecks: set[asyncio.Task[None]] = set()

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.refresh_running_exams()
        async with self.db.read() as session:
            self._last_instruction_id = (await session.execute(
                select(func.coalesce(func.max(ClientInstruction.id), 0)))).scalar_one()
        self._state_since_ms = now_ms()
        self.writer.start()
        self._task = asyncio.create_task(self._loop(), name="sebframe-session-sync")
        # The cyclic GC's collections of long-lived state (connections, sockets) stall the event loop for 100 ms
        # and more: measured with bench/ on the bare endpoint, p99 164 ms with the default thresholds, 39 ms with
        # these. What exists now stays; reference counting frees almost everything a request allocates.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)

    async def stop(self) -> None:
        """Stop syncing, then write what is still only in memory (pings, events)."""
        await self.settle()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        try:
            await self.flush()
        finally:
            await self.writer.close()

    async def settle(self) -> None:
        """Wait for the admission re-checks running in the background (address changes)."""
        while self._rechecks:
            await asyncio.gather(*list(self._rechecks), return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.sync_interval)
            try:
                await self.sync()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("session sync failed; retrying in %.1fs", self.sync_interval)

    async def sync(self) -> None:
        """One round: write local changes, then read what others changed. A slow round is logged with the
        time of each step (an operator's first clue when the database gets slow). A round slow only because it
        waited for its turn (other tasks kept the event loop busy, as the template compilation for about a second
        after start, or the machine had no free core) is not the sync's cost: logged at debug level."""
        timer = RoundTimer()
        await timer.run(self._sync_round(timer))
        elapsed = timer.elapsed()
        if elapsed <= SLOW_SYNC_SECONDS:
            return
        elsewhere, no_core = timer.elsewhere(), timer.waiting_for_core()
        level = logging.WARNING if elapsed - elsewhere - no_core > SLOW_SYNC_SECONDS else logging.DEBUG
        log.log(level, "session sync took %.0f ms (%s) holding %d connections; of that, other tasks kept the event "
                "loop busy %.0f ms and the process waited %.0f ms for a CPU core", elapsed * 1000,
                timer.describe_steps(), len(self.connections), elsewhere * 1000, no_core * 1000)

    async def _sync_round(self, timer: RoundTimer) -> None:
        await timer.step("flush", self.flush())
        await timer.step("running exams", self.refresh_running_exams())
        await timer.step("instructions", self._pull_instructions())
        await timer.step("state changes", self._pull_state_changes())
        await timer.step("tokens", self.tokens.sync())
        self._evict_closed()
        monotonic = time.monotonic()
        if monotonic - self._last_supervision >= self.supervision_interval:
            self._last_supervision = monotonic
            await timer.step("supervision", self.supervisor.run(self))
        if monotonic - self._last_cleanup >= INSTRUCTION_TTL_MS / 1000:
            self._last_cleanup = monotonic
            await timer.step("expired instructions", self._delete_expired_instructions())
            await timer.step("expired tokens", self.tokens.delete_expired())

    # -- connections in memory ---------------------------------------------------------------------

    async def connection(self, token: str) -> LiveConnection | None:
        """The live connection of a token; loaded from the database once (another process made it, or this
        one restarted). Tokens missed at the same moment are loaded together: when clients reconnect after a
        load balancer or restart, thousands of first pings share a few queries instead of three each."""
        connection = self.connections.get(token)
        if connection is not None:
            return connection
        if not token or len(token) > 64:
            return None
        token = client_text(token)  # a header's text goes into a query
        seen = self._unknown.get(token)
        if seen is not None and time.monotonic() - seen < UNKNOWN_TOKEN_SECONDS:
            return None
        future = self._loading.get(token)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._loading[token] = future
            self._load_queue.append(token)
            if self._loader is None or self._loader.done():
                self._loader = asyncio.create_task(self._load_batches(), name="sebframe-connection-loader")
        return await asyncio.shield(future)

    async def _load_batches(self) -> None:
        while self._load_queue:
            await asyncio.sleep(0)  # requests arriving in this loop iteration join the batch
            tokens, self._load_queue = self._load_queue[:LOAD_BATCH], self._load_queue[LOAD_BATCH:]
            try:
                loaded = await self._load(tokens)
            except Exception as exc:
                log.exception("loading %d SEB connections failed", len(tokens))
                for token in tokens:
                    future = self._loading.pop(token)
                    future.set_exception(exc)
                    future.exception()  # retrieved: the requests that wait get it
                continue
            for token in tokens:
                self._loading.pop(token).set_result(loaded.get(token))

    async def _load(self, tokens: list[str]) -> dict[str, LiveConnection]:
        loaded: dict[str, LiveConnection] = {}
        async with self.db.read() as session:
            rows = (await session.execute(
                select(ClientConnection).where(ClientConnection.connection_token.in_(tokens)))).scalars().all()
            ids = [row.id for row in rows]
            queued: dict[int, list[Instruction]] = {}
            if ids:
                for stored in (await session.execute(
                        select(ClientInstruction).where(ClientInstruction.connection_id.in_(ids))
                        .order_by(ClientInstruction.id))).scalars():
                    queued.setdefault(stored.connection_id, []).append(_instruction(stored))
            pending = await _pending_counts(session, ids) if ids else {}
        for row in rows:
            connection = self.connections.get(row.connection_token)
            if connection is None:  # not adopted by a handshake call meanwhile
                connection = self._hold(LiveConnection.from_row(row))
                for instruction in queued.get(row.id, []):
                    connection.enqueue(instruction)
                connection.pending_notifications = pending.get(row.id, 0)
            loaded[row.connection_token] = connection
        for token in tokens:
            if token not in loaded:
                if len(self._unknown) >= MAX_UNKNOWN_TOKENS:
                    self._unknown.clear()
                self._unknown[token] = time.monotonic()
        return loaded

    def _hold(self, connection: LiveConnection) -> LiveConnection:
        self.connections[connection.token] = connection
        self._by_id[connection.id] = connection
        self._unknown.pop(connection.token, None)
        return connection

    async def adopt(self, row: ClientConnection, *, created: bool = False) -> LiveConnection:
        """Hold (or refresh) a connection after the database changed it; loads its queue on first sight
        (nothing to load for one this process just ``created``)."""
        connection = self.connections.get(row.connection_token)
        if connection is not None:
            connection.refresh(row)
            return connection
        if not created:
            loaded = (await self._load([row.connection_token])).get(row.connection_token)
            if loaded is not None:
                loaded.refresh(row)
                return loaded
        return self._hold(LiveConnection.from_row(row))

    def last_ping(self, token: str, stored_ms: int | None) -> int | None:
        """The newest ping time known here: this process's own (not yet flushed) or the stored one."""
        held = self.connections.get(token)
        newest = max(stored_ms or 0, (held.last_ping_ms or 0) if held is not None else 0)
        return newest or None

    def is_missing(self, exam_id: int | None, status: str, last_ping_ms: int | None, created_ms: int,
                   now: int) -> bool:
        """SEB Server's missing flag, computed now: a connecting, ready or active connection of a running exam
        whose last ping (or, before the first, its creation) is older than the exam's highest ping threshold."""
        running = self.running.get(exam_id) if exam_id is not None else None
        if running is None or status not in ACTIVE_STATES:  # a StrEnum set: the name is found as it is
            return False
        return now - (last_ping_ms or created_ms) >= running.missing_ping_threshold_ms

    def by_id(self, connection_id: int) -> LiveConnection | None:
        return self._by_id.get(connection_id)

    def _evict_closed(self) -> None:
        limit = now_ms() - CLOSED_EVICTION_MS
        for connection in list(self.connections.values()):
            if connection.status.client_active or connection.ping_dirty:
                continue
            if max(connection.last_ping_ms or 0, connection.changed_ms) < limit:
                del self.connections[connection.token]
                self._by_id.pop(connection.id, None)

    # -- ping --------------------------------------------------------------------------------------

    def ping(self, connection: LiveConnection, confirm: str | None) -> bytes | None:
        """Record the ping; the body of the next instruction, or None for 204. Never touches the database."""
        now = now_ms()
        connection.last_ping_ms = now
        connection.ping_dirty = True
        if confirm:
            self._confirm(connection, confirm)
        if connection.status is ConnectionStatus.DISABLED or (
                connection.exam_id is not None and connection.exam_id not in self.running):
            self._automated_quit(connection, now)
        instruction = connection.next_instruction(now)
        if instruction is None:
            return None
        if not instruction.needs_confirmation and instruction.id:
            self._delivered.append(instruction.id)
        return instruction.body

    def _confirm(self, connection: LiveConnection, confirm: str) -> None:
        try:
            instruction_id = int(confirm.strip())
        except ValueError:
            return
        if connection.confirm(instruction_id) is not None:
            self._delivered.append(instruction_id)

    def _automated_quit(self, connection: LiveConnection, now: int) -> None:
        """SEB Server queues SEB_QUIT for a canceled connection or an exam that is no longer running, so
        every ping of such a client answers with it; logged once per connection and process."""
        if connection.instructions:
            return
        connection.instructions.append(Instruction(0, InstructionType.SEB_QUIT, None, False, now))
        if not connection.quit_logged:
            connection.quit_logged = True
            self.server_event(connection, EventType.WARN_LOG, AUTOMATED_QUIT_TEXT)

    def address_changed(self, connection: LiveConnection, address: str, origin: Origin | None = None) -> None:
        """The client pings from a new address: logged as SEB Server logs it during the handshake, stored with
        the next flush (no database I/O on the ping); the admission checks look at the new address in the
        background."""
        previous, connection.client_address = connection.client_address, address
        connection.address_dirty = True
        self.server_event(connection, EventType.WARN_LOG, f"SEB Client IP address changed: {previous} -> {address}")
        if connection.exam_id is not None and connection.status.client_active and self.admission.active:
            task = asyncio.create_task(self.recheck(connection, previous, origin or Origin.of_address(address)),
                                       name=f"sebframe-admission-recheck-{connection.id}")
            self._rechecks.add(task)
            task.add_done_callback(self._rechecks.discard)

    async def recheck(self, connection: LiveConnection, previous: str | None, origin: Origin) -> None:
        """A refusal after a move cannot stop the ping: it is logged on the connection (monitoring counts it
        as an error) and answered with SEB_QUIT if the check asks for it."""
        assert connection.exam_id is not None
        request = self.admission.request("address-change", connection.institution_id, connection.exam_id,
                                         connection.token, origin, connection_id=connection.id,
                                         user_session_id=connection.lms_user_session_id, previous_address=previous)
        for name, decision in await self.admission.recheck(request):
            self.server_event(connection, EventType.ERROR_LOG,
                              f"Admission check {name} refused the new address {origin.address}: {decision.reason}")
            if decision.quit_client:
                await self.queue_instruction([connection.id], InstructionType.SEB_QUIT, None)

    # -- events ------------------------------------------------------------------------------------

    async def log(self, connection: LiveConnection, event: ClientLogEvent) -> None:
        """Store a client event (returns once it is in the database); a value the database refuses is the
        client's 400 (the writer logged it), never another client's failure."""
        if event.type is EventType.NOTIFICATION:
            await self._notification(connection, event)
            return
        if event.type is EventType.NOTIFICATION_CONFIRMED:
            await self._notification_confirmed(connection, event)
            return
        server_time = now_ms()
        try:
            await self.writer.write(_event_row(connection.id, connection.exam_id, event.type,
                                               event.client_time_ms, server_time, event.numeric_value, event.text))
        except EventRefused:
            raise illegal_argument("The log event holds a value the database cannot store") from None

    def server_event(self, connection: LiveConnection, event_type: EventType, text: str,
                     numeric_value: float | None = None) -> None:
        """An event the server generates for a connection (missing ping, address change, automated quit)."""
        self.server_event_for(connection.id, connection.exam_id, event_type, text, numeric_value)

    def server_event_for(self, connection_id: int, exam_id: int | None, event_type: EventType, text: str,
                         numeric_value: float | None = None) -> None:
        """Like :meth:`server_event` for a connection this process may not hold. The text may quote what a
        client or a plugin sent, so it is made storable like a client's."""
        server_time = now_ms()
        self.writer.write_soon(_event_row(connection_id, exam_id, event_type, server_time, server_time,
                                          numeric_value, clean_text(text)))

    async def _notification(self, connection: LiveConnection, event: ClientLogEvent) -> None:
        kind = notification_kind(event.text)
        if kind is None or event.numeric_value is None:
            return  # SEB Server stores only tagged notifications with the client's id
        now = now_ms()
        async with self.db.transaction() as session:
            session.add(ClientNotification(connection_id=connection.id, notification_type=kind[0],
                                           value=int(event.numeric_value), text=kind[1], created_ms=now))
            await _touch(session, connection, now)
        connection.pending_notifications += 1

    async def _notification_confirmed(self, connection: LiveConnection, event: ClientLogEvent) -> None:
        if event.numeric_value is None:
            return
        now = now_ms()
        async with self.db.transaction() as session:
            result = await session.execute(
                update(ClientNotification)
                .where(ClientNotification.connection_id == connection.id,
                       ClientNotification.value == int(event.numeric_value),
                       ClientNotification.confirmed_ms.is_(None))
                .values(confirmed_ms=now))
            if result.rowcount:  # type: ignore[attr-defined]
                await _touch(session, connection, now)
            connection.pending_notifications = (await _pending_counts(session, [connection.id])).get(connection.id, 0)

    # -- instructions --------------------------------------------------------------------------------

    async def queue_instruction(self, connection_ids: Iterable[int], instruction_type: InstructionType,
                                attributes: Mapping[str, str] | None, *, needs_confirmation: bool = False) -> int:
        """Store an instruction for each connection; the process a client pings delivers it."""
        ids = list(connection_ids)
        await self.queue_instructions([(connection_id, attributes) for connection_id in ids], instruction_type,
                                      needs_confirmation=needs_confirmation)
        return len(ids)

    async def queue_instructions(self, items: Sequence[tuple[int, Mapping[str, str] | None]],
                                 instruction_type: InstructionType, *, needs_confirmation: bool = False
                                 ) -> list[int]:
        """Store one instruction per (connection id, attributes) in one transaction; their ids, in order."""
        if not items:
            return []
        now = now_ms()
        async with self.db.transaction() as session:
            rows = [ClientInstruction(connection_id=connection_id, instruction_type=instruction_type.value,
                                      attributes="", needs_confirmation=needs_confirmation, created_ms=now)
                    for connection_id, _ in items]
            session.add_all(rows)
            await session.flush()
            for row, (connection_id, attributes) in zip(rows, items, strict=True):
                values = dict(attributes) if attributes is not None else None
                if needs_confirmation:
                    values = {**(values or {}), "instruction-confirm": str(row.id)}
                row.attributes = encode_attributes(values)
                held = self._by_id.get(connection_id)
                if held is not None:
                    held.enqueue(_instruction(row))
        return [row.id for row in rows]

    async def withdraw_instructions(self, instruction_ids: Iterable[int | None]) -> None:
        """Delete undelivered instructions (a JOIN superseded by another); other processes stop offering them
        with their next sync. ``None`` (no instruction) is skipped."""
        ids = [instruction_id for instruction_id in instruction_ids if instruction_id]
        if not ids:
            return
        async with self.db.transaction() as session:
            for start in range(0, len(ids), 500):
                await session.execute(delete(ClientInstruction).where(ClientInstruction.id.in_(ids[start:start + 500])))
        withdrawn = set(ids)
        for connection in self.connections.values():
            for instruction in [queued for queued in connection.instructions if queued.id in withdrawn]:
                connection.instructions.remove(instruction)

    async def _pull_instructions(self) -> None:
        async with self.db.read() as session:
            rows = (await session.execute(
                select(ClientInstruction).where(ClientInstruction.id > self._last_instruction_id)
                .order_by(ClientInstruction.id))).scalars().all()
            for row in rows:
                self._last_instruction_id = max(self._last_instruction_id, row.id)
                held = self._by_id.get(row.connection_id)
                if held is not None:
                    held.enqueue(_instruction(row))
            # Delivered or confirmed through another process: stop offering them here.
            queued = {instruction.id: connection for connection in self.connections.values()
                      for instruction in connection.instructions if instruction.id}
            if queued:
                existing = set((await session.execute(
                    select(ClientInstruction.id).where(ClientInstruction.id.in_(list(queued))))).scalars())
                for instruction_id, connection in queued.items():
                    if instruction_id not in existing:
                        connection.confirm(instruction_id)

    async def _delete_expired_instructions(self) -> None:
        async with self.db.transaction() as session:
            await session.execute(delete(ClientInstruction).where(
                ClientInstruction.created_ms < now_ms() - INSTRUCTION_TTL_MS))

    # -- sync with the database --------------------------------------------------------------------

    async def flush(self) -> None:
        """Write last-ping times, changed client addresses and delivered instructions (one bulk statement each)."""
        # In id order, so that two processes' updates of the same rows cannot deadlock.
        pinged = sorted((connection for connection in self.connections.values() if connection.ping_dirty),
                        key=lambda connection: connection.id)
        moved = [connection for connection in pinged if connection.address_dirty]
        delivered, self._delivered = self._delivered, []
        if not pinged and not delivered:
            return
        for connection in pinged:
            connection.ping_dirty = connection.address_dirty = False
        table = table_of(ClientConnection)
        now = now_ms()
        try:
            async with self.db.engine.begin() as db_connection:
                if pinged:
                    await db_connection.execute(
                        update(table).where(table.c.id == bindparam("connection_id"))
                        .values(last_ping_ms=bindparam("ping_ms")),
                        [{"connection_id": c.id, "ping_ms": c.last_ping_ms} for c in pinged])
                if moved:  # other processes reload these (changed_ms) and see the new address
                    await db_connection.execute(
                        update(table).where(table.c.id == bindparam("connection_id"))
                        .values(client_address=bindparam("address"), changed_ms=now),
                        [{"connection_id": c.id, "address": c.client_address} for c in moved])
                if delivered:
                    await db_connection.execute(
                        delete(table_of(ClientInstruction)).where(table_of(ClientInstruction).c.id.in_(delivered)))
        except Exception:
            for connection in pinged:  # try again next round
                connection.ping_dirty = True
            for connection in moved:
                connection.address_dirty = True
            self._delivered.extend(delivered)
            raise
        for connection in moved:
            connection.changed_ms = now

    async def refresh_running_exams(self) -> None:
        async with self.db.read() as session:
            self.running = await load_running_exams(session, self.plugins.indicator_types())

    async def _pull_state_changes(self) -> None:
        """Take over connection changes made elsewhere (only columns, one query for notifications)."""
        started = now_ms()
        since = self._state_since_ms - STATE_SYNC_MARGIN_MS
        table = table_of(ClientConnection)
        async with self.db.read() as session:
            rows = (await session.execute(
                select(*(table.c[name] for name in LIVE_COLUMNS)).where(table.c.changed_ms > since))).all()
            changed = []
            for row in rows:
                held = self.connections.get(row.connection_token)
                if held is not None and held.changed_ms != row.changed_ms:
                    changed.append(held)
                    held.refresh(row)
            if changed:
                pending = await _pending_counts(session, [held.id for held in changed])
                for held in changed:
                    held.pending_notifications = pending.get(held.id, 0)
        self._state_since_ms = started


LIVE_COLUMNS = ("connection_token", "exam_id", "status", "changed_ms", "client_address", "user_session_id",
                "lms_user_session_id", "last_ping_ms")


async def _pending_counts(session: Any, connection_ids: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for start in range(0, len(connection_ids), 500):
        rows = await session.execute(
            select(ClientNotification.connection_id, func.count())
            .where(ClientNotification.connection_id.in_(connection_ids[start:start + 500]),
                   ClientNotification.confirmed_ms.is_(None))
            .group_by(ClientNotification.connection_id))
        counts.update({connection_id: count for connection_id, count in rows})
    return counts


def _event_row(connection_id: int, exam_id: int | None, event_type: str, client_time_ms: int, server_time_ms: int,
               numeric_value: float | None, text: str) -> EventRow:
    return {"connection_id": connection_id, "exam_id": exam_id, "event_type": str(event_type),
            "client_time_ms": client_time_ms, "server_time_ms": server_time_ms,
            "numeric_value": numeric_value, "text": text}


def _instruction(row: ClientInstruction) -> Instruction:
    return Instruction(row.id, row.instruction_type, decode_attributes(row.attributes), row.needs_confirmation,
                       row.created_ms)


async def _touch(session: Any, connection: LiveConnection, now: int) -> None:
    """Mark the connection changed so other processes reload it."""
    await session.execute(update(ClientConnection).where(ClientConnection.id == connection.id)
                          .values(changed_ms=now))
    connection.changed_ms = now

