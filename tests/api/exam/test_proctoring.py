"""Live proctoring through real SEB conversations: join on ACTIVE, confirm, town-hall and back, one-to-one and
back, broadcast with confirmation, leave on close, reset, and rooms disposed when the exam ends."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import Exam, ProctoringParticipant, ProctoringRoom, ProctoringSetting
from sebframe.core.errors import Conflict
from sebframe.core.services import Services
from sebframe.testing.fakes.jitsi import FakeJitsi
from tests.proctoring_helpers import checker, jitsi, jitsi_settings, services, supervise, user
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio
__all__ = ["jitsi", "services"]  # fixtures


@pytest.fixture
async def supporter(services: Services, seb_world: SebWorld) -> Actor:
    return await user(services, "demo-supporter")


async def _proctored(services: Services, seb_world: SebWorld, supporter: Actor, jitsi: FakeJitsi,
                     **changes: Any) -> None:
    view, result = await services.proctoring.service.save(supporter, seb_world.exam_id,
                                                          jitsi_settings(jitsi, **changes))
    assert result.ok, result.message
    assert view.enabled


async def _student(client: httpx.AsyncClient, seb_world: SebWorld, name: str) -> SebClient:
    seb = SebClient(client, seb_world, name=name)
    await seb.connect(user=name)  # the LMS user makes the connection ACTIVE
    return seb


async def _instruction(seb: SebClient) -> dict[str, Any]:
    response = await seb.ping()
    assert response.status_code == 200, response.status_code
    return response.json()


async def _confirm(services: Services, seb: SebClient) -> None:
    """The client confirms on its next ping (as Windows SEB does); nothing else is pending then."""
    assert seb.confirm is not None
    assert (await seb.ping()).status_code == 204
    await supervise(services)


async def _rooms(services: Services) -> list[ProctoringRoom]:
    async with services.db.read() as session:
        return list((await session.execute(select(ProctoringRoom).order_by(ProctoringRoom.id))).scalars())


async def test_active_client_joins_its_collecting_room_and_confirms(
        client: httpx.AsyncClient, services: Services, seb_world: SebWorld, supporter: Actor, jitsi: FakeJitsi) -> None:
    await _proctored(services, seb_world, supporter, jitsi)
    alice = await _student(client, seb_world, "alice")
    assert (await alice.ping()).status_code == 204  # nothing on the ping path: the supervising process assigns
    await supervise(services)

    join = await _instruction(alice)
    attributes = join["attributes"]
    assert join["instruction"] == "SEB_PROCTORING"
    assert {key: attributes[key] for key in ("service-type", "method", "roomType", "jitsiMeetServerURL",
                                             "jitsiMeetSubject")} == {
        "service-type": "JITSI_MEET", "method": "JOIN", "roomType": "proctoring", "jitsiMeetServerURL": jitsi.url,
        "jitsiMeetSubject": "Room 1"}
    token = checker(jitsi).check(attributes["jitsiMeetToken"], attributes["jitsiMeetRoom"])
    assert not token.moderator and token.user_name == "alice"
    alice.confirm = None  # the client did not confirm (yet)
    assert (await _instruction(alice)) == join  # re-sent until confirmed

    await _confirm(services, alice)
    async with services.db.read() as session:
        participant = (await session.execute(select(ProctoringParticipant))).scalar_one()
    assert participant.confirmed_ms is not None
    state = await services.proctoring.service.state(supporter, seb_world.exam_id)
    assert [(room.label, room.participants[0][1]) for room in state.rooms] == [("Room 1 (1 / 20)", "alice")]
    await supervise(services)
    assert (await alice.ping()).status_code == 204  # confirmed: no second JOIN


async def test_full_rooms_open_new_ones_and_closed_clients_leave(
        client: httpx.AsyncClient, services: Services, seb_world: SebWorld, supporter: Actor, jitsi: FakeJitsi) -> None:
    await _proctored(services, seb_world, supporter, jitsi, collecting_room_size=2)
    students = [await _student(client, seb_world, name) for name in ("alice", "bob", "carol")]
    await supervise(services)
    rooms = {name: (await _instruction(seb))["attributes"]["jitsiMeetSubject"]
             for name, seb in zip(("alice", "bob", "carol"), students, strict=True)}
    assert rooms == {"alice": "Room 1", "bob": "Room 1", "carol": "Room 2"}

    assert (await students[0].close()).status_code == 200  # alice quits SEB
    await supervise(services)
    assert [(room.subject, room.size) for room in await _rooms(services)] == [("Room 1", 1), ("Room 2", 1)]
    dave = await _student(client, seb_world, "dave")
    await supervise(services)
    assert (await _instruction(dave))["attributes"]["jitsiMeetSubject"] == "Room 1"  # the freed place


async def test_town_hall_and_back(client: httpx.AsyncClient, services: Services, seb_world: SebWorld,
                                  supporter: Actor, jitsi: FakeJitsi) -> None:
    await _proctored(services, seb_world, supporter, jitsi)
    alice = await _student(client, seb_world, "alice")
    await supervise(services)
    collecting = (await _instruction(alice))["attributes"]["jitsiMeetRoom"]
    await _confirm(services, alice)

    proctoring = services.proctoring.service
    town_hall = await proctoring.open_town_hall(supporter, seb_world.exam_id)
    join = await _instruction(alice)
    assert (join["attributes"]["roomType"], join["attributes"]["jitsiMeetSubject"]) == ("townhall", "Town-hall")
    with pytest.raises(Conflict, match="open already"):
        await proctoring.open_town_hall(supporter, seb_world.exam_id)
    await _confirm(services, alice)
    bob = await _student(client, seb_world, "bob")  # newly assigned clients go to the open town-hall
    await supervise(services)
    assert (await _instruction(bob))["attributes"]["roomType"] == "townhall"

    await proctoring.close_room(supporter, seb_world.exam_id, town_hall.id)
    back = await _instruction(alice)
    assert (back["attributes"]["roomType"], back["attributes"]["jitsiMeetRoom"]) == ("proctoring", collecting)
    assert [room.subject for room in await _rooms(services)] == ["Room 1"]


async def test_one_to_one_and_back(client: httpx.AsyncClient, services: Services, seb_world: SebWorld,
                                   supporter: Actor, jitsi: FakeJitsi) -> None:
    await _proctored(services, seb_world, supporter, jitsi)
    alice, bob = await _student(client, seb_world, "alice"), await _student(client, seb_world, "bob")
    await supervise(services)
    for seb in (alice, bob):
        await _instruction(seb)
        await _confirm(services, seb)
    live = services.sessions.runtime.connections[alice.connection_token or ""]

    proctoring = services.proctoring.service
    room = await proctoring.open_one_to_one(supporter, seb_world.exam_id, [live.id])
    assert room.participants == ((live.id, "alice"),)
    join = await _instruction(alice)
    assert (join["attributes"]["roomType"], join["attributes"]["jitsiMeetSubject"]) == ("breakout",
                                                                                         "One-to-one: alice")
    assert (await bob.ping()).status_code == 204  # bob stays where he is
    await _confirm(services, alice)

    await proctoring.close_room(supporter, seb_world.exam_id, room.id)
    assert (await _instruction(alice))["attributes"]["roomType"] == "proctoring"
    assert [room.kind for room in await _rooms(services)] == ["proctoring"]


async def test_broadcast_reconfigures_the_room_with_confirmation(
        client: httpx.AsyncClient, services: Services, seb_world: SebWorld, supporter: Actor, jitsi: FakeJitsi) -> None:
    await _proctored(services, seb_world, supporter, jitsi)
    alice = await _student(client, seb_world, "alice")
    await supervise(services)
    await _instruction(alice)
    await _confirm(services, alice)
    room = (await _rooms(services))[0]

    sent = await services.proctoring.service.broadcast(supporter, seb_world.exam_id, room.id, receive_audio=True,
                                                       receive_video=True, allow_chat=False)
    assert sent == 1
    reconfigure = await _instruction(alice)
    assert reconfigure["instruction"] == "SEB_RECONFIGURE_SETTINGS"
    attributes = dict(reconfigure["attributes"])
    assert attributes.pop("instruction-confirm")
    assert attributes == {"jitsiMeetReceiveAudio": "true", "jitsiMeetReceiveVideo": "true",
                          "jitsiMeetFeatureFlagChat": "false"}
    alice.confirm = None
    assert (await _instruction(alice)) == reconfigure  # until confirmed
    assert (await alice.ping()).status_code == 204  # confirmed with this ping


async def test_broadcast_needs_the_feature(client: httpx.AsyncClient, services: Services, seb_world: SebWorld,
                                           supporter: Actor, jitsi: FakeJitsi) -> None:
    await _proctored(services, seb_world, supporter, jitsi, features=["TOWN_HALL"])
    await _student(client, seb_world, "alice")
    await supervise(services)
    room = (await _rooms(services))[0]
    with pytest.raises(Conflict, match="broadcast"):
        await services.proctoring.service.broadcast(supporter, seb_world.exam_id, room.id, receive_audio=True,
                                                    receive_video=False, allow_chat=False)
    with pytest.raises(Conflict, match="ONE_TO_ONE"):
        await services.proctoring.service.open_one_to_one(supporter, seb_world.exam_id, [1])


async def test_reset_sends_leave_unlocks_the_settings_and_switches_proctoring_off(
        client: httpx.AsyncClient, services: Services, seb_world: SebWorld, supporter: Actor, jitsi: FakeJitsi) -> None:
    await _proctored(services, seb_world, supporter, jitsi)
    alice = await _student(client, seb_world, "alice")
    await supervise(services)
    await _instruction(alice)
    await _confirm(services, alice)
    proctoring = services.proctoring.service
    with pytest.raises(Conflict, match="reset the rooms"):
        await proctoring.save(supporter, seb_world.exam_id, jitsi_settings(jitsi, collecting_room_size=5))

    assert await proctoring.reset_rooms(supporter, seb_world.exam_id) == []
    leave = await _instruction(alice)
    assert leave["instruction"] == "SEB_PROCTORING"
    assert {k: v for k, v in leave["attributes"].items() if k != "instruction-confirm"} == {
        "service-type": "JITSI_MEET", "method": "LEAVE", "roomType": "proctoring"}
    assert await _rooms(services) == []
    view, _ = await proctoring.save(supporter, seb_world.exam_id, jitsi_settings(jitsi, collecting_room_size=5))
    assert view.enabled and not view.locked
    await _confirm(services, alice)
    await supervise(services)
    assert (await _instruction(alice))["attributes"]["method"] == "JOIN"  # proctored again


async def test_rooms_are_disposed_when_the_exam_ends(client: httpx.AsyncClient, services: Services,
                                                     seb_world: SebWorld, supporter: Actor, jitsi: FakeJitsi) -> None:
    await _proctored(services, seb_world, supporter, jitsi)
    alice = await _student(client, seb_world, "alice")
    await supervise(services)
    assert (await _instruction(alice))["attributes"]["method"] == "JOIN"  # not confirmed yet
    async with services.db.transaction() as session:
        await session.execute(update(Exam).where(Exam.id == seb_world.exam_id).values(status="FINISHED"))
    await services.sessions.runtime.refresh_running_exams()
    await supervise(services)
    assert await _rooms(services) == []
    async with services.db.read() as session:
        assert (await session.execute(select(func.count()).select_from(ProctoringParticipant))).scalar_one() == 0
    await services.sessions.runtime.sync()
    assert (await _instruction(alice)) == {"instruction": "SEB_QUIT"}  # the pending JOIN does not hold it up


async def test_rooms_of_a_deleted_exam_are_disposed(client: httpx.AsyncClient, services: Services,
                                                    seb_world: SebWorld, supporter: Actor, jitsi: FakeJitsi) -> None:
    await _proctored(services, seb_world, supporter, jitsi)
    await _student(client, seb_world, "alice")
    await supervise(services)
    async with services.db.transaction() as session:
        await session.execute(update(ProctoringSetting).values(exam_id=None))  # what deleting the exam does
    await services.sessions.runtime.refresh_running_exams()
    await supervise(services)
    assert await _rooms(services) == []
    async with services.db.read() as session:
        assert (await session.execute(select(func.count()).select_from(ProctoringSetting))).scalar_one() == 0
