"""``python -m bench.log_export``: how fast, and in how much memory, the SEB client log export streams a million
events; and how long the list's queries take over them. Not run in CI; docs/performance.md has the figures.

It builds a throw-away database (a temporary SQLite file, or ``--database-url`` of an empty database it may fill),
stores ``--events`` events of 4 exams spread over 10 days, then runs the service calls the UI and the admin API
use: the first list page, the count, and the CSV export twice (timed; then under tracemalloc for the peak of
Python allocations). RSS is sampled at every chunk of the export. On PostgreSQL and MariaDB it runs ANALYZE after
the load, as autovacuum (or InnoDB's persistent statistics) would have.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import Role
from sebframe.core.db import Database
from sebframe.core.db.migrate import upgrade
from sebframe.core.db.models import ClientConnection, ClientEvent, Exam, Institution, UserAccount, UserRoleGrant
from sebframe.core.monitoring.logs import EXPORT_CHUNK_SIZE, ClientLogService
from sebframe.core.paging import ListParams
from sebframe.settings import normalise_database_url

DAY_MS = 24 * 3600 * 1000
EXAMS = 4
CONNECTIONS_PER_EXAM = 250
INSERT_BATCH = 20_000
TEXTS = (
    "<battery> High at {n}%, 3h 12m remaining, connected to the power grid",
    "<wlan> eduroam: Connected, {n}%",
    "Browser window 'Exam' loaded https://lms.example.org/mod/quiz/attempt.php?attempt={n}&cmid=42",
    "Missing Client Ping",
    "SEB Client IP address changed: 10.0.{n}.7 -> 10.0.{n}.8",
)
TYPES = ("INFO_LOG", "INFO_LOG", "DEBUG_LOG", "ERROR_LOG", "WARN_LOG")


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def populate(db: Database, events: int, end_ms: int) -> tuple[Actor, int]:
    """Institution, exam administrator, exams, connections; ``events`` events over the 10 days before ``end_ms``."""
    async with db.transaction() as session:
        institution = Institution(name="Bench", active=True)
        session.add(institution)
        await session.flush()
        user = UserAccount(institution_id=institution.id, username="bench-exam-admin", name="Bench", surname="Admin",
                           password_hash="-", active=True, roles=[UserRoleGrant(role=Role.EXAM_ADMIN.value)])
        exams = [Exam(institution_id=institution.id, external_id=f"quiz-{index}", name=f"Exam {index}")
                 for index in range(EXAMS)]
        session.add_all([user, *exams])
        await session.flush()
        connections = [ClientConnection(connection_token=f"token-{exam.id}-{index}", institution_id=institution.id,
                                        exam_id=exam.id, status="ACTIVE", client_address=f"10.0.{index % 250}.7",
                                        user_session_id=f"student-{index}", created_ms=end_ms, changed_ms=end_ms)
                       for exam in exams for index in range(CONNECTIONS_PER_EXAM)]
        session.add_all(connections)
        await session.flush()
        pairs = [(connection.id, connection.exam_id) for connection in connections]
        actor = Actor(user_id=user.id, username=user.username, institution_id=institution.id,
                      roles=frozenset({Role.EXAM_ADMIN}))
        first_exam = exams[0].id
    start_ms = end_ms - 10 * DAY_MS
    step = 10 * DAY_MS / events
    for batch_start in range(0, events, INSERT_BATCH):
        rows = []
        for index in range(batch_start, min(batch_start + INSERT_BATCH, events)):
            connection_id, exam_id = pairs[index % len(pairs)]
            server_ms = start_ms + int(index * step)
            rows.append({"connection_id": connection_id, "exam_id": exam_id, "event_type": TYPES[index % 5],
                         "client_time_ms": server_ms - 150, "server_time_ms": server_ms,
                         "numeric_value": float(index % 100) if index % 5 < 2 else None,
                         "text": TEXTS[index % 5].format(n=index % 100)})
        async with db.engine.begin() as connection:
            await connection.execute(insert(ClientEvent.__table__), rows)
    return actor, first_exam


async def timed(label: str, call: Callable[[], Awaitable[Any]]) -> Any:
    started = time.perf_counter()
    result = await call()
    print(f"{label:<48} {time.perf_counter() - started:8.3f} s")
    return result


async def drain(chunks: AsyncIterator[bytes]) -> tuple[int, int, int]:
    """Bytes and lines of the export, and the highest RSS seen while it streamed."""
    size = lines = 0
    highest = rss_bytes()
    async for chunk in chunks:
        size += len(chunk)
        lines += chunk.count(b"\n")
        highest = max(highest, rss_bytes())
    return size, lines, highest


async def main(events: int, database_url: str | None, chunk_size: int) -> None:
    with tempfile.TemporaryDirectory(prefix="sebframe-log-export-") as directory:
        url = normalise_database_url(database_url or f"sqlite:///{Path(directory) / 'bench.db'}")
        await upgrade(url)
        db = Database(url)
        try:
            end_ms = int(datetime.now(UTC).timestamp() * 1000)
            actor, exam_id = await timed(f"store {events:,} events", lambda: populate(db, events, end_ms))
            if db.dialect != "sqlite":  # fresh planner statistics, as autovacuum would have them
                analyze = "ANALYZE" if db.dialect == "postgresql" else "ANALYZE TABLE client_event, client_connection"
                async with db.engine.begin() as connection:
                    await connection.execute(text(analyze))
            logs = ClientLogService(db)
            last_day = {"from": datetime.fromtimestamp((end_ms - DAY_MS) / 1000, UTC).isoformat()}
            await timed("list: page 1, newest first, all exams", lambda: logs.search(actor, ListParams()))
            await timed("list: page 1, all exams, last day (UI default)", lambda: logs.search(
                actor, ListParams(filters=last_day)))
            await timed("list: page 1, one exam, last day", lambda: logs.search(
                actor, ListParams(filters={"exam_id": str(exam_id), **last_day})))
            await timed("list: page 1, ERROR_LOG, text 'ping'", lambda: logs.search(
                actor, ListParams(filters={"event_type": "ERROR_LOG", "text": "ping"})))
            await timed("count: all exams", lambda: logs.count(actor, {}))

            before = rss_bytes()
            started = time.perf_counter()
            size, lines, highest = await drain(await logs.export_csv(actor, {}, chunk_size=chunk_size))
            seconds = time.perf_counter() - started
            print(f"export: {lines - 1:,} events, {size / 1e6:,.1f} MB CSV in {seconds:.1f} s "
                  f"({(lines - 1) / seconds:,.0f} events/s, {size / 1e6 / seconds:.1f} MB/s)")
            print(f"export: RSS {before / 1e6:.0f} MB before, at most {highest / 1e6:.0f} MB while streaming "
                  f"(+{(highest - before) / 1e6:.1f} MB)")

            chunks = await logs.export_csv(actor, {}, chunk_size=chunk_size)
            tracemalloc.start()
            await drain(chunks)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"export: peak of Python allocations {peak / 1e6:.1f} MB (chunks of {chunk_size:,} events)")
        finally:
            await db.dispose()


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.log_export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="an empty, throw-away database (default: a temporary SQLite file)")
    parser.add_argument("--chunk-size", type=int, default=EXPORT_CHUNK_SIZE)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.database_url, args.chunk_size))


if __name__ == "__main__":
    cli()
