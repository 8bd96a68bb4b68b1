"""Rows for the SEB client log tests (core, web UI, admin API): exams, connections and events written directly,
so that a test can have thousands of events without thousands of requests."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import insert

from sebframe.core.db.models import ClientConnection, ClientEvent, Exam, ExamSupporter
from sebframe.core.services import Services

# 2026-11-22 08:00:00 UTC; events in the tests are minutes after it.
BASE_MS = 1_795_334_400_000
MINUTE_MS = 60_000


def minute(n: int) -> int:
    return BASE_MS + n * MINUTE_MS


@dataclass(frozen=True)
class Event:
    event_type: str
    minute: int
    text: str = ""
    value: float | None = None
    client_ms: int | None = None  # default: one second before the server time
    server_ms: int | None = None  # default: ``minute`` minutes after BASE_MS

    @property
    def server_time_ms(self) -> int:
        return minute(self.minute) if self.server_ms is None else self.server_ms


async def add_exam(services: Services, institution_id: int, name: str, *, owner_id: int | None = None,
                   supporter_ids: Iterable[int] = ()) -> Exam:
    async with services.db.transaction() as session:
        exam = Exam(institution_id=institution_id, external_id=f"quiz-{secrets.token_hex(4)}", name=name,
                    status="RUNNING", owner_id=owner_id)
        session.add(exam)
        await session.flush()
        for user_id in supporter_ids:
            session.add(ExamSupporter(exam_id=exam.id, user_id=user_id))
    return exam


async def add_connection(services: Services, exam: Exam, user_session_id: str | None, *,
                         address: str = "10.0.0.7", machine: str = "PC-7") -> ClientConnection:
    async with services.db.transaction() as session:
        connection = ClientConnection(
            connection_token=secrets.token_hex(16), institution_id=exam.institution_id, exam_id=exam.id,
            status="ACTIVE", client_address=address, seb_machine_name=machine, seb_os_name="Windows 11",
            seb_version="3.8.0 (x64)", seb_client_user_id="student", user_session_id=user_session_id,
            created_ms=BASE_MS, changed_ms=BASE_MS)
        session.add(connection)
    return connection


async def add_events(services: Services, connection: ClientConnection, events: Sequence[Event]) -> list[int]:
    """Store ``events`` for the connection; returns their ids in the given order."""
    async with services.db.transaction() as session:
        rows = [ClientEvent(connection_id=connection.id, exam_id=connection.exam_id, event_type=event.event_type,
                            server_time_ms=event.server_time_ms,
                            client_time_ms=event.server_time_ms - 1000 if event.client_ms is None else event.client_ms,
                            numeric_value=event.value, text=event.text) for event in events]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def bulk_events(services: Services, connection: ClientConnection, count: int, text: str,
                      *, batch: int = 5_000) -> None:
    """``count`` INFO_LOG events, one millisecond apart, in multi-row inserts."""
    for start in range(0, count, batch):
        rows = [{"connection_id": connection.id, "exam_id": connection.exam_id, "event_type": "INFO_LOG",
                 "client_time_ms": BASE_MS + index, "server_time_ms": BASE_MS + index, "numeric_value": None,
                 "text": f"{text} {index}"} for index in range(start, min(start + batch, count))]
        async with services.db.transaction() as session:
            await session.execute(insert(ClientEvent), rows)
