"""Server time of the exam monitoring page with many connections (not run in CI).

    .venv/bin/python -m bench.monitoring_page [--connections 5000] [--events-per-connection 5]
        [--repeat 5] [--database-url postgresql://postgres@127.0.0.1:5432/bench_monitoring]

Builds a throw-away database (SQLite in a temporary directory unless ``--database-url`` names an empty one):
the demo exam with the Ping, Errors and Battery indicators, ``--connections`` SEB connections written straight
into ``client_connection`` (mostly active with recent pings, some ready, closed, canceled and missing, a few
duplicate users and raised hands) and their log events. Then, in this process, against the application
(no network): the first render of ``/monitoring/{exam}`` (the first one folds every event of the exam), the
warm renders, and one tick of the live stream (snapshot, table body, filter switches), each split into its
parts. Prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import sebframe_indicators.plugin
from sqlalchemy import insert, select, update

from sebframe.app import create_app
from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.passwords import hash_password
from sebframe.core.bootstrap import ensure_initial_data
from sebframe.core.db.migrate import upgrade
from sebframe.core.db.models import ClientConnection, ClientEvent, ClientNotification, Exam, Indicator, UserAccount
from sebframe.core.demo import ensure_demo_exam
from sebframe.core.monitoring.table import StateFilter
from sebframe.core.services import Services
from sebframe.core.session.clock import now_ms
from sebframe.settings import Settings, normalise_database_url
from sebframe.testing import registry_with
from sebframe.web.templating import compile_templates, create_templates
from sebframe.web.views.monitoring_table import TableContext, TableFragments

PASSWORD = "bench-monitoring-1"
CHUNK = 1000
OS_NAME = "Windows 10, Microsoft Windows NT 10.0.19045.0 (x64)"


def _status(index: int) -> tuple[str, bool]:
    """Mostly active: 2 % ready, 3 % closed, 1 % canceled, 1 % missing."""
    slot = index % 100
    if slot < 2:
        return "READY", False
    if slot < 5:
        return "CLOSED", False
    if slot < 6:
        return "DISABLED", False
    return "ACTIVE", slot == 6


async def build(services: Services, data_dir: Path, connections: int, events_per_connection: int) -> int:
    await ensure_initial_data(services.db, data_dir)
    demo = await ensure_demo_exam(services, server_url="http://127.0.0.1:8000", out=data_dir / "demo.seb")
    now = now_ms()
    rng = random.Random(5000)
    async with services.db.transaction() as session:
        await session.execute(update(UserAccount).where(UserAccount.username == "demo-supporter")
                              .values(password_hash=hash_password(PASSWORD)))
        session.add(Indicator(exam_id=demo.exam_id, name="Errors", indicator_type="ERROR_COUNT", color="ffffff",
                              tags="", thresholds='[{"value": 1, "color": "ffc20e"}, {"value": 3, "color": "ed1c24"}]'))
        session.add(Indicator(exam_id=demo.exam_id, name="Battery", indicator_type="BATTERY_STATUS",
                              color="ffffff", tags="",
                              thresholds='[{"value": 20, "color": "ed1c24"}, {"value": 40, "color": "ffc20e"}]'))
        institution_id = (await session.get(Exam, demo.exam_id)).institution_id  # type: ignore[union-attr]
    rows: list[dict[str, Any]] = []
    for index in range(connections):
        status, missing = _status(index)
        user = f"student-{index // 2 if index % 500 == 1 else index:05d}"  # every 500th user twice
        rows.append({"connection_token": f"bench-{index:06d}-{rng.getrandbits(64):016x}", "status": status,
                     "institution_id": institution_id, "exam_id": demo.exam_id, "user_session_id": user,
                     "lms_user_session_id": user, "client_address": f"10.{index // 65536}.{index // 256 % 256}."
                     f"{index % 256}", "seb_os_name": OS_NAME, "seb_machine_name": f"PC-{index:05d}",
                     "seb_version": "3.8.0 (x64)", "seb_client_user_id": f"os-{index}", "missing_ping": missing,
                     "created_ms": now - 600_000, "changed_ms": now,
                     "last_ping_ms": now - (60_000 if missing else rng.randint(0, 1500))})
    async with services.db.transaction() as session:
        for start in range(0, len(rows), CHUNK):
            await session.execute(insert(ClientConnection), rows[start:start + CHUNK])
    async with services.db.read() as session:
        ids = list((await session.execute(select(ClientConnection.id).where(
            ClientConnection.exam_id == demo.exam_id).order_by(ClientConnection.id))).scalars())
    events: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    spread = events_per_connection * connections
    for position, connection_id in enumerate(ids):
        for number in range(events_per_connection):  # spread over the last half hour, as during an exam
            at = now - 1_800_000 + (number * connections + position) * 1_700_000 // spread
            if number == 0:
                event = ("INFO_LOG", f"<battery> {100 - position % 90}%", float(100 - position % 90))
            elif position % 10 == 0:
                event = ("ERROR_LOG", "crash", None)
            else:
                event = ("INFO_LOG", f"log line {number}", None)
            events.append({"connection_id": connection_id, "exam_id": demo.exam_id, "event_type": event[0],
                           "client_time_ms": at, "server_time_ms": at, "numeric_value": event[2], "text": event[1]})
        if position % 250 == 7:
            notifications.append({"connection_id": connection_id, "notification_type": "raisehand", "value": 1,
                                  "text": "question", "created_ms": now})
    async with services.db.transaction() as session:
        for start in range(0, len(events), CHUNK * 5):
            await session.execute(insert(ClientEvent), events[start:start + CHUNK * 5])
        if notifications:
            await session.execute(insert(ClientNotification), notifications)
    await services.sessions.runtime.refresh_running_exams()
    return demo.exam_id


async def timed(work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await work()
    return (time.perf_counter() - started) * 1000, result


def describe(label: str, values: list[float]) -> str:
    return f"{label}: median {statistics.median(values):.1f} ms, min {min(values):.1f}, max {max(values):.1f}"


async def measure(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="sebframe-monitoring-") as tmp:
        url = normalise_database_url(args.database_url or f"sqlite:///{tmp}/bench.db")
        await upgrade(url)
        settings = Settings(database_url=url, data_dir=Path(tmp) / "data", secret_key="bench-monitoring-secret-key",
                            load_entrypoint_plugins=False)
        services = Services.create(settings, registry_with(sebframe_indicators.plugin))
        try:
            started = time.perf_counter()
            exam_id = await build(services, Path(tmp), args.connections, args.events_per_connection)
            print(f"built {args.connections} connections, {args.connections * args.events_per_connection} events "
                  f"in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")
            await services.sessions.runtime.start()  # as the server starts (its sync loop, its GC thresholds)
            # The server warms the folds of running exams in the background right after start; time it apart.
            warm_up, _ = await timed(services.monitoring.warm)
            app = create_app(services=services)
            # ... and compiles the templates in the background (sebframe.app's lifespan): time it apart too.
            web = next(route.app for route in app.app.routes if getattr(route, "name", "") == "web")
            compiled, _ = await timed(lambda: compile_templates(web.state.templates.env))
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                await client.post("/login", data={"username": "demo-supporter", "password": PASSWORD, "next": "/"})
                page = f"/monitoring/{exam_id}"
                first, response = await timed(lambda: client.get(page))
                assert response.status_code == 200, response.status_code
                size = len(response.content)
                warm = []
                for _ in range(args.repeat):
                    elapsed, response = await timed(lambda: client.get(page))
                    warm.append(elapsed)
            async with services.db.read() as session:
                supporter = (await session.execute(select(UserAccount).where(
                    UserAccount.username == "demo-supporter"))).scalar_one()
            actor = actor_of(supporter)
            env = create_templates().env
            fragments = TableFragments(env, TableContext(exam_id, frozenset(), False, True))
            hidden = TableFragments(env, TableContext(exam_id, frozenset({StateFilter.ACTIVE}), False, True))
            snapshots, rows, filters, quiet = [], [], [], []
            body = ""
            for _ in range(args.repeat):
                elapsed, snapshot = await timed(lambda: services.monitoring.snapshot(actor, exam_id))
                snapshots.append(elapsed)
                started = time.perf_counter()
                body = fragments.render_rows(snapshot)
                rows.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                fragments.render_filters(snapshot)
                filters.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                hidden.render_rows(snapshot)
                quiet.append((time.perf_counter() - started) * 1000)
        finally:
            await services.close()
    ticks = [a + b + c for a, b, c in zip(snapshots, rows, filters, strict=True)]
    print(f"background warm-up after start (folds all events, not on a request): {warm_up:.1f} ms")
    print(f"background template compilation after start (not on a request): {compiled:.1f} ms")
    print(f"GET {page}: first render {first:.1f} ms, {size / 1024:.0f} KiB")
    print(describe("GET warm render", warm))
    print(describe("stream tick (snapshot + rows + filters)", ticks))
    print(describe("  snapshot", snapshots))
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # as the stream sends it to browsers
    packed = len(compressor.compress(body.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH))
    print(describe("  table body", rows) + f", {len(body.encode()) / 1024:.0f} KiB per tick, "
          f"{packed / 1024:.0f} KiB gzipped")
    print(describe("  filter switches", filters))
    print(describe("table body with 'active without incident' hidden", quiet))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--events-per-connection", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="an empty database (default: SQLite in a temporary directory)")
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
