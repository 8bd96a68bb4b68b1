"""Browser story: SEB clients connect to a live server, the exam monitoring page shows them live (no reload),
keeps ticked rows across updates, and a supporter locks one client's screen, confirms another's raised hand
and quits all; the clients receive each instruction on their pings."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Awaitable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import sebframe_indicators.plugin
from sqlalchemy import update

from sebframe.app import create_app
from sebframe.core.accounts.passwords import hash_password
from sebframe.core.db.models import Indicator, UserAccount
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.testing import registry_with
from tests.conftest import empty_tables
from tests.e2e.conftest import LiveServer, serving
from tests.e2e.test_browser_accounts import sign_in
from tests.seb_client import SebClient, SebWorld, build_seb_world

pytestmark = pytest.mark.browser

PASSWORD = "monitoring-password-1"
T = TypeVar("T")


class ClientLoop:
    """SEB clients run on their own event loop in a thread (Playwright's sync API owns the test's thread)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, work: Awaitable[T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@dataclass
class PingingClient:
    """A connected SEB client that pings every half second and keeps every instruction it receives."""

    seb: SebClient
    instructions: list[dict[str, Any]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            response = await self.seb.ping()
            if response.status_code == 200:
                self.instructions.append(response.json())
            await asyncio.sleep(0.5)


class Students:
    def __init__(self, loop: ClientLoop, url: str, world: SebWorld) -> None:
        self.loop = loop
        self.world = world
        self.http = loop.run(self._client(url))
        self.clients: dict[str, PingingClient] = {}

    @staticmethod
    async def _client(url: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=url, timeout=10)

    def connect(self, name: str) -> None:
        async def start() -> PingingClient:
            seb = SebClient(self.http, self.world, name=name)
            await seb.connect(user=name)
            client = PingingClient(seb)
            client.task = asyncio.get_running_loop().create_task(client.run())
            return client

        self.clients[name] = self.loop.run(start())

    def raise_hand(self, name: str, text: str) -> None:
        seb = self.clients[name].seb
        response = self.loop.run(seb.log({"type": "NOTIFICATION", "numericValue": 1, "text": f"<raisehand> {text}",
                                          "timestamp": int(time.time() * 1000)}))
        assert response.status_code == 204

    def log_errors(self, name: str, count: int) -> None:
        seb = self.clients[name].seb
        for number in range(count):
            response = self.loop.run(seb.log({"type": "ERROR_LOG", "text": f"error {number}",
                                              "timestamp": int(time.time() * 1000)}))
            assert response.status_code == 204

    def close_connection(self, name: str) -> None:
        async def close() -> None:
            client = self.clients[name]
            if client.task is not None:
                client.task.cancel()
            await client.seb.close()

        self.loop.run(close())

    def wait_for(self, name: str, instruction: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for received in list(self.clients[name].instructions):
                if received["instruction"] == instruction:
                    return received
            time.sleep(0.1)
        raise AssertionError(f"{name} got no {instruction}, only {self.clients[name].instructions}")

    def close(self) -> None:
        async def stop() -> None:
            for client in self.clients.values():
                if client.task is not None:
                    client.task.cancel()
            await self.http.aclose()

        self.loop.run(stop())


def _registry():  # type: ignore[no-untyped-def]
    return registry_with(sebframe_indicators.plugin)  # the Ping column


async def _seed(settings: Settings, data_dir: Path) -> SebWorld:
    services = Services.create(settings, _registry())
    try:
        world = await build_seb_world(services, data_dir)
        async with services.db.transaction() as session:
            await session.execute(update(UserAccount).where(UserAccount.username == "demo-supporter")
                                  .values(password_hash=hash_password(PASSWORD), timezone="Europe/Zurich"))
            session.add(Indicator(exam_id=world.exam_id, name="Errors", indicator_type="ERROR_COUNT",
                                  color="ffffff", tags="",
                                  thresholds='[{"value": 1, "color": "ffc20e"}, {"value": 3, "color": "ed1c24"}]'))
        return world
    finally:
        await services.close()


@pytest.fixture
def monitoring_server(database_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, SebWorld]]:
    settings = Settings(database_url=database_url, data_dir=tmp_path / "data", secret_key="browser-monitoring-key",
                        load_entrypoint_plugins=False)
    asyncio.run(empty_tables(database_url))
    world = asyncio.run(_seed(settings, tmp_path / "seb"))
    try:
        with serving(create_app(services=Services.create(settings, _registry()))) as url:
            yield LiveServer(url, settings), world
    finally:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, empty_tables(database_url)).result()


@pytest.fixture
def students(monitoring_server: tuple[LiveServer, SebWorld]) -> Iterator[Students]:
    server, world = monitoring_server
    loop = ClientLoop()
    group = Students(loop, server.url, world)
    try:
        yield group
    finally:
        group.close()
        loop.stop()


def _row(page, name: str):  # type: ignore[no-untyped-def]
    return page.locator("#heatmap-rows tr", has=page.locator(f"td.name a:text-is('{name}')"))


def test_supporter_watches_live_and_instructs_clients(monitoring_server, students: Students,  # type: ignore[no-untyped-def]
                                                      browser_page) -> None:
    from playwright.sync_api import expect

    server, world = monitoring_server
    page = browser_page
    students.connect("alice")
    students.connect("bob")

    sign_in(page, server.url, "demo-supporter", PASSWORD)
    page.click("nav.menu >> text=Running Exams")
    page.click(f"a[href='/monitoring/{world.exam_id}'] >> nth=0")
    page.wait_for_selector("#heatmap-rows td.name a:text-is('alice')")
    assert _row(page, "bob").count() == 1
    page.wait_for_selector("#live-status:has-text('Live ·')")  # the stream delivers
    page.evaluate("window.sameDocument = true")

    # a new client shows up without a reload, within about two seconds
    students.connect("carol")
    started = time.monotonic()
    page.wait_for_selector("#heatmap-rows td.name a:text-is('carol')", timeout=4000)
    assert time.monotonic() - started < 3.5
    assert page.evaluate("window.sameDocument") is True
    assert "Active without incident (<span class=\"count\">3</span>)" in page.inner_html("#state-filters")

    # a ticked row stays ticked while the table updates
    _row(page, "alice").locator("input[name=connection]").check()
    page.wait_for_selector("#selection-count:has-text('1 selected')")
    first = page.inner_text("#live-status")
    page.wait_for_function("text => document.getElementById('live-status').textContent !== text", arg=first)
    second = page.inner_text("#live-status")
    page.wait_for_function("text => document.getElementById('live-status').textContent !== text", arg=second)
    assert _row(page, "alice").locator("input[name=connection]").is_checked()
    assert not _row(page, "bob").locator("input[name=connection]").is_checked()

    # lock alice's screen with a message
    page.click("button:has-text('Lock Screen…')")
    page.fill("#lock-message", "Please wait for the supervisor")
    page.click("#lock-dialog button:has-text('Lock Selected')")
    page.wait_for_selector(".flash:has-text('Lock screen sent to 1 SEB connection.')")
    assert students.wait_for("alice", "SEB_FORCE_LOCK_SCREEN") == {
        "instruction": "SEB_FORCE_LOCK_SCREEN", "attributes": {"message": "Please wait for the supervisor"}}
    assert not students.clients["bob"].instructions

    # bob raises his hand: the bell shows up live, the supporter confirms
    students.raise_hand("bob", "question 2")
    bob = _row(page, "bob")
    page.wait_for_selector("#heatmap-rows td.name.notification:has-text('Raise hand: question 2')", timeout=4000)
    assert page.locator("#heatmap-rows tr").first.locator("td.name a").inner_text() == "bob"  # on top
    bob.locator("button:has-text('Confirm')").click()
    page.wait_for_selector(".flash:has-text('Notification confirmed')")
    assert students.wait_for("bob", "NOTIFICATION_CONFIRM") == {
        "instruction": "NOTIFICATION_CONFIRM", "attributes": {"type": "raisehand", "id": "1"}}

    # the search popup finds a connection by name and opens its details
    page.click("a:has-text('Search…')")
    page.fill("#search-dialog input[name=name]", "car")
    expect(page.locator("#search-results td.name a")).to_have_count(1)  # as typed: alice and bob are gone
    page.click("#search-results td.name a:text-is('carol')")
    page.wait_for_selector("h1:has-text('SEB Connection carol')")
    assert page.locator("text=Connection Token").count() == 1
    page.go_back()

    # quit all, after the confirmation
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Quit All')")
    page.wait_for_selector(".flash:has-text('Quit sent to 3 SEB connections.')")
    for name in ("alice", "bob", "carol"):
        assert students.wait_for(name, "SEB_QUIT")["instruction"] == "SEB_QUIT"


# Each row as the page shows it: key, then per cell its class, background (data-bg) and text (the Ping cell's text
# changes every second: only its colour is compared).
TABLE_SHAPE = """async ([url, volatile]) => {
    const shape = (body) => Array.from(body.rows).map(row => [row.dataset.key || "", Array.from(row.cells).map(
        (cell, index) => [cell.className, cell.dataset.bg || "",
                          index === volatile ? "" : cell.textContent.replace(/\\s+/g, " ").trim()])]);
    const fresh = new DOMParser().parseFromString(await (await fetch(url)).text(), "text/html");
    return [shape(document.getElementById("heatmap-rows")), shape(fresh.getElementById("heatmap-rows"))];
}"""


def test_the_streamed_changes_leave_the_table_a_fresh_page_shows(monitoring_server, students: Students,  # type: ignore[no-untyped-def]
                                                                 browser_page) -> None:
    server, world = monitoring_server
    page = browser_page
    for name in ("alice", "bob", "carol"):
        students.connect(name)
    sign_in(page, server.url, "demo-supporter", PASSWORD)
    url = f"{server.url}/monitoring/{world.exam_id}?hide=closed"
    page.goto(url)
    page.wait_for_selector("#live-status:has-text('Live ·')")
    headers = [text.strip() for text in page.locator("#heatmap thead th").all_inner_texts()]

    students.connect("dave")  # a new row
    students.log_errors("bob", 3)  # an indicator cell turns red (bob now has an incident)
    students.raise_hand("alice", "question 5")  # the name cell gets a bell
    students.close_connection("carol")  # closed ones are hidden: the row goes
    page.wait_for_selector("#heatmap-rows td.name a:text-is('dave')")
    page.wait_for_selector("#heatmap-rows td.name.notification")

    shown: list[Any] = []
    for _ in range(20):  # a tick may be under way: the page follows within a second or two
        shown, fresh = page.evaluate(TABLE_SHAPE, [url, headers.index("Ping")])
        if shown == fresh:
            break
        time.sleep(0.5)
    assert shown == fresh
    names = [re.match(r"[a-z]+", cells[1][2]).group() for _, cells in shown]  # type: ignore[union-attr]
    assert sorted(names) == ["alice", "bob", "dave"]
    bob = next(cells for _, cells in shown if cells[1][2] == "bob")
    assert bob[headers.index("Errors")] == ["cell dark", "ed1c24", "3"]
    errors = page.locator("#heatmap-rows tr", has=page.locator("td.name a:text-is('bob')")).locator("td.cell.dark")
    assert errors.evaluate("cell => getComputedStyle(cell).backgroundColor") == "rgb(237, 28, 36)"  # painted
