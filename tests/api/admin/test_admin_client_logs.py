"""Admin API: SEB client logs listed, filtered, counted, exported as CSV and deleted, each institution its own."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import pytest

from sebframe.core.accounts.roles import Role
from tests.api.admin.helpers import World, error_of
from tests.client_log_helpers import Event, add_connection, add_events, add_exam

pytestmark = pytest.mark.anyio


@dataclass
class Logs:
    physics: int
    chemistry: int
    biology: int  # institution B's exam
    ids: dict[str, int]


@pytest.fixture
async def logs(api_world: World) -> Logs:
    services = api_world.factory.services
    await api_world.user(api_world.b, "b-examadmin", Role.EXAM_ADMIN)
    physics = await add_exam(services, api_world.a.id, "Physics", supporter_ids=[api_world.users["a-supporter"].id])
    chemistry = await add_exam(services, api_world.a.id, "Chemistry")
    biology = await add_exam(services, api_world.b.id, "Biology")
    ids: dict[str, int] = {}
    for exam, user, events in (
        (physics, "alice", {"a1": Event("INFO_LOG", 1, "<wlan> eduroam: Connected, 70%", 70),
                            "a2": Event("ERROR_LOG", 5, "Browser crashed")}),
        (physics, "bob", {"b1": Event("WARN_LOG", 3, "IP address changed")}),
        (chemistry, "carol", {"c1": Event("ERROR_LOG", 4, "Missing Client Ping")}),
        (biology, "dave", {"d1": Event("ERROR_LOG", 2, "B's error")}),
    ):
        connection = await add_connection(services, exam, user)
        ids.update(zip(events, await add_events(services, connection, list(events.values())), strict=True))
    return Logs(physics.id, chemistry.id, biology.id, ids)


def _texts(body: dict[str, object]) -> list[str]:
    return [item["text"] for item in body["items"]]  # type: ignore[index, union-attr]


async def test_list_filters_sorts_and_pages(api_world: World, logs: Logs) -> None:
    api = api_world.api("a-examadmin")
    body = await api.ok("GET", "/client-logs")
    assert (body["total"], body["page"], body["pages"]) == (4, 1, 1)
    assert _texts(body) == ["Browser crashed", "Missing Client Ping", "IP address changed",
                            "<wlan> eduroam: Connected, 70%"]
    first = body["items"][0]
    assert {key: first[key] for key in ("exam_name", "user_session_id", "event_type", "server_time",
                                        "numeric_value")} == {
        "exam_name": "Physics", "user_session_id": "alice", "event_type": "ERROR_LOG",
        "server_time": "2026-11-22T08:05:00Z", "numeric_value": None}
    assert "connection_token" not in first
    assert _texts(await api.ok("GET", f"/client-logs?exam_id={logs.physics}&event_type=ERROR_LOG")) == [
        "Browser crashed"]
    assert _texts(await api.ok("GET", "/client-logs?user_session=ALI&text=connected")) == [
        "<wlan> eduroam: Connected, 70%"]
    window = await api.ok("GET", "/client-logs", params={"from": "2026-11-22T09:03:00+01:00",
                                                         "to": "2026-11-22T08:04:00"})
    assert _texts(window) == ["Missing Client Ping", "IP address changed"]
    by_exam = await api.ok("GET", "/client-logs?sort=exam&size=2&page=2")
    assert (by_exam["total"], by_exam["pages"], _texts(by_exam)) == (4, 2, ["IP address changed",
                                                                           "<wlan> eduroam: Connected, 70%"])
    assert _texts(await api.ok("GET", f"/client-logs?exam_id={logs.biology}")) == []


@pytest.mark.parametrize(("query", "field"), [
    ("event_type=LOUD_LOG", "event_type"),
    ("from=yesterday", "from"),
    ("from=2026-11-23&to=2026-11-22", "to"),
    ("exam_id=physics", "exam_id"),
    ("sort=text", "sort"),
    ("size=0", "page"),
    ("exam=3", "exam"),  # a typo must not list everything
])
async def test_bad_parameters_are_422_with_the_field(api_world: World, logs: Logs, query: str, field: str) -> None:
    api = api_world.api("a-examadmin")
    body = error_of(await api.get(f"/client-logs?{query}"), 422)
    assert field in body["field_errors"], body
    if field not in ("sort", "page"):
        for path in ("/client-logs/count", "/client-logs/export.csv"):
            assert field in error_of(await api.get(f"{path}?{query}"), 422)["field_errors"]
        assert field in error_of(await api.delete(f"/client-logs?{query}"), 422)["field_errors"]


async def test_institutions_and_supporters_see_only_their_exams(api_world: World, logs: Logs) -> None:
    other = api_world.api("b-examadmin")
    assert _texts(await other.ok("GET", "/client-logs")) == ["B's error"]
    error_of(await other.get(f"/client-logs/{logs.ids['a1']}"), 404)
    assert (await other.ok("GET", f"/client-logs/count?exam_id={logs.physics}")) == {"count": 0}
    assert (await other.ok("DELETE", f"/client-logs?exam_id={logs.physics}")) == {"deleted": 0}
    supporter = api_world.api("a-supporter")
    assert _texts(await supporter.ok("GET", "/client-logs")) == ["Browser crashed", "IP address changed",
                                                                 "<wlan> eduroam: Connected, 70%"]
    error_of(await supporter.get(f"/client-logs/{logs.ids['c1']}"), 404)
    # Institutional and SEB Server administrators hold no client event grant (as on SEB Server).
    for username in ("a-admin", "root"):
        error_of(await api_world.api(username).get("/client-logs"), 403)
        error_of(await api_world.api(username).get("/client-logs/export.csv"), 403)


async def test_details_with_the_connection(api_world: World, logs: Logs) -> None:
    body = await api_world.api("a-supporter").ok("GET", f"/client-logs/{logs.ids['a1']}")
    assert (body["text"], body["numeric_value"], body["client_time"], body["client_time_ms"]) == (
        "<wlan> eduroam: Connected, 70%", 70, "2026-11-22T08:00:59Z", 1_795_334_459_000)
    assert body["connection"] == {"status": "ACTIVE", "client_address": "10.0.0.7", "seb_machine_name": "PC-7",
                                  "seb_os_name": "Windows 11", "seb_version": "3.8.0 (x64)",
                                  "seb_client_user_id": "student"}
    assert "token" not in str(body)
    error_of(await api_world.api("a-examadmin").get("/client-logs/99999"), 404)


async def test_csv_export_is_streamed_as_an_attachment(api_world: World, logs: Logs) -> None:
    response = await api_world.api("a-examadmin").get(f"/client-logs/export.csv?exam_id={logs.physics}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="seb-client-logs-\d{4}-\d{2}-\d{2}\.csv"',
                        response.headers["content-disposition"])
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert rows[0][:5] == ["Event Type", "Message", "Value", "Client Time (UTC)", "Server Time (UTC)"]
    assert [row[:3] + row[5:] for row in rows[1:]] == [  # oldest first
        ["INFO_LOG", "<wlan> eduroam: Connected, 70%", "70", "alice", "10.0.0.7", "Physics"],
        ["WARN_LOG", "IP address changed", "", "bob", "10.0.0.7", "Physics"],
        ["ERROR_LOG", "Browser crashed", "", "alice", "10.0.0.7", "Physics"],
    ]
    everything = await api_world.api("a-examadmin").get("/client-logs/export.csv")
    exams = [row[7] for row in csv.reader(io.StringIO(everything.content.decode("utf-8-sig")))][1:]
    assert exams == ["Chemistry", "Physics", "Physics", "Physics"]  # exam by exam


async def test_count_then_delete(api_world: World, logs: Logs) -> None:
    api = api_world.api("a-examadmin")
    assert await api.ok("GET", "/client-logs/count?event_type=ERROR_LOG") == {"count": 2}
    error_of(await api_world.api("a-supporter").delete("/client-logs?event_type=ERROR_LOG"), 403)
    nothing = error_of(await api.delete("/client-logs"), 422)
    assert "all" in nothing["field_errors"]
    assert "all" in error_of(await api.delete("/client-logs?all=perhaps"), 422)["field_errors"]
    assert await api.ok("DELETE", "/client-logs?event_type=ERROR_LOG") == {"deleted": 2}
    assert _texts(await api.ok("GET", "/client-logs")) == ["IP address changed", "<wlan> eduroam: Connected, 70%"]
    assert _texts(await api_world.api("b-examadmin").ok("GET", "/client-logs")) == ["B's error"]
    log = await api_world.api("a-admin").ok("GET", "/activity-log?entity_type=CLIENT_EVENT&activity=DELETE")
    assert [(entry["username"], entry["entity_name"], entry["message"]) for entry in log["items"]] == [
        ("a-examadmin", "2 SEB client log events", "event_type=ERROR_LOG")]
    assert await api.ok("DELETE", "/client-logs?all=true") == {"deleted": 2}
    assert await api.ok("GET", "/client-logs/count") == {"count": 0}
