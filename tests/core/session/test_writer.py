"""The group commit's promises when the database says no: a row it refuses fails only its own write (with one
log line), and an event the server generated is never dropped, not even while the database is unreachable."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from sqlalchemy import select

from sebframe.core.db.models import ClientEvent
from sebframe.core.services import Services
from sebframe.core.session import writer as writer_module
from sebframe.core.session.clock import now_ms
from sebframe.core.session.writer import EventRefused, EventWriter
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio

BEYOND_BIGINT = 2**70  # refused by every driver or database (SQLite, asyncpg: OverflowError; MariaDB: 1264)


@pytest.fixture
async def connection_id(client: httpx.AsyncClient, services: Services, seb_world: SebWorld) -> int:
    seb = SebClient(client, seb_world)
    await seb.connect()
    return services.sessions.runtime.connections[seb.connection_token or ""].id


def _row(connection_id: int, text: str, client_time_ms: int = 0) -> dict[str, object]:
    return {"connection_id": connection_id, "exam_id": None, "event_type": "INFO_LOG",
            "client_time_ms": client_time_ms, "server_time_ms": now_ms(), "numeric_value": None, "text": text}


async def _texts(services: Services) -> list[str]:
    async with services.db.read() as session:
        return sorted((await session.execute(select(ClientEvent.text))).scalars())


async def _outcome(write: asyncio.Future[None] | object) -> str:
    try:
        await write  # type: ignore[misc]
    except EventRefused:
        return "refused"
    return "stored"


async def test_a_refused_row_fails_only_its_own_write(services: Services, connection_id: int,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    writer = EventWriter(services.db)
    rows = [_row(connection_id, f"client {n}") for n in range(40)]
    rows[17] = _row(connection_id, "too late", client_time_ms=BEYOND_BIGINT)
    rows[33] = _row(connection_id, "also too late", client_time_ms=-BEYOND_BIGINT)
    with caplog.at_level(logging.WARNING, logger="sebframe"):
        writes = [writer.write(row) for row in rows[:20]]
        writer.write_soon(_row(connection_id, "server 1"))  # in the same round as the client rows
        writes += [writer.write(row) for row in rows[20:]]
        writer.write_soon(_row(connection_id, "server 2"))
        outcomes = await asyncio.gather(*(_outcome(write) for write in writes))
        await writer.close()
    assert [n for n, outcome in enumerate(outcomes) if outcome == "refused"] == [17, 33]
    assert await _texts(services) == sorted([f"client {n}" for n in range(40) if n not in (17, 33)]
                                            + ["server 1", "server 2"])
    assert writer.written == 40
    problems = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(problems) == 2  # one line per refused row, no traceback
    assert all(record.exc_info is None and "answered 400" in record.getMessage() for record in problems)


async def test_server_events_wait_out_an_unreachable_database(services: Services, connection_id: int,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    writer = EventWriter(services.db)
    insert, reachable = writer._insert, writer._reachable
    down = True

    async def failing_insert(rows: list[dict[str, object]]) -> None:
        if down:
            raise OSError("connection refused")
        await insert(rows)

    async def probe() -> bool:
        return not down and await reachable()

    monkeypatch.setattr(writer, "_insert", failing_insert)
    monkeypatch.setattr(writer, "_reachable", probe)
    monkeypatch.setattr(writer_module, "RETRY_DELAYS", (0.01, 0.01))
    def gave_up() -> int:
        return sum("did not answer" in record.getMessage() for record in caplog.records)

    writer.write_soon(_row(connection_id, "missing ping"))
    with caplog.at_level(logging.WARNING, logger="sebframe"):
        with pytest.raises(OSError):
            await writer.write(_row(connection_id, "client line"))  # its client is told (500) and sends it again
        for _ in range(500):
            if gave_up() >= 3:  # the server's event went round the queue again and again
                break
            await asyncio.sleep(0.01)
        assert gave_up() >= 3
        down = False
        await writer.close()
    assert await _texts(services) == ["missing ping"]
