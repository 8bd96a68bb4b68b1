"""Two server processes on one PostgreSQL or MariaDB database: any process serves any request of a SEB client,
and an instruction issued through one reaches a client pinging the other within two seconds."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from sebframe.core.services import Services
from tests.conftest import Factory
from tests.seb_client import SebClient, SebWorld

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture
def server_database(database_url: str) -> str:
    if not database_url.startswith(("postgresql", "mysql")):
        pytest.skip("PostgreSQL or MariaDB only: several server processes share one of those, SQLite serves one "
                    "process (.ci/run runs this with SEBFRAME_TEST_DATABASE_URL on both)")
    return database_url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def two_servers(server_database: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    env = os.environ | {
        "SEBFRAME_DATABASE_URL": server_database, "SEBFRAME_SECRET_KEY": "test-secret-key-0123456789",
        "SEBFRAME_DATA_DIR": str(tmp_path / "data"), "SEBFRAME_LOAD_ENTRYPOINT_PLUGINS": "false",
        "SEBFRAME_SESSION_SYNC_INTERVAL_SECONDS": "0.5", "SEBFRAME_EXAM_REFRESH_INTERVAL_SECONDS": "0",
    }
    processes, urls = [], []
    for _ in range(2):
        port = _free_port()
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "sebframe.asgi:create", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"], env=env))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        for url in urls:
            while True:
                try:
                    if httpx.get(f"{url}/exam-api/discovery", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "server process did not start"
                time.sleep(0.2)
        yield urls[0], urls[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


@pytest.fixture
async def clients(two_servers: tuple[str, str]) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with httpx.AsyncClient(base_url=two_servers[0]) as a, httpx.AsyncClient(base_url=two_servers[1]) as b:
        yield a, b


async def test_handshake_on_one_process_ping_on_the_other(
        seb_world: SebWorld, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], factory: Factory) -> None:
    a, b = clients
    on_a = SebClient(a, seb_world, name="alice")
    await on_a.connect()
    on_b = SebClient(b, seb_world, name="alice")
    on_b.access_token, on_b.connection_token = on_a.access_token, on_a.connection_token
    assert (await on_b.ping()).status_code == 204
    assert (await on_b.log({"type": "INFO_LOG", "timestamp": 1, "text": "from b"})).status_code == 204
    assert (await on_b.select_exam(seb_world.exam_id, "alice")).status_code == 200

    admin_token = await factory.token("demo-supporter")
    started = time.monotonic()
    sent = await a.post(f"/admin-api/v1/monitoring/{seb_world.exam_id}/instruction",
                        json={"type": "SEB_FORCE_LOCK_SCREEN", "connection_tokens": [on_a.connection_token],
                              "message": "Stop"}, headers={"Authorization": f"Bearer {admin_token}"})
    assert sent.status_code == 200 and sent.json() == {"sent": 1, "skipped": 0}
    while True:
        ping = await on_b.ping()
        if ping.status_code == 200:
            break
        assert time.monotonic() - started < 2.0, "the instruction did not reach the other process in 2 s"
        await asyncio.sleep(0.05)
    assert ping.json() == {"instruction": "SEB_FORCE_LOCK_SCREEN", "attributes": {"message": "Stop"}}
    await asyncio.sleep(1.2)  # both processes synced: the delivered instruction is gone everywhere
    assert (await on_a.ping()).status_code == 204

    listed = await b.get(f"/admin-api/v1/monitoring/{seb_world.exam_id}/connections",
                         headers={"Authorization": f"Bearer {admin_token}"})
    [connection] = listed.json()["items"]
    assert (connection["status"], connection["user_session_id"]) == ("ACTIVE", "alice")
    assert (await on_b.close()).status_code == 200


async def test_deactivated_configuration_is_refused_by_every_process(
        seb_world: SebWorld, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], factory: Factory,
        services: Services) -> None:
    a, b = clients
    on_a = SebClient(a, seb_world)
    await on_a.connect()
    on_b = SebClient(b, seb_world)
    on_b.access_token, on_b.connection_token = on_a.access_token, on_a.connection_token
    assert (await on_b.ping()).status_code == 204
    admin_token = await factory.token("demo-exam-admin")
    configs = await a.get("/admin-api/v1/connection-configurations",
                          headers={"Authorization": f"Bearer {admin_token}"})
    [config] = [item for item in configs.json()["items"] if item["name"] == seb_world.connection_config_name]
    deactivated = await a.post(f"/admin-api/v1/connection-configurations/{config['id']}/deactivate",
                               headers={"Authorization": f"Bearer {admin_token}"})
    assert deactivated.status_code == 200, deactivated.text
    started = time.monotonic()
    while (await on_b.ping()).status_code != 401:
        assert time.monotonic() - started < 3.0, "the other process still accepts the revoked token"
        await asyncio.sleep(0.1)
