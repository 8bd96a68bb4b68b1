"""Live proctoring with Zoom through real SEB conversations against the fake Zoom API: a meeting per room, the
client's JOIN with the Meeting SDK attributes, the proctor starting the meeting with the host's ZAK, closed rooms
ended and deleted (and retried when Zoom refuses), and nothing left running after the exam ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest
import sebframe_proctoring_zoom.plugin
from sebframe_proctoring_zoom.client import forget_tokens
from sqlalchemy import select, update

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.passwords import hash_password
from sebframe.core.db.models import Exam, ProctoringRoom, UserAccount
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.testing.fakes.zoom import FakeZoom
from tests.conftest import PASSWORD, sign_in
from tests.exam_helpers import exam_services
from tests.proctoring_helpers import supervise, user
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio
SDK_SECRET = "sdk-client-secret-of-the-test-0123456789"


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with exam_services(settings, sebframe_proctoring_zoom.plugin) as zoom_services:
        yield zoom_services


@pytest.fixture
def zoom() -> Iterator[FakeZoom]:
    forget_tokens()
    with FakeZoom() as server:
        yield server
    forget_tokens()


@pytest.fixture
async def supporter(services: Services, seb_world: SebWorld) -> Actor:
    return await user(services, "demo-supporter")


def zoom_settings(zoom: FakeZoom, **changes: Any) -> dict[str, Any]:
    return {"enabled": True, "service_type": "ZOOM", "server_url": zoom.url, "collecting_room_size": 20,
            "features": ["TOWN_HALL", "ONE_TO_ONE", "BROADCAST", "ENABLE_CHAT"],
            "settings": {"api_url": zoom.api_url, "account_id": zoom.account_id, "client_id": zoom.client_id,
                         "client_secret": zoom.client_secret, "sdk_client_id": "sdk-id",
                         "sdk_client_secret": SDK_SECRET, "host_user": zoom.owner.email}} | changes


async def _proctored(services: Services, seb_world: SebWorld, supporter: Actor, zoom: FakeZoom) -> None:
    view, result = await services.proctoring.service.save(supporter, seb_world.exam_id, zoom_settings(zoom))
    assert result.ok and view.enabled, result.message
    assert "client_secret" in view.settings and view.settings["client_secret"] == "********"


async def _joined(services: Services, client: httpx.AsyncClient, seb_world: SebWorld, name: str) -> SebClient:
    """A student whose SEB connection is ACTIVE, got its collecting room's JOIN and confirmed it."""
    seb = SebClient(client, seb_world, name=name)
    await seb.connect(user=name)
    await supervise(services)
    assert (await _instruction(seb))["attributes"]["roomType"] == "proctoring"
    assert (await seb.ping()).status_code == 204
    await supervise(services)
    return seb


async def _instruction(seb: SebClient) -> dict[str, Any]:
    response = await seb.ping()
    assert response.status_code == 200, response.status_code
    return response.json()


async def _rooms(services: Services) -> list[ProctoringRoom]:
    async with services.db.read() as session:
        return list((await session.execute(select(ProctoringRoom).order_by(ProctoringRoom.id))).scalars())


async def test_meetings_follow_the_rooms_and_nothing_is_left_after_the_exam(
        client: httpx.AsyncClient, services: Services, seb_world: SebWorld, supporter: Actor, zoom: FakeZoom) -> None:
    await _proctored(services, seb_world, supporter, zoom)
    seb = SebClient(client, seb_world, name="alice")
    await seb.connect(user="alice")
    await supervise(services)
    join = await _instruction(seb)
    attributes = join["attributes"]
    meeting = next(iter(zoom.meetings.values()))
    assert {key: attributes[key] for key in ("service-type", "method", "roomType", "zoomRoom", "zoomAPIKey",
                                             "zoomMeetingKey", "zoomUserName", "zoomSubject")} == {
        "service-type": "ZOOM", "method": "JOIN", "roomType": "proctoring", "zoomRoom": str(meeting.id),
        "zoomAPIKey": "sdk-id", "zoomMeetingKey": f"enc.{meeting.password}", "zoomUserName": "alice",
        "zoomSubject": "Room 1"}
    claims = jwt.decode(attributes["zoomToken"], SDK_SECRET, algorithms=["HS256"])
    assert (claims["mn"], claims["role"]) == (str(meeting.id), 0)
    assert (await seb.ping()).status_code == 204  # confirmed

    proctoring = services.proctoring.service
    room = (await _rooms(services))[0]
    _, window = await proctoring.proctor_window(supporter, seb_world.exam_id, room.id)
    zoom.start(meeting.id, window.config["zak"])  # the proctor starts the meeting as its host
    assert meeting.status == "started"

    town_hall = await proctoring.open_town_hall(supporter, seb_world.exam_id)
    assert len(zoom.meetings) == 2 and (await _instruction(seb))["attributes"]["roomType"] == "townhall"
    await proctoring.close_room(supporter, seb_world.exam_id, town_hall.id)
    assert [m.topic for m in zoom.meetings.values() if not m.deleted] == ["Room 1"]  # ended and deleted

    async with services.db.transaction() as session:
        await session.execute(update(Exam).where(Exam.id == seb_world.exam_id).values(status="FINISHED"))
    await services.sessions.runtime.refresh_running_exams()
    await supervise(services)
    assert zoom.running() == [] and meeting.status == "ended"
    assert await _rooms(services) == []


async def test_a_closed_room_zoom_refused_to_delete_is_disposed_later(
        client: httpx.AsyncClient, services: Services, seb_world: SebWorld, supporter: Actor, zoom: FakeZoom) -> None:
    await _proctored(services, seb_world, supporter, zoom)
    alice = await _joined(services, client, seb_world, "alice")
    live = services.sessions.runtime.connections[alice.connection_token or ""]
    proctoring = services.proctoring.service

    one_to_one = await proctoring.open_one_to_one(supporter, seb_world.exam_id, [live.id])
    assert (await _instruction(alice))["attributes"]["roomType"] == "breakout"
    private = max(zoom.meetings)
    zoom.fail(429, path=f"/v2/meetings/{private}", method="DELETE", retry_after="3600")  # Zoom refuses, once
    await proctoring.close_room(supporter, seb_world.exam_id, one_to_one.id)

    assert (await _instruction(alice))["attributes"]["roomType"] == "proctoring"  # back at once
    assert not zoom.meetings[private].deleted  # the meeting is still there ...
    assert one_to_one.id in [room.id for room in await _rooms(services)]  # its row waits for the dispose
    state = await proctoring.state(supporter, seb_world.exam_id)
    assert [room.subject for room in state.rooms] == ["Room 1"]  # ... but the room is closed
    with pytest.raises(Exception, match="not found"):
        await proctoring.proctor_window(supporter, seb_world.exam_id, one_to_one.id)

    await supervise(services)  # the supervising process tries again
    assert zoom.meetings[private].deleted
    assert [room.subject for room in await _rooms(services)] == ["Room 1"]


async def test_the_town_hall_opens_again_while_the_closed_one_waits_for_zoom(
        client: httpx.AsyncClient, services: Services, seb_world: SebWorld, supporter: Actor, zoom: FakeZoom) -> None:
    await _proctored(services, seb_world, supporter, zoom)
    alice = await _joined(services, client, seb_world, "alice")
    proctoring = services.proctoring.service
    first = await proctoring.open_town_hall(supporter, seb_world.exam_id)
    zoom.fail(429, path="/v2/meetings/", method="DELETE", retry_after="3600")
    await proctoring.close_room(supporter, seb_world.exam_id, first.id)
    assert len(zoom.running()) == 2  # the collecting room's meeting and the closed town-hall's

    second = await proctoring.open_town_hall(supporter, seb_world.exam_id)  # the closed one left the slot
    assert second.id != first.id
    join = await _instruction(alice)
    assert (join["attributes"]["roomType"], join["attributes"]["zoomRoom"]) == ("townhall", str(max(zoom.meetings)))
    await supervise(services)
    room_1, first_meeting, second_meeting = (zoom.meetings[key] for key in sorted(zoom.meetings))
    assert first_meeting.deleted and first_meeting.status == "ended"  # disposed by the next round
    assert not room_1.deleted and not second_meeting.deleted
    rooms = await _rooms(services)
    assert [room.subject for room in rooms] == ["Room 1", "Town-hall"] and rooms[1].id == second.id


async def test_the_proctor_window_allows_zoom_and_nothing_else(
        client: httpx.AsyncClient, services: Services, seb_world: SebWorld, supporter: Actor, zoom: FakeZoom) -> None:
    await _proctored(services, seb_world, supporter, zoom)
    await _joined(services, client, seb_world, "alice")
    async with services.db.transaction() as session:  # the demo accounts get random passwords
        await session.execute(update(UserAccount).where(UserAccount.username == "demo-supporter")
                              .values(password_hash=hash_password(PASSWORD)))
    await sign_in(client, "demo-supporter")
    room = (await _rooms(services))[0]
    window = await client.get(f"/proctoring/{seb_world.exam_id}/rooms/{room.id}/window")
    assert window.status_code == 200
    assert '<script src="https://source.zoom.us/6.2.0/zoom-meeting-6.2.0.min.js"></script>' in window.text
    assert '<script src="/proctoring/assets/ZOOM/zoom_window.js"></script>' in window.text
    policy = window.headers["content-security-policy"]
    scripts = policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "https://source.zoom.us" in scripts and "'wasm-unsafe-eval'" in scripts and "*" not in scripts
    assert "wss://*.zoom.us" in policy.split("connect-src", 1)[1].split(";", 1)[0]
    assert "worker-src 'self'" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    assert SDK_SECRET not in window.text and zoom.client_secret not in window.text
