"""Participants of the demo exam for the participation report tests: connected through the real SEB client
flow, then given fixed times so first and last contact can be checked exactly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from sebframe.core.db.models import ClientConnection, ClientEvent, ConnectionLocation
from sebframe.core.services import Services
from tests.seb_client import SebClient, SebWorld

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
LAPTOP_ADDRESS = "10.0.0.7"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class Participants:
    """Alice connected from the pool PC, quit, and reconnected from her laptop; Bob is still connected.

    Last contacts: Alice's first connection by its last change (closing, 08:05), her second by its last
    ping (09:10), Bob's by his last event (09:20)."""

    alice_pc: SebClient
    alice_laptop: SebClient
    bob: SebClient

    @property
    def tokens(self) -> list[str]:
        return [seb.connection_token or "" for seb in (self.alice_pc, self.alice_laptop, self.bob)]


async def connect_participants(services: Services, app: Any, client: httpx.AsyncClient,
                               seb_world: SebWorld) -> Participants:
    transport = httpx.ASGITransport(app=app, client=(LAPTOP_ADDRESS, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as laptop:
        alice_pc = SebClient(client, seb_world, name="alice")
        await alice_pc.connect(user="alice")
        assert (await alice_pc.close()).status_code == 200
        alice_laptop = SebClient(laptop, seb_world, name="alice-laptop")
        await alice_laptop.connect(user="alice")
    bob = SebClient(client, seb_world, name="bob")
    await bob.connect(user="bob")
    assert (await bob.log({"type": "INFO_LOG", "timestamp": 1700000000000, "text": "Started."})).status_code == 204
    await services.sessions.runtime.sync()  # pings and state changes are in the database
    # (created, last ping, last change, events) in minutes after T0
    times = {alice_pc: (0, 4, 5, 1), alice_laptop: (10, 70, 10, 11), bob: (2, 75, 2, 80)}
    async with services.db.transaction() as session:
        for seb, (created, ping, changed, event) in times.items():
            row = (await session.execute(select(ClientConnection).where(
                ClientConnection.connection_token == seb.connection_token))).scalar_one()
            row.created_ms, row.last_ping_ms, row.changed_ms = ms(at(created)), ms(at(ping)), ms(at(changed))
            await session.execute(update(ClientEvent).where(ClientEvent.connection_id == row.id)
                                  .values(server_time_ms=ms(at(event))))
    return Participants(alice_pc, alice_laptop, bob)


async def seat(services: Services, seb: SebClient, exam_id: int, room: str, seat_label: str) -> None:
    """Give the participant a location decision (as the location check stores it for a restricted exam)."""
    async with services.db.transaction() as session:
        connection_id = (await session.execute(select(ClientConnection.id).where(
            ClientConnection.connection_token == seb.connection_token))).scalar_one()
        session.add(ConnectionLocation(connection_id=connection_id, exam_id=exam_id, status="ALLOWED",
                                       reason="ALLOW_RULE", address=LAPTOP_ADDRESS, room=room, seat=seat_label,
                                       rule="1:ALLOW 10.0.0.0/24", decided_ms=ms(T0)))
