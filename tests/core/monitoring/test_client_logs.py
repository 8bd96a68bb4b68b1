"""All SEB client logs: search with filters and sorting, tenant isolation, details, the streamed CSV export
and filtered deletion."""

from __future__ import annotations

import csv
import io
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select

from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import ActivityLogEntry, Exam, Institution, UserAccount
from sebframe.core.errors import NotFound, PermissionDenied, ValidationFailed
from sebframe.core.monitoring.logs import CLIENT_LOG_FILTERS, CSV_HEADER, LogRow
from sebframe.core.paging import ListParams
from sebframe.core.services import Services
from tests.client_log_helpers import Event, add_connection, add_events, add_exam, bulk_events
from tests.conftest import Factory
from tests.seb_client import SebClient, build_seb_world

pytestmark = pytest.mark.anyio


@dataclass
class World:
    eth: Institution
    uzh: Institution
    exam_admin: Actor
    supporter: Actor  # assigned to Physics
    other_supporter: Actor
    institutional_admin: Actor
    root: Actor
    foreign: Actor  # exam administrator of UZH
    physics: Exam
    chemistry: Exam
    biology: Exam  # UZH's
    ids: dict[str, int]


@pytest.fixture
async def client_log_world(services: Services, factory: Factory) -> World:
    """Client log world: ETH's Physics and Chemistry, UZH's Biology, connections with log events (``ids``: event key
    -> id), and one actor per role."""
    eth = await factory.institution("ETH")
    uzh = await factory.institution("UZH")
    supporter = await factory.actor(eth, "sam", Role.EXAM_SUPPORTER)
    physics = await add_exam(services, eth.id, "Physics", supporter_ids=[supporter.user_id])
    chemistry = await add_exam(services, eth.id, "chemistry")
    biology = await add_exam(services, uzh.id, "Biology")
    alice = await add_connection(services, physics, "Alice.Smith", address="10.0.0.1", machine="PC-ALICE")
    bob = await add_connection(services, physics, "bob")
    carol = await add_connection(services, chemistry, "carol")
    dave = await add_connection(services, biology, "dave")
    ids: dict[str, int] = {}
    for connection, events in (
        (alice, {"a1": Event("INFO_LOG", 1, "<battery> High at 87%", 87),
                 "a2": Event("ERROR_LOG", 5, "Proctor crashed"),
                 "a3": Event("WARN_LOG", 9, "SEB Client IP address changed")}),
        (bob, {"b1": Event("DEBUG_LOG", 2, "debug line"), "b2": Event("ERROR_LOG", 7, "Missing Client Ping")}),
        (carol, {"c1": Event("INFO_LOG", 3, "carol started", 0.25)}),
        (dave, {"d1": Event("ERROR_LOG", 4, "UZH error")}),
    ):
        ids.update(zip(events, await add_events(services, connection, list(events.values())), strict=True))
    return World(eth, uzh, await factory.actor(eth, "erika", Role.EXAM_ADMIN), supporter,
                 await factory.actor(eth, "sue", Role.EXAM_SUPPORTER),
                 await factory.actor(eth, "ia", Role.INSTITUTIONAL_ADMIN),
                 await factory.actor(eth, "root", Role.SEB_SERVER_ADMIN),
                 await factory.actor(uzh, "ursula", Role.EXAM_ADMIN), physics, chemistry, biology, ids)


async def _search(services: Services, actor: Actor, **query: str) -> list[LogRow]:
    params = ListParams.from_query({"size": "100", **query}, CLIENT_LOG_FILTERS)
    return (await services.client_logs.search(actor, params)).items


def _names(client_log_world: World, rows: list[LogRow]) -> list[str]:
    by_id = {event_id: name for name, event_id in client_log_world.ids.items()}
    return [by_id[row.id] for row in rows]


async def test_search_lists_the_institutions_exams_newest_first(services: Services, client_log_world: World) -> None:
    page = await services.client_logs.search(client_log_world.exam_admin, ListParams(size=4))
    assert (page.total, page.pages) == (6, 2)
    assert _names(client_log_world, page.items) == ["a3", "b2", "a2", "c1"]
    first = page.items[0]
    assert (first.exam_name, first.user_session_id, first.event_type, first.text) == (
        "Physics", "Alice.Smith", "WARN_LOG", "SEB Client IP address changed")
    assert first.server_time is not None and first.server_time.isoformat() == "2026-11-22T08:09:00+00:00"
    assert first.client_time is not None and first.client_time.isoformat() == "2026-11-22T08:08:59+00:00"
    second_page = await services.client_logs.search(client_log_world.exam_admin, ListParams(page=2, size=4))
    assert _names(client_log_world, second_page.items) == ["b1", "a1"]
    assert second_page.items[1].value_text == "87"


async def test_filters(services: Services, client_log_world: World) -> None:
    admin = client_log_world.exam_admin
    assert (_names(client_log_world, await _search(services, admin, exam_id=str(client_log_world.chemistry.id)))
            == ["c1"])
    # any case
    assert (_names(client_log_world, await _search(services, admin, user_session="alice.s"))
            == ["a3", "a2", "a1"])
    assert _names(client_log_world, await _search(services, admin, event_type="ERROR_LOG")) == ["b2", "a2"]
    assert _names(client_log_world, await _search(services, admin, text="CLIENT")) == ["a3", "b2"]
    assert _names(client_log_world, await _search(services, admin, text="%")) == ["a1"]  # literally, not a wildcard
    window = {"from": "2026-11-22T08:02:00Z", "to": "2026-11-22T09:05:00+01:00"}  # both ends included
    assert _names(client_log_world, await _search(services, admin, **window)) == ["a2", "c1", "b1"]
    assert _names(client_log_world, await _search(services, admin, exam_id=str(client_log_world.physics.id),
                                                  event_type="ERROR_LOG", user_session="BOB")) == ["b2"]
    assert await _search(services, admin, exam_id=str(client_log_world.biology.id)) == []  # another institution's exam
    assert await _search(services, admin, exam_id="99999999999") == []


async def test_sorting(services: Services, client_log_world: World) -> None:
    admin = client_log_world.exam_admin
    assert (_names(client_log_world, await _search(services, admin, sort="server_time"))
            == ["a1", "b1", "c1", "a2", "b2", "a3"])
    by_exam = await _search(services, admin, sort="exam")  # case-insensitive: chemistry before Physics
    assert [row.exam_name for row in by_exam] == ["chemistry"] + ["Physics"] * 5
    assert _names(client_log_world, by_exam)[1:] == ["a3", "b2", "a2", "b1", "a1"]  # then newest first
    by_user = await _search(services, admin, sort="-user_session")
    assert [row.user_session_id for row in by_user] == ["carol", "bob", "bob", "Alice.Smith", "Alice.Smith",
                                                        "Alice.Smith"]
    by_type = await _search(services, admin, sort="event_type")
    assert [row.event_type for row in by_type] == ["DEBUG_LOG", "ERROR_LOG", "ERROR_LOG", "INFO_LOG", "INFO_LOG",
                                                   "WARN_LOG"]
    assert _names(client_log_world, await _search(services, admin, sort="-client_time"))[:2] == ["a3", "b2"]


async def test_tenants_and_supporters_see_only_their_exams(services: Services, client_log_world: World) -> None:
    assert _names(client_log_world, await _search(services, client_log_world.foreign)) == ["d1"]
    assert (_names(client_log_world, await _search(services, client_log_world.supporter))
            == ["a3", "b2", "a2", "b1", "a1"])
    assert await _search(services, client_log_world.other_supporter) == []
    assert await _search(services, client_log_world.supporter, exam_id=str(client_log_world.chemistry.id)) == []
    assert [name for _, name in await services.client_logs.exam_choices(client_log_world.exam_admin)] == ["chemistry",
                                                                                             "Physics"]
    assert (await services.client_logs.exam_choices(client_log_world.supporter)
            == [(client_log_world.physics.id, "Physics")])
    with pytest.raises(NotFound):
        await services.client_logs.get(client_log_world.foreign, client_log_world.ids["a1"])
    with pytest.raises(NotFound):
        await services.client_logs.get(client_log_world.supporter, client_log_world.ids["c1"])
    assert await services.client_logs.count(client_log_world.foreign, {}) == 1
    # SEB Server grants client logs to exam administrators and supporters only.
    for actor in (client_log_world.institutional_admin, client_log_world.root):
        with pytest.raises(PermissionDenied):
            await _search(services, actor)
        with pytest.raises(PermissionDenied):
            await services.client_logs.get(actor, client_log_world.ids["a1"])
        with pytest.raises(PermissionDenied):
            await services.client_logs.export_csv(actor, {})


async def test_details_show_the_connection_but_not_its_token(services: Services, client_log_world: World) -> None:
    details = await services.client_logs.get(client_log_world.supporter, client_log_world.ids["a1"])
    assert (details.row.exam_name, details.row.user_session_id, details.row.text, details.row.numeric_value) == (
        "Physics", "Alice.Smith", "<battery> High at 87%", 87)
    assert (details.connection_status, details.client_address, details.seb_machine_name, details.seb_os_name,
            details.seb_version, details.seb_client_user_id) == ("ACTIVE", "10.0.0.1", "PC-ALICE", "Windows 11",
                                                                 "3.8.0 (x64)", "student")
    assert not any("token" in name for name in type(details).__dataclass_fields__)
    with pytest.raises(NotFound):
        await services.client_logs.get(client_log_world.exam_admin, 0)
    with pytest.raises(NotFound):
        await services.client_logs.get(client_log_world.exam_admin, 2**40)


@pytest.mark.parametrize(("query", "field"), [
    ({"event_type": "LOUD_LOG"}, "event_type"),
    ({"from": "yesterday"}, "from"),
    ({"to": "2026-13-01"}, "to"),
    ({"from": "2026-11-23", "to": "2026-11-22"}, "to"),
    ({"exam_id": "physics"}, "exam_id"),
    ({"sort": "text"}, "sort"),
])
async def test_bad_filters_name_the_field(services: Services, client_log_world: World, query: dict[str, str],
                                          field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await _search(services, client_log_world.exam_admin, **query)
    assert field in raised.value.field_errors
    if field != "sort":
        with pytest.raises(ValidationFailed):
            await services.client_logs.export_csv(client_log_world.exam_admin, query)
        with pytest.raises(ValidationFailed):
            await services.client_logs.count(client_log_world.exam_admin, query)


async def _export(services: Services, actor: Actor, filters: dict[str, str], **options: Any) -> bytes:
    return b"".join([chunk async for chunk in await services.client_logs.export_csv(actor, filters, **options)])


async def test_csv_export_escapes_and_formats(services: Services, client_log_world: World) -> None:
    tricky = await add_connection(services, client_log_world.chemistry, "=Zoë, \"the\" student", address="10.9.9.9")
    await add_events(services, tricky, [
        Event("ERROR_LOG", 20, 'Crash, "quoted"\r\nsecond line – ünïcödé 日本', -1.5, client_ms=0),
        Event("INFO_LOG", 21, "=HYPERLINK(\"http://evil\")", None, client_ms=2**62),
    ])
    data = await _export(services, client_log_world.exam_admin, {"exam_id": str(client_log_world.chemistry.id)})
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark, for spreadsheet programs
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[1:] == [
        ["INFO_LOG", "carol started", "0.25", "2026-11-22T08:02:59.000Z", "2026-11-22T08:03:00.000Z", "carol",
         "10.0.0.7", "chemistry"],
        ["ERROR_LOG", 'Crash, "quoted"\r\nsecond line – ünïcödé 日本', "-1.5", "1970-01-01T00:00:00.000Z",
         "2026-11-22T08:20:00.000Z", "'=Zoë, \"the\" student", "10.9.9.9", "chemistry"],
        # A formula would run in a spreadsheet: quoted; a client time no calendar holds stays empty.
        ["INFO_LOG", "'=HYPERLINK(\"http://evil\")", "", "", "2026-11-22T08:21:00.000Z",
         "'=Zoë, \"the\" student", "10.9.9.9", "chemistry"],
    ]
    assert b"\r\n" in data and b'"Crash, ""quoted""\r\nsecond line' in data
    assert tricky.connection_token.encode() not in data
    chemistry = {"exam_id": str(client_log_world.chemistry.id)}
    assert (await _export(services, client_log_world.supporter, chemistry)).count(b"\n") == 1


async def test_export_is_logged(services: Services, client_log_world: World) -> None:
    await _export(services, client_log_world.exam_admin, {"event_type": "ERROR_LOG"})
    async with services.db.read() as session:
        entry = (await session.execute(select(ActivityLogEntry).where(ActivityLogEntry.activity == "EXPORT"))
                 ).scalar_one()
    assert (entry.username, entry.entity_type, entry.message) == ("erika", "CLIENT_EVENT",
                                                                  "CSV export; event_type=ERROR_LOG")


async def test_export_streams_in_chunks_with_bounded_memory(services: Services, client_log_world: World) -> None:
    """20,000 events of 300 characters (about 7 MB of CSV) leave in chunks of 500: one query per chunk,
    and the export never holds more than about a chunk."""
    connection = await add_connection(services, client_log_world.chemistry, "volume")
    await bulk_events(services, connection, 20_000, "x" * 290)
    queries: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "client_event" in statement:
            queries.append(statement)

    event.listen(services.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        chunks = await services.client_logs.export_csv(client_log_world.exam_admin, {"user_session": "volume"},
                                                       chunk_size=500)
        tracemalloc.start()
        total = rows = 0
        largest = 0
        async for chunk in chunks:
            total += len(chunk)
            rows += chunk.count(b"\r\n")
            largest = max(largest, len(chunk))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        event.remove(services.db.engine.sync_engine, "before_cursor_execute", count)
    assert rows == 20_001  # with the header
    assert total > 6_000_000
    # Physics has none of them (one query), Chemistry 40 full chunks and the one that finds no more.
    assert len(queries) == 42 and all("LIMIT" in query.upper() for query in queries)
    assert largest < 200_000  # a chunk of 500 rows
    assert peak < total / 4, (peak, total)


async def test_count_then_delete_filtered_events(services: Services, client_log_world: World) -> None:
    logs = services.client_logs
    errors = {"event_type": "ERROR_LOG"}
    assert await logs.count(client_log_world.exam_admin, errors) == 2
    with pytest.raises(PermissionDenied):
        await logs.delete(client_log_world.supporter, errors)  # supporters read, never delete
    with pytest.raises(ValidationFailed) as raised:
        await logs.delete(client_log_world.exam_admin, {})
    assert "all" in raised.value.field_errors
    # not UZH's to delete
    assert (await logs.delete(client_log_world.foreign, {"exam_id": str(client_log_world.physics.id)})
            == 0)

    assert await logs.delete(client_log_world.exam_admin, errors, chunk_size=1) == 2
    assert _names(client_log_world, await _search(services, client_log_world.exam_admin)) == ["a3", "c1", "b1", "a1"]
    assert _names(client_log_world, await _search(services, client_log_world.foreign)) == ["d1"]  # UZH's error stays
    async with services.db.read() as session:
        entry = (await session.execute(select(ActivityLogEntry).where(ActivityLogEntry.activity == "DELETE"))
                 ).scalar_one()
    assert (entry.username, entry.entity_type, entry.entity_name, entry.message) == (
        "erika", "CLIENT_EVENT", "2 SEB client log events", "event_type=ERROR_LOG")

    assert await logs.delete(client_log_world.exam_admin, {}, everything=True) == 4
    assert await logs.count(client_log_world.exam_admin, {}) == 0
    assert await logs.count(client_log_world.foreign, {}) == 1


async def test_events_of_a_real_seb_client(services: Services, client: httpx.AsyncClient, tmp_path: Path) -> None:
    seb = await build_seb_world(services, tmp_path / "seb")
    alice = SebClient(client, seb, name="alice")
    await alice.connect("alice")
    for entry in ({"type": "ERROR_LOG", "text": "Browser crashed", "timestamp": 1_700_000_000_000},
                  {"type": "INFO_LOG", "text": "<wlan> eduroam: Connected, 70%", "numericValue": 70,
                   "timestamp": 1_700_000_001_000}):
        assert (await alice.log(entry)).status_code == 204
    async with services.db.read() as session:
        user = (await session.execute(select(UserAccount).where(UserAccount.username == "demo-exam-admin"))
                ).scalar_one()
    rows = await _search(services, actor_of(user), exam_id=str(seb.exam_id))
    assert [(row.event_type, row.text, row.value_text, row.user_session_id) for row in rows[-2:]] == [
        ("INFO_LOG", "<wlan> eduroam: Connected, 70%", "70", "alice"),
        ("ERROR_LOG", "Browser crashed", "", "alice"),
    ]
    assert rows[-1].client_time is not None and rows[-1].client_time.year == 2023


async def test_chunks_do_not_lose_events_of_the_same_millisecond(services: Services, client_log_world: World) -> None:
    """Chunk boundaries fall inside a run of equal server times: the walk continues by id, nothing twice."""
    same = await add_connection(services, client_log_world.chemistry, "burst")
    await add_events(services, same, [Event("INFO_LOG", 30, f"burst {index}") for index in range(7)])
    data = await _export(services, client_log_world.exam_admin, {"user_session": "burst"}, chunk_size=2)
    texts = [row[1] for row in csv.reader(io.StringIO(data.decode("utf-8-sig")))][1:]
    assert texts == [f"burst {index}" for index in range(7)]
    assert await services.client_logs.delete(client_log_world.exam_admin, {"user_session": "burst"}, chunk_size=2) == 7
    assert await services.client_logs.count(client_log_world.exam_admin, {"user_session": "burst"}) == 0
