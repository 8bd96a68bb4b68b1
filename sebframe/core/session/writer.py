"""Group commit of client events: a SEB client's log line is acknowledged once it is in the database.

Requests append to the current round and wait for it; one task writes a whole round with one bulk insert,
then starts the next. Under load rounds grow, so throughput scales with batching while a single client
waits one insert. When too much is pending, new requests wait for room (back-pressure, never loss).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from sebframe.core.db import Database
from sebframe.core.db.models import ClientConnection, ClientEvent

log = logging.getLogger(__name__)

EventRow = dict[str, Any]  # the columns of ``client_event`` (without id)

RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
COPY_COLUMNS = ("connection_id", "exam_id", "event_type", "client_time_ms", "server_time_ms", "numeric_value",
                "text")


class EventWriter:
    def __init__(self, db: Database, *, max_pending: int = 50_000, max_batch: int = 10_000,
                 concurrent_rounds: int = 3) -> None:
        self.db = db
        self.concurrent_rounds = concurrent_rounds
        self.max_pending = max_pending
        self.max_batch = max_batch
        self.written = 0
        self._rows: list[EventRow] = []
        self._round: asyncio.Future[None] | None = None
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sebframe-event-writer")

    async def write(self, row: EventRow) -> None:
        """Return when the event is stored; raises if the database refused it for good."""
        await self._wait_for_room()
        await asyncio.shield(self._append(row))

    def write_soon(self, row: EventRow) -> None:
        """Server-generated events: stored with the next round, nobody waits."""
        self._append(row)

    def pending(self) -> int:
        return len(self._rows)

    async def close(self) -> None:
        """Write everything still pending, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._rows:  # written by a writer that was never started (CLI, tests)
            await self._write_round(*self._take())

    # -- internals ---------------------------------------------------------------------------------

    async def _wait_for_room(self) -> None:
        while len(self._rows) >= self.max_pending:
            self._room.clear()
            await self._room.wait()

    def _append(self, row: EventRow) -> asyncio.Future[None]:
        if self._task is None and not self._closing:
            self.start()  # first event of a process whose runtime was not started (CLI, tests)
        if self._round is None:
            self._round = asyncio.get_running_loop().create_future()
        self._rows.append(row)
        self._wake.set()
        return self._round

    def _take(self) -> tuple[list[EventRow], asyncio.Future[None] | None]:
        rows, future = self._rows, self._round
        self._rows, self._round = [], None
        self._room.set()
        return rows, future

    async def _run(self) -> None:
        """Rounds overlap (up to ``concurrent_rounds``): while one waits for its commit, the next inserts.
        A client waits for each event's acknowledgement before it sends the next, so its events still land
        in order."""
        slots = asyncio.Semaphore(self.concurrent_rounds)
        running: set[asyncio.Task[None]] = set()

        async def write(rows: list[EventRow], future: asyncio.Future[None] | None) -> None:
            try:
                await self._write_round(rows, future)
            finally:
                slots.release()

        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._rows:
                await slots.acquire()
                task = asyncio.create_task(write(*self._take()))
                running.add(task)
                task.add_done_callback(running.discard)
            if self._closing:
                await asyncio.gather(*running)
                return

    async def _write_round(self, rows: list[EventRow], future: asyncio.Future[None] | None) -> None:
        try:
            for start in range(0, len(rows), self.max_batch):
                await self._insert_with_retries(rows[start:start + self.max_batch])
        except Exception as exc:
            log.exception("could not store %d client events", len(rows))
            if future is not None and not future.done():
                future.set_exception(exc)
                future.exception()  # retrieved here: waiters may have gone (client disconnected)
            return
        self.written += len(rows)
        if future is not None and not future.done():
            future.set_result(None)

    async def _insert_with_retries(self, rows: list[EventRow]) -> None:
        for delay in (*RETRY_DELAYS, None):
            try:
                await self._insert(rows)
                return
            except IntegrityError:
                rows = await self._without_deleted_connections(rows)
                if not rows:
                    return
            except (DBAPIError, OSError):
                if delay is None:
                    raise
                log.warning("storing client events failed; retrying in %.1fs", delay, exc_info=True)
                await asyncio.sleep(delay)
        await self._insert(rows)

    async def _insert(self, rows: list[EventRow]) -> None:
        if self.db.dialect == "postgresql":
            await self._copy(rows)
            return
        async with self.db.engine.begin() as connection:
            await connection.execute(insert(ClientEvent.__table__), rows)

    async def _copy(self, rows: list[EventRow]) -> None:
        """PostgreSQL's COPY: a fraction of the CPU of a multi-row INSERT, on both sides."""
        async with self.db.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            try:
                await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                    "client_event", columns=COPY_COLUMNS, records=[tuple(row[name] for name in COPY_COLUMNS)
                                                                   for row in rows])
            except Exception as exc:
                if type(exc).__name__ == "ForeignKeyViolationError":  # asyncpg's; keep the writer driver-neutral
                    raise IntegrityError("COPY client_event", None, exc) from exc
                raise

    async def _without_deleted_connections(self, rows: list[EventRow]) -> list[EventRow]:
        """Events of connections deleted meanwhile (their exam was deleted) have nowhere to go."""
        ids = {row["connection_id"] for row in rows}
        async with self.db.read() as session:
            existing = set((await session.execute(
                select(ClientConnection.id).where(ClientConnection.id.in_(ids)))).scalars())
        return [row for row in rows if row["connection_id"] in existing]
