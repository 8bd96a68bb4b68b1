"""Admin UI: the running exams, an exam's live heat map (filters, counts, order, marks, the event stream), the
instructions (quit, lock screen, cancel, confirm a notification), the search, the connection detail view and
who may see and do what (the privilege matrix of ``tests/monitoring_matrix.py`` over every monitoring screen,
the stream, the exports and the client logs). SEB clients connect through the Exam API like the Windows client."""

from __future__ import annotations

import asyncio
import json
import re
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from sebframe.core.accounts.passwords import hash_password
from sebframe.core.accounts.roles import Role
from sebframe.core.db.models import ClientConnection, ClientNotification, Exam, Indicator, Institution, UserAccount
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.web.views import monitoring as monitoring_views
from sebframe.web.views.monitoring_table import sse_event
from tests.conftest import PASSWORD, Factory, sign_in
from tests.exam_helpers import exam_services
from tests.monitoring_matrix import (
    LISTED,
    OK,
    WRITES,
    MonitoringWorld,
    Staff,
    add_staff,
    assert_body,
    cases,
    effect,
    monitoring_world,
)
from tests.seb_client import SebClient, SebWorld

pytestmark = pytest.mark.anyio


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with exam_services(settings) as services:  # with the indicator plugin: Ping and Errors columns
        yield services


@dataclass
class Monitor:
    services: Services
    client: httpx.AsyncClient
    world: SebWorld
    factory: Factory

    @property
    def url(self) -> str:
        return f"/monitoring/{self.world.exam_id}"

    async def seb(self, name: str, user: str | None = None, *, connect: bool = True) -> SebClient:
        seb = SebClient(self.client, self.world, name=name)
        if connect:
            await seb.connect(user)
        else:  # only the first handshake step: "Connecting"
            assert (await seb.fetch_token()).status_code == 200
            assert (await seb.create(exam_id=self.world.exam_id)).status_code == 200
        return seb

    async def connection_id(self, seb: SebClient) -> int:
        async with self.services.db.read() as session:
            return (await session.execute(select(ClientConnection.id).where(
                ClientConnection.connection_token == seb.connection_token))).scalar_one()

    async def missing(self, seb: SebClient) -> None:
        """The client's pings stopped long ago (as the supervision task would mark it)."""
        async with self.services.db.transaction() as session:
            await session.execute(update(ClientConnection)
                                  .where(ClientConnection.connection_token == seb.connection_token)
                                  .values(last_ping_ms=1, created_ms=1, missing_ping=True))
        self.services.sessions.runtime.connections[seb.connection_token or ""].last_ping_ms = 1

    async def page(self, query: str = "") -> str:
        response = await self.client.get(self.url + query)
        assert response.status_code == 200, response.text
        return response.text


@pytest.fixture
async def monitor(client: httpx.AsyncClient, services: Services, factory: Factory, seb_world: SebWorld) -> Monitor:
    async with services.db.transaction() as session:
        # the demo accounts get random passwords: give them the test password
        await session.execute(update(UserAccount).where(UserAccount.username.like("demo-%"))
                              .values(password_hash=hash_password(PASSWORD)))
        session.add(Indicator(exam_id=seb_world.exam_id, name="Errors", indicator_type="ERROR_COUNT", color="ffffff",
                              tags="", thresholds='[{"value": 1, "color": "ffc20e"}, {"value": 3, "color": "ed1c24"}]'))
    await services.sessions.runtime.refresh_running_exams()
    return Monitor(services, client, seb_world, factory)


def names(html: str) -> list[str]:
    """The first column of the heat map, top to bottom."""
    body = html.split('id="heatmap-rows"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<td class="name[^"]*"><a href="[^"]+">([^<]+)</a>', body)


def row_of(html: str, name: str) -> str:
    match = re.search(r'<tr data-key="\d+">(?:(?!</tr>).)*?>' + re.escape(name) + r"</a>.*?</tr>", html, re.S)
    assert match, f"no row for {name}"
    return match.group(0)


def switch(html: str, label: str) -> str:
    match = re.search(r'>((?:Show|Hide) ' + re.escape(label) + r' \(<span class="count">\d+</span>\))</a>', html)
    assert match, f"no switch {label}"
    return re.sub(r"<[^>]+>", "", match.group(1))


async def pending_instruction(seb: SebClient) -> dict[str, Any] | None:
    response = await seb.ping()
    return response.json() if response.status_code == 200 else None


# -- running exams and role rules ---------------------------------------------------------------------


async def test_running_exams_for_supporters_and_exam_admins(monitor: Monitor) -> None:
    client = monitor.client
    await sign_in(client, "demo-supporter")
    home = (await client.get("/")).text
    assert 'href="/monitoring"' in home and "Running Exams" in home
    listing = await client.get("/monitoring")
    assert listing.status_code == 200
    assert f'href="/monitoring/{monitor.world.exam_id}"' in listing.text
    assert "Demo" in listing.text
    filtered = await client.get("/monitoring", params={"name": "no such exam"})
    assert f'href="/monitoring/{monitor.world.exam_id}"' not in filtered.text
    assert (await client.get("/monitoring", params={"start_from": "soon"})).status_code == 422

    await client.post("/logout")
    await sign_in(client, "demo-exam-admin")
    assert f'href="/monitoring/{monitor.world.exam_id}"' in (await client.get("/monitoring")).text


async def test_unassigned_supporters_and_other_institutions_see_nothing(monitor: Monitor) -> None:
    async with monitor.services.db.read() as session:
        exam = await session.get(Exam, monitor.world.exam_id)
        assert exam is not None
        demo = await session.get(Institution, exam.institution_id)
    assert demo is not None
    await monitor.factory.user(demo, "unassigned", Role.EXAM_SUPPORTER)
    other = await monitor.factory.institution("Elsewhere")
    await monitor.factory.user(other, "stranger", Role.EXAM_ADMIN)
    alice = await monitor.seb("alice", "alice")
    connection = await monitor.connection_id(alice)
    for username in ("unassigned", "stranger"):
        await sign_in(monitor.client, username)
        listing = (await monitor.client.get("/monitoring")).text
        assert f'href="{monitor.url}"' not in listing
        for path in ("", "/stream", "/search", f"/connections/{connection}"):
            assert (await monitor.client.get(monitor.url + path)).status_code == 404, (username, path)
        refused = await monitor.client.post(monitor.url + "/quit-all", data={"next": monitor.url})
        assert refused.status_code == 404
        await monitor.client.post("/logout")
    assert await pending_instruction(alice) is None


async def test_institutional_admins_watch_but_do_not_supervise(monitor: Monitor) -> None:
    alice = await monitor.seb("alice", "alice")
    await alice.log({"type": "NOTIFICATION", "numericValue": 1, "text": "<raisehand> help", "timestamp": 1})
    await sign_in(monitor.client, "demo-institution-admin")
    html = await monitor.page()
    assert names(html) == ["alice"]
    assert "Quit Selected" not in html and "Quit All" not in html and "Mark as Canceled" not in html
    assert "/confirm" not in html
    assert "only its supporters and exam administrators send instructions" in html
    refused = await monitor.client.post(monitor.url + "/quit", data={"connection": "1", "next": monitor.url})
    assert refused.status_code == 403
    assert "but not supervise it" in refused.text
    detail = await monitor.client.get(f"{monitor.url}/connections/{await monitor.connection_id(alice)}")
    assert detail.status_code == 200 and "Quit SEB Client" not in detail.text
    assert await pending_instruction(alice) is None


# -- the heat map ------------------------------------------------------------------------------------


async def test_order_marks_and_cells(monitor: Monitor) -> None:
    zed = await monitor.seb("zed", "zed")
    await monitor.seb("amy", "amy")
    bob = await monitor.seb("bob", "bob")
    await monitor.seb("dave1", "dave")
    await monitor.seb("dave2", "dave")
    carl = await monitor.seb("carl", "carl")
    await carl.close()
    await monitor.seb("nobody")  # no user yet: READY, shown by its OS login
    for _ in range(3):
        await zed.log({"type": "ERROR_LOG", "timestamp": 1, "text": "crash"})
    await bob.log({"type": "NOTIFICATION", "numericValue": 1, "text": "<raisehand> I need help", "timestamp": 2})
    await sign_in(monitor.client, "demo-supporter")
    html = await monitor.page()
    # notification and duplicates first, then by state (ready, active, closed), worst indicators first, name
    assert names(html) == ["bob", "dave", "dave", "nobody", "zed", "amy", "carl"]
    bob_row = row_of(html, "bob")
    assert 'class="name notification"' in bob_row and "Raise hand: I need help" in bob_row and "Confirm" in bob_row
    assert 'class="name duplicate"' in row_of(html, "dave")
    zed_row = row_of(html, "zed")
    assert '<td class="cell dark" data-bg="ed1c24">3</td>' in zed_row  # Errors at its incident colour
    assert "SEB:3.8.0 (x64), OS:Windows 10, IP:127.0.0.1" in zed_row
    assert '<td class="status ok">Active</td>' in zed_row
    assert '<td class="status off">Closed</td>' in row_of(html, "carl")
    assert '<td class="status ok">Ready</td>' in row_of(html, "nobody")
    assert "<th scope=\"col\" title=\"Indicator (ERROR_COUNT)" in html and ">Ping</th>" in html
    await monitor.missing(zed)
    assert '<td class="status warn">Missing</td>' in row_of(await monitor.page(), "zed")


async def test_state_filters_counts_and_incidents(monitor: Monitor) -> None:
    alice = await monitor.seb("alice", "alice")
    amy = await monitor.seb("amy", "amy")
    closed = await monitor.seb("carl", "carl")
    await closed.close()
    canceled = await monitor.seb("dora", "dora")
    await canceled.close()
    connecting = await monitor.seb("early", connect=False)
    await sign_in(monitor.client, "demo-supporter")
    result = await monitor.client.post(monitor.url + "/cancel", data={
        "connection": str(await monitor.connection_id(canceled)), "next": monitor.url}, follow_redirects=True)
    assert "1 canceled, 0 skipped" in result.text

    html = await monitor.page()
    assert sorted(names(html)) == ["alice", "amy", "carl", "dora", "early"]
    assert switch(html, "Connecting") == "Hide Connecting (1)"
    assert switch(html, "Active without incident") == "Hide Active without incident (2)"
    assert switch(html, "Closed") == "Hide Closed (1)"
    assert switch(html, "Canceled") == "Hide Canceled (1)"
    assert "5 connections: 2 active, 0 ready" in html

    hidden = await monitor.page("?hide=requested,active,closed,canceled")
    assert names(hidden) == []
    assert "All connections are hidden by the state filters." in hidden
    assert switch(hidden, "Closed") == "Show Closed (1)"
    assert f'href="{monitor.url}?hide=requested,active,canceled"' in hidden  # shows closed ones again
    assert f'sse-connect="{monitor.url}/stream?hide=requested,active,closed,canceled"' in hidden
    assert names(await monitor.page("?hide=closed&hide=canceled")) == ["early", "alice", "amy"]

    # an active connection with an incident shows even while "active without incident" is hidden
    await alice.log({"type": "NOTIFICATION", "numericValue": 1, "text": "<raisehand> ", "timestamp": 1})
    html = await monitor.page("?hide=active")
    assert names(html) == ["alice", "early", "carl", "dora"]
    assert switch(html, "Active without incident") == "Show Active without incident (1)"
    await monitor.missing(amy)  # so does a missing one, and one with an indicator at its incident threshold
    assert names(await monitor.page("?hide=active,requested,closed,canceled")) == ["alice", "amy"]
    eve = await monitor.seb("eve", "eve")
    for _ in range(3):
        await eve.log({"type": "ERROR_LOG", "timestamp": 1, "text": "crash"})
    assert "eve" in names(await monitor.page("?hide=active"))
    assert connecting.connection_token


# -- instructions ------------------------------------------------------------------------------------


async def test_quit_lock_and_quit_all_reach_the_clients(monitor: Monitor) -> None:
    alice, bob, carl = (await monitor.seb("alice", "alice"), await monitor.seb("bob", "bob"),
                        await monitor.seb("carl", "carl"))
    await carl.close()
    await sign_in(monitor.client, "demo-supporter")
    html = await monitor.page()
    assert "Quit Selected" in html and "Lock Screen…" in html and "Quit All" in html
    ids = {seb.name: str(await monitor.connection_id(seb)) for seb in (alice, bob, carl)}
    forged = await monitor.client.post(monitor.url + "/quit-all", data={"next": monitor.url},
                                       headers={"Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403  # another site's form riding on the session cookie
    assert await pending_instruction(alice) is None

    locked = await monitor.client.post(monitor.url + "/lock", data={
        "connection": ids["alice"], "message": "Please wait for the supervisor", "next": monitor.url + "?hide=closed"})
    assert locked.status_code == 303 and locked.headers["location"] == monitor.url + "?hide=closed"
    assert await pending_instruction(alice) == {"instruction": "SEB_FORCE_LOCK_SCREEN",
                                                "attributes": {"message": "Please wait for the supervisor"}}
    assert await pending_instruction(bob) is None
    assert "Lock screen sent to 1 SEB connection." in (await monitor.client.get(monitor.url)).text

    quit_ = await monitor.client.post(monitor.url + "/quit", data={
        "connection": [ids["bob"], ids["carl"], "999999"], "next": monitor.url}, follow_redirects=True)
    assert "Quit sent to 1 SEB connection, 2 skipped (not connected: closed or canceled)." in quit_.text
    assert await pending_instruction(bob) == {"instruction": "SEB_QUIT", "attributes": {}}
    assert await pending_instruction(alice) is None

    nothing = await monitor.client.post(monitor.url + "/quit", data={"next": monitor.url}, follow_redirects=True)
    assert "Select at least one SEB connection first." in nothing.text

    everyone = await monitor.client.post(monitor.url + "/quit-all", data={"next": "https://evil.example/"})
    assert everyone.headers["location"] == monitor.url  # never back to another site
    for seb in (alice, bob):
        assert await pending_instruction(seb) == {"instruction": "SEB_QUIT", "attributes": {}}


async def test_mark_as_canceled_only_closed_or_missing(monitor: Monitor) -> None:
    alice, bob, carl = (await monitor.seb("alice", "alice"), await monitor.seb("bob", "bob"),
                        await monitor.seb("carl", "carl"))
    await carl.close()
    await monitor.missing(bob)
    await sign_in(monitor.client, "demo-supporter")
    ids = [str(await monitor.connection_id(seb)) for seb in (alice, bob, carl)]
    result = await monitor.client.post(monitor.url + "/cancel", data={"connection": ids, "next": monitor.url},
                                       follow_redirects=True)
    assert ("2 canceled, 1 skipped (only closed connections and connections with a missing ping are canceled)."
            in result.text)
    html = result.text
    assert '<td class="status off">Canceled</td>' in row_of(html, "carl")
    assert '<td class="status ok">Active</td>' in row_of(html, "alice")
    assert await pending_instruction(bob) == {"instruction": "SEB_QUIT"}  # canceled but still pinging


async def test_confirm_a_raised_hand(monitor: Monitor) -> None:
    alice = await monitor.seb("alice", "alice")
    await alice.log({"type": "NOTIFICATION", "numericValue": 4, "text": "<raisehand> question 3", "timestamp": 1})
    await sign_in(monitor.client, "demo-supporter")
    html = await monitor.page()
    match = re.search(r'action="(/monitoring/\d+/notifications/(\d+)/confirm)"', html)
    assert match
    confirmed = await monitor.client.post(match.group(1), data={"next": monitor.url}, follow_redirects=True)
    assert "Notification confirmed" in confirmed.text
    assert "/confirm" not in confirmed.text.split('id="heatmap-rows"', 1)[1]
    assert await pending_instruction(alice) == {"instruction": "NOTIFICATION_CONFIRM",
                                                "attributes": {"type": "raisehand", "id": "4"}}
    again = await monitor.client.post(match.group(1), data={"next": monitor.url}, follow_redirects=True)
    assert "The notification was confirmed already." in again.text
    async with monitor.services.db.read() as session:
        assert (await session.get(ClientNotification, int(match.group(2)))).confirmed_ms is not None  # type: ignore[union-attr]


# -- search and detail view --------------------------------------------------------------------------


async def test_search_popup(monitor: Monitor) -> None:
    await monitor.seb("alice", "alice")
    await monitor.seb("albert", "albert")
    bob = await monitor.seb("bob", "bob")
    await bob.close()
    await sign_in(monitor.client, "demo-supporter")
    hx = {"HX-Request": "true"}
    found = await monitor.client.get(monitor.url + "/search", params={"name": "al"}, headers=hx)
    assert found.status_code == 200 and "<html" not in found.text
    assert re.findall(r'<a href="[^"]+/connections/\d+">(\w+)</a>', found.text) == ["albert", "alice"]
    closed = await monitor.client.get(monitor.url + "/search", params={"status": "CLOSED"}, headers=hx)
    assert re.findall(r'<a href="[^"]+/connections/\d+">(\w+)</a>', closed.text) == ["bob"]
    backwards = await monitor.client.get(monitor.url + "/search", params={"sort": "-name", "os": "windows"},
                                         headers=hx)
    assert re.findall(r'<a href="[^"]+/connections/\d+">(\w+)</a>', backwards.text) == ["bob", "alice", "albert"]
    page = await monitor.client.get(monitor.url + "/search", params={"address": "10.0."})
    assert "<html" in page.text and "No connection matches." in page.text


async def test_connection_detail_view(monitor: Monitor) -> None:
    alice = await monitor.seb("alice", "alice")
    for number in range(1, 56):
        await alice.log({"type": "INFO_LOG", "timestamp": 1_700_000_000_000 + number, "numericValue": number / 2,
                         "text": f"event {number}"})
    await alice.log({"type": "NOTIFICATION", "numericValue": 2, "text": "<lockscreen> locked", "timestamp": 1})
    await sign_in(monitor.client, "demo-supporter")
    url = f"{monitor.url}/connections/{await monitor.connection_id(alice)}"
    detail = await monitor.client.get(url)
    assert detail.status_code == 200
    html = detail.text
    token = alice.connection_token or ""
    assert token not in html and f"<code>{token[:8]}…</code>" in html
    for text in ("PC-alice", "3.8.0 (x64)", "127.0.0.1", "SEB:3.8.0 (x64), OS:Windows 10, IP:127.0.0.1",
                 "Lock screen: locked", "Quit SEB Client", "Lock Screen…"):
        assert text in html, text
    events = re.findall(r"<td>INFO_LOG</td><td class=\"subject\">event (\d+)</td><td>([^<]*)</td>", html)
    assert events[:2] == [("55", "27.5"), ("54", "27")]  # newest first, whole values without a point
    assert len(events) == 50
    assert "2023-11-14 22:13:20 UTC" in html  # the client's time, UTC below the user's zone
    second = re.findall(r"event (\d+)</td>", (await monitor.client.get(url + "?page=2")).text)
    assert second == ["5", "4", "3", "2", "1"]
    assert ">Mark as Canceled</button>" not in html  # active and pinging: not cancelable
    assert (await monitor.client.get(f"{monitor.url}/connections/999999")).status_code == 404

    quit_ = await monitor.client.post(monitor.url + "/quit", data={
        "connection": str(await monitor.connection_id(alice)), "next": url}, follow_redirects=True)
    assert str(quit_.url).endswith(url)
    assert await pending_instruction(alice) == {"instruction": "SEB_QUIT", "attributes": {}}


# -- the live stream ---------------------------------------------------------------------------------


async def first_stream_bytes(app: Any, path: str, cookies: httpx.Cookies, *, wanted: bytes, spec: str = "2.3",
                             gzip: bool = False, timeout: float = 5.0) -> tuple[int, bytes]:
    """Drive the app's stream like a browser: read until ``wanted`` arrived, then go away. httpx's ASGI
    transport would wait for the (endless) body; this also checks that the stream ends on the disconnect
    (servers on ASGI spec 2.4 leave noticing it to the application)."""
    received: list[dict[str, Any]] = []
    inflate = zlib.decompressobj(31) if gzip else None
    got = asyncio.Event()
    gone = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not received:
            received.append({"type": "http.request", "body": b"", "more_body": False})
            return received[-1]
        await gone.wait()
        return {"type": "http.disconnect"}

    status = 0
    body = b""

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            body += inflate.decompress(chunk) if inflate is not None else chunk
            if wanted in body or not message.get("more_body"):
                got.set()

    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": spec}, "http_version": "1.1",
             "method": "GET", "scheme": "http",
             "path": path.split("?")[0], "raw_path": path.split("?")[0].encode(),
             "query_string": path.split("?", 1)[1].encode() if "?" in path else b"", "root_path": "",
             "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode()), (b"accept", b"text/event-stream"),
                         (b"accept-encoding", b"gzip, deflate" if gzip else b"identity")],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    task = asyncio.create_task(app(scope, receive, send))
    await asyncio.wait_for(got.wait(), timeout)
    gone.set()
    await asyncio.wait_for(task, timeout)  # the stream stops once the client is gone
    return status, body


@pytest.mark.parametrize(("spec", "gzip"), [("2.3", False), ("2.4", True)])
async def test_stream_sends_rows_and_counts(monitor: Monitor, app: Any, spec: str, gzip: bool) -> None:
    await monitor.seb("alice", "alice")
    closed = await monitor.seb("carl", "carl")
    await closed.close()
    await sign_in(monitor.client, "demo-supporter")
    status, body = await first_stream_bytes(app, monitor.url + "/stream?hide=closed", monitor.client.cookies,
                                            wanted=b"event: filters", spec=spec, gzip=gzip)
    assert status == 200
    text = body.decode()
    assert text.startswith("retry: 2000\n\nevent: rows\ndata: ")
    rows = text.split("event: rows\n", 1)[1].split("\n\n", 1)[0]
    html = "\n".join(line.removeprefix("data: ") for line in rows.splitlines())
    assert re.findall(r'<a href="[^"]+">(\w+)</a>', html) == ["alice"]  # closed ones hidden
    assert "Show Closed (<span class=\"count\">1</span>)" in text
    anonymous = httpx.Cookies()
    status, _ = await first_stream_bytes(app, monitor.url + "/stream", anonymous, wanted=b"")
    assert status == 303  # signed out: to the sign-in page


async def test_stream_then_sends_only_the_cells_that_changed(monitor: Monitor, app: Any) -> None:
    alice = await monitor.seb("alice", "alice")
    await monitor.seb("bob", "bob")
    await sign_in(monitor.client, "demo-supporter")
    reading = asyncio.create_task(first_stream_bytes(app, monitor.url + "/stream", monitor.client.cookies,
                                                     wanted=b'"3","ed1c24",1]', timeout=10))
    await asyncio.sleep(0.2)  # the first tick: the whole body
    for _ in range(3):
        await alice.log({"type": "ERROR_LOG", "timestamp": 1, "text": "crash"})
    status, body = await reading
    assert status == 200
    text = body.decode()
    assert text.count("event: rows\n") == 1 and text.index("event: rows") < text.index("event: patch")
    patch = json.loads(text.rsplit("event: patch\ndata: ", 1)[1].split("\n", 1)[0])
    key = await monitor.connection_id(alice)
    assert [cell[2:] for cell in patch["cells"] if cell[0] == key][-1] == ["3", "ed1c24", 1]  # Errors: red
    assert "rows" not in patch and "order" not in patch  # alice's other cells and the order did not change


async def test_stream_ends_when_the_session_ends(monitor: Monitor, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    await monitor.seb("alice", "alice")
    await sign_in(monitor.client, "demo-supporter")
    monkeypatch.setattr(monitoring_views, "RECHECK_TICKS", 1)
    streaming = asyncio.create_task(first_stream_bytes(app, monitor.url + "/stream", httpx.Cookies(
        monitor.client.cookies), wanted=b"never sent"))  # returns when the stream ends by itself
    await asyncio.sleep(0.3)
    assert not streaming.done()
    await monitor.client.post("/logout")  # in another tab of the same browser
    status, body = await asyncio.wait_for(streaming, 5)
    assert status == 200 and b"event: rows" in body


def test_sse_events_keep_client_text_inside_data_fields() -> None:
    event = sse_event("rows", "<td>evil\revent: filters\ndata: x</td>\r\n<td>ok</td>")
    assert event == ("event: rows\ndata: <td>evil\ndata: event: filters\ndata: data: x</td>\ndata: <td>ok</td>\n\n")


# -- the privilege matrix ------------------------------------------------------------------------------------


@pytest.fixture
async def watched(factory: Factory) -> MonitoringWorld:
    a = await factory.institution("ETH Zurich")
    b = await factory.institution("University of Zurich")
    staff = await add_staff(factory, a)
    return await monitoring_world(factory, a, b, staff[Staff.ES])


def _screen_requests(world: MonitoringWorld, scope: str
                     ) -> dict[str, tuple[str, str, dict[str, str], int, str | None, tuple[str, ...]]]:
    """action -> (method, path, form, success status, the marker shown, log texts shown); as the admin API's."""
    side = world.side(scope)
    base = f"/monitoring/{side.exam_id}"
    back = {"next": base}
    return {
        "running": ("GET", "/monitoring", {}, 200, f'href="{base}"', ()),
        "connections": ("GET", base, {}, 200, side.user, (side.hand_text,)),
        "stream": ("GET", base + "/stream", {}, 200, side.user, (side.hand_text,)),
        "search": ("GET", base + "/search", {}, 200, side.user, (side.hand_text,)),
        "detail": ("GET", f"{base}/connections/{side.connection_id}", {}, 200, side.user,
                   (side.log_text, side.hand_text)),
        "participation": ("GET", f"/exams/{side.exam_id}/participation", {}, 200, side.user, ()),
        "participation_csv": ("GET", f"/exams/{side.exam_id}/participation.csv", {}, 200, side.user, ()),
        "lane": ("GET", base + "/location", {}, 200, side.user, ()),
        "placements": ("GET", f"{base}/location?code={side.approval_code}", {}, 200, side.user, ()),
        "overrides": ("GET", base + "/location", {}, 200, side.override_address, ()),
        "quit": ("POST", base + "/quit", {"connection": str(side.connection_id), **back}, 303, None, ()),
        "lock": ("POST", base + "/lock", {"connection": str(side.connection_id), "message": "Please wait", **back},
                 303, None, ()),
        "quit_all": ("POST", base + "/quit-all", back, 303, None, ()),
        "cancel": ("POST", base + "/cancel", {"connection": str(side.closed_id), **back}, 303, None, ()),
        "confirm": ("POST", f"{base}/notifications/{side.notification_id}/confirm", back, 303, None, ()),
        "allow": ("POST", base + "/location/allow", {"connection_id": str(side.connection_id), "scope": "CONNECTION",
                                                     "reason": "seat 12, checked", "expires_at": "", **back},
                  303, None, ()),
        "logs": ("GET", "/client-logs", {}, 200, side.log_text, ()),
        "log": ("GET", f"/client-logs/{side.event_id}", {}, 200, side.log_text, ()),
        "logs_csv": ("GET", "/client-logs/export.csv", {}, 200, side.log_text, ()),
        "delete_logs": ("POST", "/client-logs/delete", {"exam_id": str(side.exam_id)}, 303, None, ()),
    }


SCREEN_ACTIONS = frozenset({"running", "connections", "stream", "search", "detail", "participation",
                            "participation_csv", "lane", "placements", "overrides", "quit", "lock", "quit_all",
                            "cancel", "confirm", "allow", "logs", "log", "logs_csv", "delete_logs"})


@pytest.mark.parametrize(("staff", "action", "scope", "expected"), cases(SCREEN_ACTIONS))
async def test_monitoring_privileges(client: httpx.AsyncClient, app: Any, services: Services,
                                     watched: MonitoringWorld, staff: Staff, action: str, scope: str,
                                     expected: Any) -> None:
    method, path, form, success, wanted, texts = _screen_requests(watched, scope)[action]
    await sign_in(client, staff.value)
    if action == "stream":  # endless when allowed: read the first rows, then go away
        status, raw = await first_stream_bytes(app, path, client.cookies, wanted=b"event: filters")
        body = raw.decode()
    else:
        response = await client.request(method, path, data=form or None)
        status, body = response.status_code, response.text
    shown = expected in (OK, LISTED)
    assert status == (success if isinstance(expected, str) else expected), (staff, action, scope, body[:300])
    assert_body(body, staff, action, scope, watched, shown=shown, wanted=wanted, texts=texts)
    assert await effect(services, watched.side(scope), action) == (shown and action in WRITES), (staff, action)
