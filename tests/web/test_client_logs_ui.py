"""Admin UI: SEB client logs under Monitoring: the list with filters (times in the user's zone), the details
dialog, the CSV download and the confirmed deletion of the filtered events."""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import ActivityLogEntry, Exam
from sebframe.core.services import Services
from sebframe.core.session.clock import now_ms
from tests.client_log_helpers import Event, add_connection, add_events, add_exam
from tests.conftest import Factory, sign_in

pytestmark = pytest.mark.anyio

DAY_MS = 24 * 3600 * 1000


@dataclass
class Logs:
    physics: int
    chemistry: int
    biology: int  # another institution's
    ids: dict[str, int]


@pytest.fixture
async def logs(services: Services, factory: Factory) -> Logs:
    """ETH with an exam administrator in Zurich time ("erika"), a supporter of Physics ("sam") and an
    institutional administrator ("ia"); UZH with its own exam administrator ("ursula")."""
    eth = await factory.institution("ETH")
    uzh = await factory.institution("UZH")
    await factory.user(eth, "erika", Role.EXAM_ADMIN, timezone="Europe/Zurich")
    sam = await factory.user(eth, "sam", Role.EXAM_SUPPORTER)
    await factory.user(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    await factory.user(uzh, "ursula", Role.EXAM_ADMIN)
    physics = await add_exam(services, eth.id, "Physics", supporter_ids=[sam.id])
    chemistry = await add_exam(services, eth.id, "Chemistry")
    biology = await add_exam(services, uzh.id, "Biology")
    ids: dict[str, int] = {}
    for exam, user, events in (
        (physics, "alice", {"a1": Event("INFO_LOG", 1, "<battery> High at 87%", 87),
                            "a2": Event("ERROR_LOG", 5, 'Crash in "lockdown", <b>bold</b>')}),
        (physics, "bob", {"b1": Event("WARN_LOG", 3, "IP address changed")}),
        (chemistry, "carol", {"c1": Event("ERROR_LOG", 4, "Missing Client Ping")}),
        (biology, "dave", {"d1": Event("ERROR_LOG", 2, "UZH error")}),
    ):
        connection = await add_connection(services, exam, user, address="10.1.2.3")
        ids.update(zip(events, await add_events(services, connection, list(events.values())), strict=True))
    return Logs(physics.id, chemistry.id, biology.id, ids)


def _rows(page: str) -> list[tuple[str, str, str, str]]:
    """(exam, user, event type, message) of each listed event, in order."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r'<tr data-href="/client-logs/\d+".*?>(.*?)</tr>', body, re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>",
                                                                                            row, re.S)]
        rows.append((cells[0], cells[1], cells[2], cells[3]))
    return rows


def _link(page: str, label: str) -> str:
    found = re.search(r'<a class="action[^"]*" href="([^"]+)"[^>]*>' + label + "</a>", page)
    assert found, label
    return html.unescape(found.group(1))


async def test_menu_entry_for_exam_staff_only(client: httpx.AsyncClient, logs: Logs) -> None:
    await sign_in(client, "sam")
    home = await client.get("/")
    assert 'href="/client-logs"' in home.text and "SEB Client Logs" in home.text
    await sign_in(client, "ia")
    assert 'href="/client-logs"' not in (await client.get("/")).text
    assert (await client.get("/client-logs")).status_code == 403
    assert (await client.get("/client-logs/export.csv")).status_code == 403


async def test_list_filters_and_sorts_with_times_in_the_users_zone(client: httpx.AsyncClient, logs: Logs) -> None:
    await sign_in(client, "erika")
    page = await client.get("/client-logs?from=")
    assert page.status_code == 200
    assert _rows(page.text) == [
        ("Physics", "alice", "Error Log", 'Crash in "lockdown", <b>bold</b>'),
        ("Chemistry", "carol", "Error Log", "Missing Client Ping"),
        ("Physics", "bob", "Warn Log", "IP address changed"),
        ("Physics", "alice", "Info Log", "<battery> High at 87%"),
    ]
    assert "&lt;b&gt;bold&lt;/b&gt;" in page.text  # a client's text is never markup
    # 08:05 UTC is 09:05 in Zurich; UTC below it.
    assert "2026-11-22 09:05:00" in page.text and "2026-11-22 08:05:00 UTC" in page.text
    assert f'<option value="{logs.biology}"' not in page.text  # UZH's exam is no choice
    assert _rows((await client.get(f"/client-logs?from=&exam_id={logs.physics}&event_type=ERROR_LOG")).text) == [
        ("Physics", "alice", "Error Log", 'Crash in "lockdown", <b>bold</b>')]
    assert [row[3] for row in _rows((await client.get("/client-logs?from=&user_session=ALI&sort=server_time")).text)
            ] == ["<battery> High at 87%", 'Crash in "lockdown", <b>bold</b>']
    # From and to are typed in Zurich time: 09:03 to 09:04 there is 08:03 to 08:04:59 UTC.
    window = await client.get("/client-logs?from=2026-11-22T09:03&to=2026-11-22T09:04")
    assert [row[3] for row in _rows(window.text)] == ["Missing Client Ping", "IP address changed"]
    by_exam = _rows((await client.get("/client-logs?from=&sort=-exam")).text)
    assert [row[0] for row in by_exam] == ["Physics", "Physics", "Physics", "Chemistry"]
    assert _rows((await client.get(f"/client-logs?from=&exam_id={logs.biology}")).text) == []


async def test_supporters_see_the_exams_they_are_assigned_to(client: httpx.AsyncClient, logs: Logs) -> None:
    await sign_in(client, "sam")
    page = await client.get("/client-logs?from=")
    assert {row[0] for row in _rows(page.text)} == {"Physics"}
    assert "Delete Logs" not in page.text  # supporters read, never delete
    assert (await client.get("/client-logs/delete?from=")).status_code == 403
    assert (await client.get(f"/client-logs/{logs.ids['c1']}")).status_code == 404


async def test_the_list_opens_on_the_last_day(client: httpx.AsyncClient, services: Services, logs: Logs) -> None:
    connection = await add_connection(services, await _exam(services, logs.physics), "recent")
    now = now_ms()
    await add_events(services, connection, [Event("INFO_LOG", 0, "an hour ago", server_ms=now - 3600_000),
                                            Event("INFO_LOG", 0, "two days ago", server_ms=now - 2 * DAY_MS)])
    await sign_in(client, "erika")
    page = await client.get("/client-logs")
    assert [row[3] for row in _rows(page.text) if row[1] == "recent"] == ["an hour ago"]
    assert re.search(r'name="from" value="\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"', page.text)
    assert "from=20" in _link(page.text, "Export CSV")  # the download gets the same window
    cleared = await client.get("/client-logs?from=")
    assert [row[3] for row in _rows(cleared.text) if row[1] == "recent"] == ["an hour ago", "two days ago"]
    assert _link(cleared.text, "Export CSV").endswith("?from=")


async def test_details_dialog_and_page(client: httpx.AsyncClient, logs: Logs) -> None:
    await sign_in(client, "erika")
    page = await client.get("/client-logs?from=")
    assert f'data-dialog-url="/client-logs/{logs.ids["a1"]}"' in page.text and 'id="dialog-slot"' in page.text
    dialog = await client.get(f"/client-logs/{logs.ids['a1']}", headers={"HX-Request": "true"})
    assert dialog.status_code == 200
    assert "<dialog" in dialog.text and "data-modal" in dialog.text
    assert "<html" not in dialog.text
    for text in ("Physics", "alice", "&lt;battery&gt; High at 87%", "87", "10.1.2.3", "PC-7", "Windows 11",
                 "3.8.0 (x64)", "2026-11-22 09:01:00"):
        assert text in dialog.text, text
    full = await client.get(f"/client-logs/{logs.ids['a1']}")
    assert full.status_code == 200 and "<html" in full.text and "10.1.2.3" in full.text
    assert (await client.get(f"/client-logs/{logs.ids['d1']}")).status_code == 404  # UZH's


async def test_csv_download_of_the_filtered_events(client: httpx.AsyncClient, logs: Logs) -> None:
    await sign_in(client, "erika")
    page = await client.get(f"/client-logs?from=&exam_id={logs.physics}&sort=exam")
    link = _link(page.text, "Export CSV")
    assert link.startswith("/client-logs/export.csv?") and f"exam_id={logs.physics}" in link
    response = await client.get(link)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="seb-client-logs-\d{4}-\d{2}-\d{2}\.csv"',
                        response.headers["content-disposition"])
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert [(row[0], row[1], row[5], row[7]) for row in rows[1:]] == [
        ("INFO_LOG", "<battery> High at 87%", "alice", "Physics"),
        ("WARN_LOG", "IP address changed", "bob", "Physics"),
        ("ERROR_LOG", 'Crash in "lockdown", <b>bold</b>', "alice", "Physics"),
    ]
    zurich = await client.get("/client-logs/export.csv?from=2026-11-22T09:04&to=2026-11-22T09:05")
    assert [row[1] for row in csv.reader(io.StringIO(zurich.content.decode("utf-8-sig")))][1:] == [
        "Missing Client Ping", 'Crash in "lockdown", <b>bold</b>']  # exam by exam
    refused = await client.get("/client-logs/export.csv?from=soon")
    assert refused.status_code == 303
    assert "Not exported: From:" in (await client.get(refused.headers["location"])).text


async def test_delete_asks_with_the_count_then_deletes(client: httpx.AsyncClient, services: Services,
                                                       logs: Logs) -> None:
    await sign_in(client, "erika")
    page = await client.get("/client-logs?from=&event_type=ERROR_LOG")
    confirm = await client.get(_link(page.text, "Delete Logs"))
    assert confirm.status_code == 200
    assert "Delete <strong>2</strong> SEB client log events?" in confirm.text
    assert "Event Type: <strong>Error Log</strong>" in confirm.text
    assert 'name="event_type" value="ERROR_LOG"' in confirm.text

    refused = await client.post("/client-logs/delete", data={"event_type": "ERROR_LOG"},
                                headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403  # cross-origin
    deleted = await client.post("/client-logs/delete", data={"event_type": "ERROR_LOG", "from": ""})
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/client-logs?event_type=ERROR_LOG&from="
    after = await client.get(deleted.headers["location"])
    assert "Deleted 2 SEB client log events." in after.text
    assert _rows(after.text) == []
    assert [row[3] for row in _rows((await client.get("/client-logs?from=")).text)] == [
        "IP address changed", "<battery> High at 87%"]
    async with services.db.read() as session:
        entry = (await session.execute(select(ActivityLogEntry).where(ActivityLogEntry.activity == "DELETE"))
                 ).scalar_one()
    assert (entry.username, entry.entity_type, entry.entity_name) == ("erika", "CLIENT_EVENT",
                                                                      "2 SEB client log events")
    await sign_in(client, "ursula")
    assert [row[3] for row in _rows((await client.get("/client-logs?from=")).text)] == ["UZH error"]


async def test_deleting_everything_needs_a_confirmation(client: httpx.AsyncClient, logs: Logs) -> None:
    await sign_in(client, "erika")
    confirm = await client.get("/client-logs/delete?from=")
    assert "No filter is set" in confirm.text and 'name="all" value="true" required' in confirm.text
    assert "Delete <strong>4</strong>" in confirm.text
    unconfirmed = await client.post("/client-logs/delete", data={})
    assert unconfirmed.status_code == 422 and "Confirmation:" in unconfirmed.text
    confirmed = await client.post("/client-logs/delete", data={"all": "true"})
    assert confirmed.status_code == 303
    assert "Deleted 4 SEB client log events." in (await client.get(confirmed.headers["location"])).text
    nothing = await client.get("/client-logs/delete?from=")
    assert "nothing to delete" in nothing.text and "Log Event" not in nothing.text.split('class="actions"')[1]


@pytest.mark.parametrize(("query", "message"), [
    ("from=soon", "From: use a date"),
    ("from=2026-11-23&to=2026-11-22", "To: must not be before from"),
    ("event_type=LOUD_LOG", "Event Type: choose one of"),
    ("exam_id=physics", "Exam: must be a number"),
])
async def test_bad_filter_values_are_shown(client: httpx.AsyncClient, logs: Logs, query: str, message: str) -> None:
    await sign_in(client, "erika")
    page = await client.get(f"/client-logs?{query}")
    assert page.status_code == 422
    assert message in html.unescape(page.text)
    assert _rows(page.text) == []
    confirm = await client.get(f"/client-logs/delete?{query}")
    assert confirm.status_code == 422 and message in html.unescape(confirm.text)


async def _exam(services: Services, exam_id: int) -> Exam:
    async with services.db.read() as session:
        exam = await session.get(Exam, exam_id)
    assert exam is not None
    return exam
