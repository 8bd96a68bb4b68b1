"""How far behind the monitoring page's live updates are while thousands of SEB clients ping (not run in CI).

    .venv/bin/python -m bench.monitoring_live [--clients 5000] [--probes 10] [--workers 2]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench_live]   # an empty database

Starts a throw-away server (``bench.server.ManagedServer``) with the demo exam and an Errors indicator, runs
``python -m bench ping`` with ``--clients`` simulated SEB clients in a separate process, and, once they all
ping, signs in as the demo exam administrator and follows the exam's event stream
(``/monitoring/{exam}/stream``) the way the page does. A probe SEB client of the same exam then logs an
``ERROR_LOG`` event every few seconds; the lag is the time from the event's acknowledgement (204: stored) to
the first streamed table body or patch whose Errors cell shows the new count. Also measures the page itself
(``GET /monitoring/{exam}``: its ``Server-Timing`` and the whole response) under the same load. Prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import statistics
import subprocess
import sys
import time
from contextlib import suppress

import httpx
from sqlalchemy import func, select, update

from sebframe.core.accounts.passwords import hash_password
from sebframe.core.db import Database
from sebframe.core.db.models import ClientConnection, Exam, Indicator, UserAccount
from sebframe.settings import normalise_database_url

from .connfile import ConnectionSettings, load_connection_file
from .server import ManagedServer

PASSWORD = "bench-live-1"
ADMIN = "demo-exam-admin"
PROBE_USER = "live-probe"
FORM = "application/x-www-form-urlencoded"
ROW = re.compile(r'<tr data-key="(\d+)">(.*?)</tr>', re.S)
CELL = re.compile(r'<td class="cell[^"]*"[^>]*>([^<]*)</td>')


async def prepare(database_url: str) -> int:
    """The demo exam gets an Errors indicator; the exam administrator a known password. Returns the exam id."""
    db = Database(normalise_database_url(database_url))
    try:
        async with db.transaction() as session:
            exam_id = (await session.execute(select(func.min(Exam.id)))).scalar_one()
            session.add(Indicator(exam_id=exam_id, name="Errors", indicator_type="ERROR_COUNT", color="ffffff",
                                  tags="", thresholds='[{"value": 1, "color": "ffc20e"}]'))
            await session.execute(update(UserAccount).where(UserAccount.username == ADMIN)
                                  .values(password_hash=hash_password(PASSWORD)))
        return int(exam_id)
    finally:
        await db.dispose()


async def active_connections(database_url: str, exam_id: int) -> int:
    db = Database(normalise_database_url(database_url))
    try:
        async with db.read() as session:
            return int((await session.execute(select(func.count()).where(
                ClientConnection.exam_id == exam_id, ClientConnection.status == "ACTIVE"))).scalar_one())
    finally:
        await db.dispose()


class Probe:
    """One SEB client of the exam that pings every second and logs errors on request."""

    def __init__(self, http: httpx.AsyncClient, settings: ConnectionSettings, exam_id: int) -> None:
        self.http = http
        self.settings = settings
        self.exam_id = exam_id
        self.headers: dict[str, str] = {}
        self.connection_id = 0

    async def connect(self, database_url: str) -> None:
        secret = base64.b64encode(f"{self.settings.client_name}:{self.settings.client_secret}".encode()).decode()
        token = await self.http.post("/oauth/token", content=b"grant_type=client_credentials&scope=read write",
                                     headers={"Authorization": f"Basic {secret}", "Content-Type": FORM})
        token.raise_for_status()
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        created = await self.http.post(
            "/exam-api/v1/handshake", headers=self.headers | {"Content-Type": FORM},
            content=f"institutionId={self.settings.institution}&client_id={PROBE_USER}".encode())
        created.raise_for_status()
        self.headers["SEBConnectionToken"] = created.headers["SEBConnectionToken"]
        for method, path, body in (("GET", f"/exam-api/v1/examconfig?examId={self.exam_id}", None),
                                   ("PATCH", "/exam-api/v1/handshake",
                                    f"examId={self.exam_id}&seb_user_session_id={PROBE_USER}"),
                                   ("PUT", "/exam-api/v1/handshake", None)):
            response = await self.http.request(method, path, headers=self.headers | {"Content-Type": FORM},
                                               content=body.encode() if body else None)
            response.raise_for_status()
        db = Database(normalise_database_url(database_url))
        try:
            async with db.read() as session:
                self.connection_id = (await session.execute(select(ClientConnection.id).where(
                    ClientConnection.connection_token == self.headers["SEBConnectionToken"]))).scalar_one()
        finally:
            await db.dispose()

    async def ping_forever(self) -> None:
        number = 0
        while True:
            number += 1
            with suppress(httpx.HTTPError):
                await self.http.post("/exam-api/v1/sebping", headers=self.headers | {"Content-Type": FORM},
                                     content=f"timestamp={int(time.time() * 1000)}&ping-number={number}".encode())
            await asyncio.sleep(1.0)

    async def log_error(self, text: str) -> None:
        event = {"type": "ERROR_LOG", "timestamp": int(time.time() * 1000), "text": text}
        response = await self.http.post("/exam-api/v1/seblog", content=json.dumps(event).encode(),
                                        headers=self.headers | {"Content-Type": "application/json"})
        assert response.status_code == 204, response.text


class Watcher:
    """Follows the exam's event stream as the page does (the whole body, then patches); remembers when the probe's
    Errors cell (its last) first showed each count."""

    def __init__(self, http: httpx.AsyncClient, exam_id: int, probe_id: int) -> None:
        self.http = http
        self.exam_id = exam_id
        self.probe_id = probe_id
        self.seen: dict[int, float] = {}
        self.bodies = 0
        self.patches = 0
        self.last_cell = -1  # the probe row's Errors cell, as an index among its cells

    async def follow(self) -> None:
        async with self.http.stream("GET", f"/monitoring/{self.exam_id}/stream",
                                    headers={"Accept": "text/event-stream"}) as response:
            response.raise_for_status()
            name, data = "", []
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    name, data = line[7:], []
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line == "" and name:
                    if name == "rows":
                        self.bodies += 1
                        self._rows(ROW.findall("\n".join(data)), time.monotonic())
                    elif name == "patch":
                        self.patches += 1
                        self._patch(json.loads("\n".join(data)), time.monotonic())
                    name, data = "", []

    def _rows(self, rows: list[tuple[str, str]], at: float) -> None:
        for key, row in rows:
            if int(key) == self.probe_id:
                self.last_cell = row.count("<td") - 1
                cells = CELL.findall(row)
                if cells:
                    self._show(cells[-1], at)
                return

    def _patch(self, patch: dict[str, list[list[object]]], at: float) -> None:
        self._rows([ROW.match(str(markup)).groups() for _, markup in patch.get("rows", [])], at)  # type: ignore[union-attr]
        for key, index, text, *_ in patch.get("cells", []):
            if key == self.probe_id and index == self.last_cell:
                self._show(str(text), at)

    def _show(self, text: str, at: float) -> None:
        if text.strip().isdigit():
            self.seen.setdefault(int(text), at)


async def measure(server: ManagedServer, args: argparse.Namespace) -> dict[str, object]:
    exam_id = await prepare(server.database_url)
    load = subprocess.Popen(
        [sys.executable, "-m", "bench", "ping", "--conn-file", str(server.connection_file),
         "--clients", str(args.clients), "--duration", str(args.duration), "--startup-logs", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180
        while await active_connections(server.database_url, exam_id) < args.clients:
            if time.monotonic() > deadline or load.poll() is not None:
                raise RuntimeError("the simulated clients did not all connect")
            await asyncio.sleep(2)
        settings = load_connection_file(server.connection_file, server_url=server.url)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as seb, \
                httpx.AsyncClient(base_url=server.url, timeout=60) as web:
            probe = Probe(seb, settings, exam_id)
            await probe.connect(server.database_url)
            pinging = asyncio.create_task(probe.ping_forever())
            signed_in = await web.post("/login", data={"username": ADMIN, "password": PASSWORD, "next": "/"},
                                       headers={"Origin": server.url})
            assert signed_in.status_code in (200, 303), signed_in.text[:300]
            pages, server_times = [], []
            for _ in range(args.pages):
                started = time.monotonic()
                page = await web.get(f"/monitoring/{exam_id}")
                assert page.status_code == 200, page.status_code
                pages.append((time.monotonic() - started) * 1000)
                server_times.append(float(page.headers["Server-Timing"].split("dur=")[1]))
            watcher = Watcher(web, exam_id, probe.connection_id)
            following = asyncio.create_task(watcher.follow())
            await asyncio.sleep(5)  # the first bodies: the probe's count 0
            lags = []
            for number in range(1, args.probes + 1):
                await probe.log_error(f"live probe {number}")
                stored = time.monotonic()
                while number not in watcher.seen and time.monotonic() - stored < args.give_up:
                    await asyncio.sleep(0.02)
                lags.append((watcher.seen.get(number, float("inf")) - stored) * 1000)
                await asyncio.sleep(args.interval)
            following.cancel()
            browser = (await in_browser(server.url, exam_id, probe, args.probes, first=args.probes + 1)
                       if args.browser else None)
            pinging.cancel()
        return {"lags_ms": lags, "page_ms": pages, "server_ms": server_times, "bodies": watcher.bodies,
                "patches": watcher.patches, "browser": browser}
    finally:
        load.terminate()
        with suppress(subprocess.TimeoutExpired):
            load.wait(30)


async def in_browser(url: str, exam_id: int, probe: Probe, probes: int, *, first: int) -> dict[str, object]:
    """The page in Debian's chromium: load time with every row, and the lag until a probe's new error
    count is in the page's table (the page's own script applies the streamed body and patches)."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                                   args=["--no-sandbox", "--disable-gpu"])
        page = await browser.new_page()
        await page.goto(f"{url}/login")
        await page.fill("input[name=username]", ADMIN)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_load_state("load")
        started = time.monotonic()
        await page.goto(f"{url}/monitoring/{exam_id}", wait_until="load")
        loaded = (time.monotonic() - started) * 1000
        rows = await page.locator("tr[data-key]").count()
        # The supervisor looks at the probe's row: rows out of sight get their values when they come into view.
        await page.locator(f'tr[data-key="{probe.connection_id}"]').scroll_into_view_if_needed()
        # Where the browser's time goes per streamed event: the page's patching, then style, layout and paint.
        await page.evaluate("""() => {
            window.benchTicks = [];
            const body = document.getElementById("heatmap-rows");
            document.addEventListener("htmx:sseBeforeMessage", () => { window.benchStart = performance.now(); },
                                      true);
            body.addEventListener("htmx:sseBeforeMessage", () => {
                const patched = performance.now();
                requestAnimationFrame(() => setTimeout(() => window.benchTicks.push(
                    [patched - window.benchStart, performance.now() - patched]), 0));
            });
        }""")
        print(f"in chromium: page loaded in {loaded:.0f} ms with {rows} rows")
        lags = []
        for number in range(first, first + probes):
            await probe.log_error(f"browser probe {number}")
            stored = time.monotonic()
            try:
                await page.wait_for_function(
                    "([key, text]) => document.querySelector(`tr[data-key=\"${key}\"]`)"
                    "?.lastElementChild?.textContent.trim() === text", arg=[str(probe.connection_id), str(number)],
                    timeout=15_000, polling=50)
                lags.append((time.monotonic() - stored) * 1000)
            except PlaywrightTimeout:
                shown = await page.evaluate(
                    "key => document.querySelector(`tr[data-key=\"${key}\"]`)?.lastElementChild?.textContent",
                    str(probe.connection_id))
                print(f"probe {number}: not in the page after 15 s (its cell shows {shown!r})")
                lags.append(float("inf"))
            await asyncio.sleep(1.0)
        ticks = await page.evaluate("window.benchTicks")
        await browser.close()
    return {"load_ms": loaded, "rows": rows, "lags_ms": lags, "ticks": ticks}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.monitoring_live", description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--duration", type=float, default=180.0, help="seconds the load pings (covers the probes)")
    parser.add_argument("--probes", type=int, default=10)
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between probes")
    parser.add_argument("--give-up", type=float, default=15.0, help="seconds to wait for one update")
    parser.add_argument("--pages", type=int, default=5, help="page loads measured under the load")
    parser.add_argument("--browser", action="store_true", help="also in Debian's chromium (Playwright)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with ManagedServer(workers=args.workers, database_url=args.database_url) as server:
        result = asyncio.run(measure(server, args))
    lags = sorted(float(value) for value in result["lags_ms"])  # type: ignore[attr-defined]
    pages = sorted(float(value) for value in result["page_ms"])  # type: ignore[attr-defined]
    server = [float(value) for value in result["server_ms"]]  # type: ignore[attr-defined]
    print(f"{args.clients} clients pinging, {args.workers} worker(s), "
          f"{args.database_url or 'SQLite'}; {result['bodies']} whole table bodies and {result['patches']} patches "
          "streamed")
    print(f"live update lag ms (event stored -> streamed): median {statistics.median(lags):.0f}, "
          f"max {lags[-1]:.0f}, all {[round(value) for value in lags]}")
    print(f"page GET /monitoring/{{exam}} ms, server time (Server-Timing) in order: "
          f"{[round(value) for value in server]}, median {statistics.median(server):.0f}")
    print(f"page GET /monitoring/{{exam}} ms, whole response over loopback: median "
          f"{statistics.median(pages):.0f}, min {pages[0]:.0f}, max {pages[-1]:.0f}")
    if result["browser"]:
        seen = result["browser"]
        print(f"in chromium: page loaded in {seen['load_ms']:.0f} ms with {seen['rows']} rows; "  # type: ignore[index]
              f"lag until the probe's count is in the page, ms: {[round(v) for v in seen['lags_ms']]}")  # type: ignore[index]
        ticks = seen["ticks"]  # type: ignore[index]
        if ticks:
            print(f"in chromium, per streamed event ({len(ticks)}): applying median "
                  f"{statistics.median(t[0] for t in ticks):.0f} ms, then until painted median "
                  f"{statistics.median(t[1] for t in ticks):.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

