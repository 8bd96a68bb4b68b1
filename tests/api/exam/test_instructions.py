"""Instructions on the ping, notifications through the log endpoint, canceling, missing pings."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select, update

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.auth import actor_of
from sebframe.core.db.models import ClientConnection, ClientEvent, ClientInstruction, ClientNotification, UserAccount
from sebframe.core.errors import NotFound
from sebframe.core.services import Services
from sebframe.core.session.instructions import InstructionType
from tests.conftest import Factory
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio


@pytest.fixture
async def supporter(services: Services, seb_world: SebWorld) -> Actor:
    async with services.db.read() as session:
        user = (await session.execute(select(UserAccount).where(UserAccount.username == "demo-supporter"))).scalar_one()
    return actor_of(user)


async def _connected(client: httpx.AsyncClient, seb_world: SebWorld, name: str, user: str | None = None) -> SebClient:
    seb = SebClient(client, seb_world, name=name)
    await seb.connect(user)
    return seb


async def test_lock_screen_then_quit_all(client: httpx.AsyncClient, services: Services, seb_world: SebWorld,
                                        supporter: Actor) -> None:
    alice = await _connected(client, seb_world, "alice")
    bob = await _connected(client, seb_world, "bob")
    actions = services.sessions.actions
    result = await actions.send_instruction(supporter, seb_world.exam_id, [alice.connection_token or ""],
                                                "SEB_FORCE_LOCK_SCREEN", {"message": "Please wait"})
    assert (result.sent, result.skipped) == (1, 0)
    lock = await alice.ping()
    assert lock.status_code == 200
    assert lock.json() == {"instruction": "SEB_FORCE_LOCK_SCREEN", "attributes": {"message": "Please wait"}}
    assert (await alice.ping()).status_code == 204  # delivered once
    assert (await bob.ping()).status_code == 204

    await actions.send_instruction(supporter, seb_world.exam_id, None, "SEB_QUIT")
    for seb in (alice, bob):
        quit_ = await seb.ping()
        assert quit_.json() == {"instruction": "SEB_QUIT", "attributes": {}}
    await services.sessions.runtime.sync()
    async with services.db.read() as session:
        assert (await session.execute(select(func.count()).select_from(ClientInstruction))).scalar_one() == 0


async def test_raise_hand_confirmed_by_a_supporter(client: httpx.AsyncClient, services: Services, seb_world: SebWorld,
                                                   supporter: Actor) -> None:
    alice = await _connected(client, seb_world, "alice", user="alice")
    raised = await alice.log({"numericValue": 1, "text": "<raisehand> I need help", "timestamp": 1,
                              "type": "NOTIFICATION"})
    assert raised.status_code == 204
    async with services.db.read() as session:
        notification = (await session.execute(select(ClientNotification))).scalar_one()
    assert (notification.notification_type, notification.value, notification.text) == ("raisehand", 1, "I need help")
    live = services.sessions.runtime.connections[alice.connection_token or ""]
    assert live.pending_notifications == 1

    await services.sessions.actions.confirm_notification(supporter, seb_world.exam_id, notification.id)
    confirm = await alice.ping()
    assert confirm.json() == {"instruction": "NOTIFICATION_CONFIRM", "attributes": {"type": "raisehand", "id": "1"}}
    async with services.db.read() as session:
        assert (await session.get(ClientNotification, notification.id)).confirmed_ms is not None


async def test_lowering_the_hand_confirms_the_notification(client: httpx.AsyncClient, services: Services,
                                                           seb_world: SebWorld) -> None:
    alice = await _connected(client, seb_world, "alice")
    await alice.log({"numericValue": 3, "text": "<raisehand> ", "timestamp": 1, "type": "NOTIFICATION"})
    await alice.log({"numericValue": 3, "timestamp": 2, "type": "NOTIFICATION_CONFIRMED"})
    assert services.sessions.runtime.connections[alice.connection_token or ""].pending_notifications == 0


async def test_confirmable_instruction_is_repeated_until_confirmed(client: httpx.AsyncClient, services: Services,
                                                                   seb_world: SebWorld) -> None:
    alice = await _connected(client, seb_world, "alice")
    live = services.sessions.runtime.connections[alice.connection_token or ""]
    await services.sessions.runtime.queue_instruction([live.id], InstructionType.SEB_RECONFIGURE_SETTINGS,
                                                      {"zoomReceiveAudio": "true"}, needs_confirmation=True)
    first = (await alice.ping()).json()
    confirm_id = first["attributes"]["instruction-confirm"]
    assert first["instruction"] == "SEB_RECONFIGURE_SETTINGS" and confirm_id
    alice.confirm = None  # not confirmed yet: it comes again
    again = await alice.ping()
    assert again.json() == first
    alice.confirm = confirm_id
    assert (await alice.ping()).status_code == 204
    assert (await alice.ping()).status_code == 204


async def test_cancel_needs_closed_or_missing_and_quits_a_pinging_client(
        client: httpx.AsyncClient, services: Services, seb_world: SebWorld, supporter: Actor) -> None:
    alice = await _connected(client, seb_world, "alice")
    actions = services.sessions.actions
    token = alice.connection_token or ""
    refused = await actions.disable(supporter, seb_world.exam_id, [token])
    assert refused.sent == 0  # active and pinging: not canceled
    async with services.db.transaction() as session:
        await session.execute(update(ClientConnection).where(ClientConnection.connection_token == token)
                              .values(last_ping_ms=1, missing_ping=True))
    assert (await actions.disable(supporter, seb_world.exam_id, [token])).sent == 1
    quit_ = await alice.ping()
    assert quit_.json() == {"instruction": "SEB_QUIT"}
    await services.sessions.runtime.writer.close()
    async with services.db.read() as session:
        texts = list((await session.execute(select(ClientEvent.text))).scalars())
    assert "Automated SEB Client quit sent from SEB Server" in texts


async def test_missing_ping_events_once_per_transition(client: httpx.AsyncClient, services: Services,
                                                       seb_world: SebWorld) -> None:
    alice = await _connected(client, seb_world, "alice")
    runtime = services.sessions.runtime
    token = alice.connection_token or ""
    async with services.db.transaction() as session:
        await session.execute(update(ClientConnection).where(ClientConnection.connection_token == token)
                              .values(last_ping_ms=1, created_ms=1))
    runtime.connections[token].last_ping_ms = 1
    await runtime.supervisor.run(runtime)
    await runtime.supervisor.run(runtime)  # no second event
    assert (await alice.ping()).status_code == 204
    await runtime.flush()
    await runtime.supervisor.run(runtime)
    await runtime.writer.close()
    async with services.db.read() as session:
        # in the order they happened: the group commit may store two batches in either order under load
        events = [(row.event_type, row.text) for row in (await session.execute(
            select(ClientEvent).order_by(ClientEvent.server_time_ms, ClientEvent.id))).scalars()]
    assert events == [("ERROR_LOG", "Missing Client Ping"), ("INFO_LOG", "Client Ping Back To Normal")]


async def test_other_institutions_cannot_supervise(services: Services, seb_world: SebWorld, factory: Factory) -> None:
    from sebframe.core.accounts.roles import Role
    other = await factory.institution("Elsewhere")
    stranger = await factory.actor(other, "stranger", Role.EXAM_ADMIN)
    with pytest.raises(NotFound):
        await services.sessions.actions.send_instruction(stranger, seb_world.exam_id, None, "SEB_QUIT")
