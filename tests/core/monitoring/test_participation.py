"""The participation report: one row per SEB connection by user, first and last contact, the CSV export,
and who may read it."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.roles import Role
from sebframe.core.bootstrap import DEMO_INSTITUTION
from sebframe.core.db.models import ActivityLogEntry, ClientConnection, ConnectionStatus, Institution, UserAccount
from sebframe.core.errors import NotFound, ValidationFailed
from sebframe.core.monitoring.participation import CSV_HEADER, ParticipationRow
from sebframe.core.paging import ListParams
from sebframe.core.services import Services
from tests.conftest import Factory
from tests.participation_helpers import LAPTOP_ADDRESS, Participants, at, connect_participants, seat
from tests.seb_client import WINDOWS_OS, WINDOWS_VERSION, SebClient, SebWorld

pytestmark = pytest.mark.anyio

_EXAM_EXPORTS = select(ActivityLogEntry).where(ActivityLogEntry.activity == "EXPORT",
                                              ActivityLogEntry.entity_type == "EXAM")


@pytest.fixture
async def participants(services: Services, app: Any, client: httpx.AsyncClient, seb_world: SebWorld) -> Participants:
    return await connect_participants(services, app, client, seb_world)


async def _demo_actor(services: Services, username: str) -> Actor:
    async with services.db.read() as session:
        user = (await session.execute(select(UserAccount).where(UserAccount.username == username))).scalar_one()
    return actor_of(user)


async def _demo_institution(services: Services) -> Institution:
    async with services.db.read() as session:
        return (await session.execute(select(Institution).where(Institution.name == DEMO_INSTITUTION))).scalar_one()


async def _report(services: Services, actor: Actor, exam_id: int, **query: str) -> list[ParticipationRow]:
    page = await services.participation.report(actor, exam_id, ListParams.from_query(query, list(query)))
    return page.items


async def _csv(services: Services, actor: Actor, exam_id: int) -> bytes:
    return b"".join([chunk async for chunk in await services.participation.csv(actor, exam_id)])


async def test_one_row_per_connection_by_user_then_first_contact(services: Services, seb_world: SebWorld,
                                                                 participants: Participants) -> None:
    exam_admin = await _demo_actor(services, "demo-exam-admin")
    page = await services.participation.report(exam_admin, seb_world.exam_id, ListParams())
    assert page.total == 3
    summary = [(row.user, row.lms_user_id, row.os_login, row.machine, row.address, row.status, row.user_connections)
               for row in page.items]
    assert summary == [
        ("alice", "alice", "alice", "PC-alice", "127.0.0.1", ConnectionStatus.CLOSED, 2),
        ("alice", "alice", "alice-laptop", "PC-alice-laptop", LAPTOP_ADDRESS, ConnectionStatus.ACTIVE, 2),
        ("bob", "bob", "bob", "PC-bob", "127.0.0.1", ConnectionStatus.ACTIVE, 1),
    ]
    assert {(row.os, row.seb_version) for row in page.items} == {(WINDOWS_OS, WINDOWS_VERSION)}
    assert [row.status_label for row in page.items] == ["Closed", "Active", "Active"]
    assert [(row.first_contact, row.last_contact) for row in page.items] == [
        (at(0), at(5)),  # closed at 08:05: the last change
        (at(10), at(70)),  # the last ping
        (at(2), at(80)),  # the last event
    ]


async def test_filters_sorting_and_paging(services: Services, seb_world: SebWorld, participants: Participants) -> None:
    supporter = await _demo_actor(services, "demo-supporter")  # assigned to the demo exam

    async def users(**query: str) -> list[tuple[str | None, str | None]]:
        return [(row.user, row.address) for row in await _report(services, supporter, seb_world.exam_id, **query)]

    assert await users(user="ALI") == [("alice", "127.0.0.1"), ("alice", LAPTOP_ADDRESS)]
    assert await users(user="laptop") == [("alice", LAPTOP_ADDRESS)]  # the OS login
    assert await users(address="10.0.") == [("alice", LAPTOP_ADDRESS)]
    assert await users(machine="pc-bob") == [("bob", "127.0.0.1")]
    assert await users(status="CLOSED") == [("alice", "127.0.0.1")]
    assert await users(user="100%_") == []  # LIKE wildcards are literal
    assert await users(sort="-first_contact") == [("alice", LAPTOP_ADDRESS), ("bob", "127.0.0.1"),
                                                  ("alice", "127.0.0.1")]
    with pytest.raises(ValidationFailed):
        await users(status="GONE")
    with pytest.raises(ValidationFailed):
        await users(sort="connection_token")

    first = await services.participation.report(supporter, seb_world.exam_id, ListParams(page=1, size=1))
    assert (first.total, first.pages) == (3, 3)
    assert [(row.user, row.user_connections) for row in first.items] == [("alice", 2)]  # counted in the exam
    last = await services.participation.report(supporter, seb_world.exam_id, ListParams(page=3, size=1))
    assert [(row.user, row.user_connections) for row in last.items] == [("bob", 1)]


async def test_a_connection_without_lms_user_counts_by_what_monitoring_shows(
        services: Services, app: Any, client: httpx.AsyncClient, seb_world: SebWorld) -> None:
    for _ in range(2):  # the same pool PC twice, nobody signed in to the LMS yet
        await SebClient(client, seb_world, name="pool-17").connect()
    rows = await _report(services, await _demo_actor(services, "demo-exam-admin"), seb_world.exam_id)
    assert [(row.user, row.lms_user_id, row.status, row.user_connections) for row in rows] == [
        ("pool-17", None, ConnectionStatus.READY, 2)] * 2


async def test_csv_export(services: Services, seb_world: SebWorld, participants: Participants) -> None:
    exam_admin = await _demo_actor(services, "demo-exam-admin")
    async with services.db.transaction() as session:  # what SEB clients may send, and a spreadsheet would run
        await session.execute(update(ClientConnection).where(
            ClientConnection.connection_token == participants.bob.connection_token).values(
            seb_machine_name='PC "17", Room B\nfloor 2', seb_client_user_id="=HYPERLINK(\"http://evil\")"))

    data = await _csv(services, exam_admin, seb_world.exam_id)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark, for spreadsheet programs
    text = data.decode("utf-8-sig")
    assert not any(token in text for token in participants.tokens)  # tokens are the clients' credentials
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(CSV_HEADER)
    assert rows[1:] == [
        ["alice", "alice", "alice", "PC-alice", "127.0.0.1", "", "", WINDOWS_OS, WINDOWS_VERSION, "Closed",
         "2026-01-05T08:00:00Z", "2026-01-05T08:05:00Z", "2"],
        ["alice", "alice", "alice-laptop", "PC-alice-laptop", LAPTOP_ADDRESS, "", "", WINDOWS_OS, WINDOWS_VERSION,
         "Active", "2026-01-05T08:10:00Z", "2026-01-05T09:10:00Z", "2"],
        ["bob", "bob", "'=HYPERLINK(\"http://evil\")", 'PC "17", Room B\nfloor 2', "127.0.0.1", "", "", WINDOWS_OS,
         WINDOWS_VERSION, "Active", "2026-01-05T08:02:00Z", "2026-01-05T09:20:00Z", "1"],
    ]
    assert '"PC ""17"", Room B\nfloor 2"' in text  # quoted by the csv module
    async with services.db.read() as session:
        logged = (await session.execute(_EXAM_EXPORTS)
                  ).scalar_one()
    assert ((logged.username, logged.entity_type, logged.entity_id)
            == ("demo-exam-admin", "EXAM", str(seb_world.exam_id)))
    assert "participation" in logged.message


async def test_room_and_seat_of_the_location_decision(services: Services, seb_world: SebWorld,
                                                      participants: Participants) -> None:
    """Who sat where: a connection with a location decision has its room and seat; the others none."""
    await seat(services, participants.alice_laptop, seb_world.exam_id, "Lab 1", "=17")
    await seat(services, participants.bob, seb_world.exam_id, "Lab 2", "")
    exam_admin = await _demo_actor(services, "demo-exam-admin")
    rows = await _report(services, exam_admin, seb_world.exam_id)
    assert [(row.user, row.room, row.seat) for row in rows] == [("alice", "", ""), ("alice", "Lab 1", "=17"),
                                                                ("bob", "Lab 2", "")]
    lines = list(csv.reader(io.StringIO((await _csv(services, exam_admin, seb_world.exam_id)).decode("utf-8-sig"),
                                        newline="")))
    assert lines[0][4:7] == ["IP Address", "Room", "Seat"]
    assert [line[4:7] for line in lines[1:]] == [["127.0.0.1", "", ""], [LAPTOP_ADDRESS, "Lab 1", "'=17"],
                                                 ["127.0.0.1", "Lab 2", ""]]  # a formula is not run


async def test_csv_export_in_batches(services: Services, seb_world: SebWorld, participants: Participants,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sebframe.core.monitoring.participation._BATCH", 2)
    chunks = [chunk async for chunk in await services.participation.csv(
        await _demo_actor(services, "demo-exam-admin"), seb_world.exam_id)]
    assert len(chunks) == 3  # header, two batches
    lines = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"), newline="")))
    assert [(line[2], line[-1]) for line in lines[1:]] == [("alice", "2"), ("alice-laptop", "2"), ("bob", "1")]


async def test_an_exam_without_connections(services: Services, seb_world: SebWorld) -> None:
    exam_admin = await _demo_actor(services, "demo-exam-admin")
    assert await _report(services, exam_admin, seb_world.exam_id) == []
    text = (await _csv(services, exam_admin, seb_world.exam_id)).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text, newline=""))) == [list(CSV_HEADER)]


@pytest.mark.parametrize("who", ["other institution", "unassigned supporter"])
async def test_others_do_not_find_the_report(services: Services, factory: Factory, seb_world: SebWorld,
                                             participants: Participants, who: str) -> None:
    if who == "other institution":
        actor = await factory.actor(await factory.institution("UZH"), "uzh-admin", Role.EXAM_ADMIN)
    else:
        actor = await factory.actor(await _demo_institution(services), "other-supporter", Role.EXAM_SUPPORTER)
    with pytest.raises(NotFound):
        await services.participation.report(actor, seb_world.exam_id, ListParams())
    with pytest.raises(NotFound):
        await services.participation.csv(actor, seb_world.exam_id)
    async with services.db.read() as session:  # a refused export is not logged
        assert (await session.execute(_EXAM_EXPORTS)
                ).first() is None


async def test_institution_staff_read_and_unknown_exams_are_not_found(services: Services, seb_world: SebWorld,
                                                                       participants: Participants) -> None:
    institution_admin = await _demo_actor(services, "demo-institution-admin")
    assert len(await _report(services, institution_admin, seb_world.exam_id)) == 3
    with pytest.raises(NotFound):
        await services.participation.report(institution_admin, 999_999, ListParams())
