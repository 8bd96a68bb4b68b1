"""Group commit of client events: a SEB client's log line is acknowledged once it is in the database.

Requests append to the current round and wait for it; one task writes a whole round with one bulk insert,
then starts the next. Under load rounds grow, so throughput scales with batching while a single client
waits one insert. When too much is pending, new requests wait for room (back-pressure, never loss).

A round is never failed by one of its rows. When the database refuses a batch while it answers a plain query,
the batch is split in halves until the rows it refuses are found: each is tried once more on its own, then its
request is answered :class:`EventRefused` (one log line), and every other row is stored. When the database does
not answer, the batch is retried after a pause; events the server generated (nobody waits for them) that still
could not be stored go back into the queue.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from sebframe.core.db import Database, table_of
from sebframe.core.db.models import ClientConnection, ClientEvent

log = logging.getLogger(__name__)

EventRow = dict[str, Any]  # the columns of ``client_event`` (without id)
Unstored = dict[int, BaseException]  # row index in its round -> why it is not stored

RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
COPY_COLUMNS = ("connection_id", "exam_id", "event_type", "client_time_ms", "server_time_ms", "numeric_value",
                "text")


class EventRefused(Exception):
    """The database refused this event (a value it cannot store); the other events of its round are stored."""


class EventWriter:
    def __init__(self, db: Database, *, max_pending: int = 50_000, max_batch: int = 10_000,
                 concurrent_rounds: int = 3) -> None:
        self.db = db
        self.concurrent_rounds = concurrent_rounds
        self.max_pending = max_pending
        self.max_batch = max_batch
        self.written = 0
        self._rows: list[EventRow] = []
        self._server_rows: list[int] = []  # indices in ``_rows`` of the events the server generated
        self._round: asyncio.Future[Unstored] | None = None
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sebframe-event-writer")

    async def write(self, row: EventRow) -> None:
        """Return when the event is stored; raises :class:`EventRefused` if the database refused this row, or
        the database's error if it could not be reached through every retry."""
        await self._wait_for_room()
        round_, index = self._append(row)
        unstored = await asyncio.shield(round_)
        if unstored and index in unstored:
            raise unstored[index]

    def write_soon(self, row: EventRow) -> None:
        """Server-generated events: stored with the next round, nobody waits."""
        _, index = self._append(row)
        self._server_rows.append(index)

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

    def _append(self, row: EventRow) -> tuple[asyncio.Future[Unstored], int]:
        """The round the row joined and its index in it."""
        if self._task is None and not self._closing:
            self.start()  # first event of a process whose runtime was not started (CLI, tests)
        if self._round is None:
            self._round = asyncio.get_running_loop().create_future()
        self._rows.append(row)
        self._wake.set()
        return self._round, len(self._rows) - 1

    def _take(self) -> tuple[list[EventRow], list[int], asyncio.Future[Unstored] | None]:
        rows, server_rows, future = self._rows, self._server_rows, self._round
        self._rows, self._server_rows, self._round = [], [], None
        self._room.set()
        return rows, server_rows, future

    async def _run(self) -> None:
        """Rounds overlap (up to ``concurrent_rounds``): while one waits for its commit, the next inserts.
        A client waits for each event's acknowledgement before it sends the next, so its events still land
        in order."""
        slots = asyncio.Semaphore(self.concurrent_rounds)
        running: set[asyncio.Task[None]] = set()

        async def write(rows: list[EventRow], server_rows: list[int], future: asyncio.Future[Unstored] | None
                        ) -> None:
            try:
                await self._write_round(rows, server_rows, future)
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

    async def _write_round(self, rows: list[EventRow], server_rows: list[int],
                           future: asyncio.Future[Unstored] | None) -> None:
        unstored: Unstored = {}
        unreachable: BaseException | None = None
        for start in range(0, len(rows), self.max_batch):
            indices = list(range(start, min(start + self.max_batch, len(rows))))
            if unreachable is None:
                unreachable = await self._store(rows, indices, unstored)
            else:  # the database did not answer through every retry: do not wait that long again
                unstored.update(dict.fromkeys(indices, unreachable))
        if unstored:
            self._report(rows, server_rows, unstored, unreachable)
        self.written += len(rows) - len(unstored)
        if future is not None and not future.done():
            future.set_result(unstored)

    def _report(self, rows: list[EventRow], server_rows: list[int], unstored: Unstored,
                unreachable: BaseException | None) -> None:
        """One log line per refused row; server events that met an unreachable database go to the next round."""
        server = set(server_rows)
        for index, reason in unstored.items():
            row = rows[index]
            if not isinstance(reason, EventRefused):
                if index in server:
                    self.write_soon(row)
            elif index in server:
                log.error("the database refused a server event of connection %s (%s): %r", row["connection_id"],
                          reason, row["text"][:200])
            else:
                log.warning("the database refused a client event of connection %s (%s); answered 400",
                            row["connection_id"], reason)
        if unreachable is not None:
            log.error("could not store %d client events: the database did not answer (%s)",
                      sum(1 for reason in unstored.values() if reason is unreachable), _describe(unreachable))

    async def _store(self, rows: list[EventRow], indices: list[int], unstored: Unstored) -> BaseException | None:
        """Insert ``rows[i]`` for ``i`` in ``indices``: everything the database accepts is stored, each row it
        refuses is in ``unstored``. Returns the error if the database could not be reached (the rows not
        stored are in ``unstored`` with it), else None."""
        delays = iter(RETRY_DELAYS)
        alone_tries = 0
        while indices:
            try:
                await self._insert([rows[index] for index in indices])
                return None
            except Exception as exc:
                error = exc
            if isinstance(error, IntegrityError):
                existing = await self._of_existing_connections(rows, indices)
                if len(existing) < len(indices):  # events of a deleted connection have nowhere to go
                    indices = existing
                    continue
            if not await self._reachable():
                delay = next(delays, None)
                if delay is None:
                    unstored.update(dict.fromkeys(indices, error))
                    return error
                log.warning("storing %d client events failed (%s); retrying in %.1fs", len(indices),
                            _describe(error), delay)
                await asyncio.sleep(delay)
                continue
            if len(indices) > 1:  # the database answers but refuses something in this batch: find it
                middle = len(indices) // 2
                unreachable = await self._store(rows, indices[:middle], unstored)
                if unreachable is not None:
                    unstored.update(dict.fromkeys(indices[middle:], unreachable))
                    return unreachable
                return await self._store(rows, indices[middle:], unstored)
            alone_tries += 1
            if alone_tries < 2:  # a transient failure gets a second chance
                continue
            unstored[indices[0]] = EventRefused(_describe(error))
            return None
        return None

    async def _insert(self, rows: list[EventRow]) -> None:
        if self.db.dialect == "postgresql":
            await self._copy(rows)
            return
        async with self.db.engine.begin() as connection:
            await connection.execute(insert(table_of(ClientEvent)), rows)

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

    async def _of_existing_connections(self, rows: list[EventRow], indices: list[int]) -> list[int]:
        """``indices`` without the events of connections deleted meanwhile (their exam was deleted)."""
        try:
            async with self.db.read() as session:
                existing = set((await session.execute(select(ClientConnection.id).where(
                    ClientConnection.id.in_({rows[index]["connection_id"] for index in indices})))).scalars())
        except Exception:  # the caller finds out whether the database answers
            return indices
        return [index for index in indices if rows[index]["connection_id"] in existing]

    async def _reachable(self) -> bool:
        """Whether the database answers a plain query: if it does, a failed insert was refused for its data."""
        try:
            async with self.db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True


def _describe(error: BaseException) -> str:
    """An error in one line, without the statement and parameters SQLAlchemy appends."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:200] if lines else ''}"
