"""The live runtime's promises: no database I/O on a ping, nothing lost on shutdown, back-pressure instead of
loss, and a bad row never takes a whole batch of events down with it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import delete, func, select

from sebframe.core.db.models import ClientConnection, ClientEvent
from sebframe.core.services import Services
from sebframe.core.session.clock import now_ms
from sebframe.core.session.instructions import InstructionType
from sebframe.core.session.writer import EventWriter
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio


async def _last_ping(services: Services, token: str) -> int | None:
    async with services.db.read() as session:
        return (await session.execute(select(ClientConnection.last_ping_ms)
                                      .where(ClientConnection.connection_token == token))).scalar_one()


async def test_pings_stay_in_memory_until_the_flush_and_survive_a_shutdown(
        client: httpx.AsyncClient, services: Services, seb_world: SebWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    seb = SebClient(client, seb_world)
    await seb.connect()
    token = seb.connection_token or ""

    def no_database(*args: object, **kwargs: object) -> None:
        raise AssertionError("a ping touched the database")

    monkeypatch.setattr(services.db, "read", no_database)
    monkeypatch.setattr(services.db, "transaction", no_database)
    assert (await seb.ping()).status_code == 204
    monkeypatch.undo()
    assert await _last_ping(services, token) is None
    await services.sessions.runtime.stop()  # what the server does on shutdown
    assert await _last_ping(services, token) == services.sessions.runtime.connections[token].last_ping_ms


def _row(connection_id: int, text: str) -> dict[str, object]:
    return {"connection_id": connection_id, "exam_id": None, "event_type": "INFO_LOG", "client_time_ms": 0,
            "server_time_ms": now_ms(), "numeric_value": None, "text": text}


async def _event_count(services: Services) -> int:
    async with services.db.read() as session:
        return (await session.execute(select(func.count()).select_from(ClientEvent))).scalar_one()


async def test_back_pressure_keeps_every_event(client: httpx.AsyncClient, services: Services,
                                              seb_world: SebWorld) -> None:
    seb = SebClient(client, seb_world)
    await seb.connect()
    connection_id = services.sessions.runtime.connections[seb.connection_token or ""].id
    writer = EventWriter(services.db, max_pending=25, max_batch=10)
    await asyncio.gather(*(writer.write(_row(connection_id, f"event {n}")) for n in range(500)))
    assert await _event_count(services) == 500  # every acknowledged event is stored
    await writer.close()


async def test_events_of_a_deleted_connection_do_not_sink_the_batch(client: httpx.AsyncClient, services: Services,
                                                                   seb_world: SebWorld) -> None:
    alice, bob = SebClient(client, seb_world, name="alice"), SebClient(client, seb_world, name="bob")
    await alice.connect()
    await bob.connect()
    runtime = services.sessions.runtime
    alice_id = runtime.connections[alice.connection_token or ""].id
    bob_id = runtime.connections[bob.connection_token or ""].id
    async with services.db.transaction() as session:
        await session.execute(delete(ClientConnection).where(ClientConnection.id == bob_id))
    writer = EventWriter(services.db)
    writer.write_soon(_row(bob_id, "lost: its connection is gone"))
    await writer.write(_row(alice_id, "kept"))
    async with services.db.read() as session:
        assert list((await session.execute(select(ClientEvent.text))).scalars()) == ["kept"]
    await writer.close()


async def test_one_process_supervises_until_its_lease_runs_out(services: Services) -> None:
    from sqlalchemy import update

    from sebframe.core.db.models import SessionLease
    from sebframe.core.session.supervision import Supervisor

    first, second = Supervisor(services.db), Supervisor(services.db)
    assert await first._lease()
    assert not await second._lease()
    assert await first._lease()  # renewing
    async with services.db.transaction() as session:
        await session.execute(update(SessionLease).values(expires_ms=0))  # the holder stopped renewing
    assert await second._lease()
    assert not await first._lease()


async def test_connections_unknown_to_a_process_are_loaded_together(
        client: httpx.AsyncClient, services: Services, seb_world: SebWorld) -> None:
    clients = [SebClient(client, seb_world, name=f"pc-{n}") for n in range(20)]
    for seb in clients:
        await seb.connect()
    runtime = services.sessions.runtime
    queued_for = runtime.connections[clients[0].connection_token or ""].id
    runtime.connections.clear()  # as on another process, or after a restart
    runtime._by_id.clear()
    await runtime.queue_instruction([queued_for], InstructionType.SEB_QUIT, {})
    loads = 0
    original = runtime._load

    async def counting(tokens: list[str]) -> dict[str, object]:
        nonlocal loads
        loads += 1
        return await original(tokens)

    runtime._load = counting  # type: ignore[method-assign]
    answers = await asyncio.gather(*(seb.ping() for seb in clients))
    assert [answer.status_code for answer in answers] == [200] + [204] * 19  # the queued quit came along
    assert loads == 1
    assert len(runtime.connections) == 20


async def test_expired_tokens_are_cleaned_up(client: httpx.AsyncClient, services: Services,
                                             seb_world: SebWorld) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from sebframe.core.db.models import ExamApiToken

    seb = SebClient(client, seb_world)
    assert (await seb.fetch_token()).status_code == 200
    async with services.db.transaction() as session:
        await session.execute(update(ExamApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    services.sessions.tokens._valid.clear()
    assert (await seb.create()).status_code == 401  # expired: the client fetches a new one
    await services.sessions.tokens.delete_expired()
    async with services.db.read() as session:
        assert (await session.execute(select(func.count()).select_from(ExamApiToken))).scalar_one() == 0
    assert (await seb.fetch_token()).status_code == 200
    assert (await seb.create()).status_code == 200


async def test_a_new_address_on_a_ping_is_logged_and_stored_with_the_flush(
        client: httpx.AsyncClient, services: Services, seb_world: SebWorld, app: object,
        monkeypatch: pytest.MonkeyPatch) -> None:
    seb = SebClient(client, seb_world)
    await seb.connect()
    transport = httpx.ASGITransport(app=app, client=("10.0.0.9", 50000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
        moved = SebClient(elsewhere, seb_world)
        moved.access_token, moved.connection_token = seb.access_token, seb.connection_token

        def no_database(*args: object, **kwargs: object) -> None:
            raise AssertionError("a ping touched the database")

        monkeypatch.setattr(services.db, "read", no_database)
        monkeypatch.setattr(services.db, "transaction", no_database)
        assert (await moved.ping()).status_code == 204
        monkeypatch.undo()
    runtime = services.sessions.runtime
    await runtime.flush()
    await runtime.writer.close()
    async with services.db.read() as session:
        stored = (await session.execute(select(ClientConnection.client_address)
                                        .where(ClientConnection.connection_token == seb.connection_token)))
        assert stored.scalar_one() == "10.0.0.9"
        texts = list((await session.execute(select(ClientEvent.text))).scalars())
    assert texts == ["SEB Client IP address changed: 127.0.0.1 -> 10.0.0.9"]


class _Clocks:
    """The round timer's clocks, plus what other tasks or a busy machine add to them (deterministic on any
    machine, however loaded)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import time

        from sebframe.core.session import round_timer

        self.wall = self.cpu = self.queued = 0.0
        monkeypatch.setattr(round_timer, "monotonic", lambda: time.monotonic() + self.wall)
        monkeypatch.setattr(round_timer, "thread_time", lambda: time.thread_time() + self.cpu)
        monkeypatch.setattr(round_timer, "runqueue_seconds", lambda: self.queued)


async def _sync_beside(services: Services, other_work: Callable[[], None]) -> None:
    """A sync while another task does ``other_work`` whenever the event loop lets it run."""
    done = False

    async def other_task() -> None:
        while not done:
            other_work()
            await asyncio.sleep(0)

    task = asyncio.create_task(other_task())
    try:
        await services.sessions.runtime.sync()
    finally:
        done = True
        await task


def _sync_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.getMessage().startswith("session sync took")]


async def test_a_sync_that_waited_for_other_tasks_or_a_core_does_not_warn(
        services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """At start the templates compile for about a second beside the first sync (issue #13: "session sync took
    1333 ms" on an idle server); that is not the database's time."""
    clocks = _Clocks(monkeypatch)

    def busy_event_loop() -> None:  # another task computes 100 ms between two of the sync's awaits
        clocks.wall += 0.1
        clocks.cpu += 0.1

    def busy_machine() -> None:  # the process waits 100 ms for a core
        clocks.wall += 0.1
        clocks.queued += 0.1

    with caplog.at_level(logging.DEBUG, logger="sebframe.core.session.runtime"):
        await _sync_beside(services, busy_event_loop)
        await _sync_beside(services, busy_machine)
    logged = _sync_logs(caplog)
    assert [record.levelno for record in logged] == [logging.DEBUG, logging.DEBUG]
    assert "other tasks kept the event loop busy" in logged[0].getMessage()
    assert "waited" in logged[1].getMessage() and "for a CPU core" in logged[1].getMessage()


async def test_a_sync_waiting_for_the_database_warns(
        services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    clocks = _Clocks(monkeypatch)
    tokens = services.sessions.tokens

    async def slow_query() -> None:
        clocks.wall += 0.4  # as if the database answered after 400 ms

    monkeypatch.setattr(tokens, "sync", slow_query)
    with caplog.at_level(logging.DEBUG, logger="sebframe.core.session.runtime"):
        await services.sessions.runtime.sync()
    (logged,) = _sync_logs(caplog)
    assert logged.levelno == logging.WARNING
    assert "tokens 400 ms" in logged.getMessage()
