"""One SEB connection as the monitoring detail view shows it: the stored attributes and its events (the log
events the client sent and those the server wrote for it), newest first, a page at a time. The attributes need
``CLIENT_CONNECTION`` read on the exam, the events ``CLIENT_EVENT`` read (institutional and SEB Server
administrators see a connection of their institution without its log)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from sebframe.core.accounts.actor import Actor
from sebframe.core.db import Database, is_valid_id
from sebframe.core.db.models import ClientConnection, ClientEvent
from sebframe.core.errors import NotFound
from sebframe.core.exams.access import load_monitored_exam
from sebframe.core.paging import MAX_PAGE_SIZE, Page

EVENT_PAGE_SIZE = 50


@dataclass(frozen=True)
class ConnectionRecord:
    connection: ClientConnection
    events: Page[ClientEvent] | None  # None: the actor may not read the exam's client events


class ConnectionLogService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, actor: Actor, exam_id: int, connection_id: int, *, page: int = 1,
                     size: int = EVENT_PAGE_SIZE) -> ConnectionRecord:
        """The connection of the exam (``NotFound`` for another exam's) and, if ``actor`` may read the exam's
        client events, one page of its events by server time, newest first."""
        size = max(1, min(size, MAX_PAGE_SIZE))
        page = max(1, page)
        async with self.db.read() as session:
            access = await load_monitored_exam(session, actor, exam_id)
            exam = access.exam
            connection = (await session.execute(select(ClientConnection).where(
                ClientConnection.id == connection_id, ClientConnection.exam_id == exam.id))).scalar_one_or_none() \
                if is_valid_id(connection_id) else None
            if connection is None:
                raise NotFound(f"SEB connection {connection_id} not found in exam {exam.name!r}")
            if not access.may_read_logs:
                return ConnectionRecord(connection, None)
            total = (await session.execute(select(func.count()).select_from(ClientEvent)
                                           .where(ClientEvent.connection_id == connection.id))).scalar_one()
            events = list((await session.execute(
                select(ClientEvent).where(ClientEvent.connection_id == connection.id)
                .order_by(ClientEvent.server_time_ms.desc(), ClientEvent.id.desc())
                .offset((page - 1) * size).limit(size))).scalars())
        return ConnectionRecord(connection, Page(items=events, total=total, page=page, size=size))
