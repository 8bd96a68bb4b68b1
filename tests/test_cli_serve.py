"""``sebframe serve`` as operators run it: a real server process (two workers, uvloop, httptools) on
127.0.0.1, its request-head limits on every route, and its log."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.raw_http import connection, request_head

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
# One route of each part: the web UI, the admin API, the Exam API SEB clients talk to.
ROUTES = ["/login", "/admin-api/v1/openapi.json", "/exam-api/discovery"]
# The default limits (docs/operations.md): 8 KiB per line, 100 header lines, 64 KiB in all.
LINE, COUNT, TOTAL = 8 * 1024, 100, 64 * 1024


@dataclass(frozen=True)
class Served:
    port: int
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("serve")
    port, log = _free_port(), data / "server.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEBFRAME_")} | {
        "PYTHONPATH": str(ROOT), "SEBFRAME_DATA_DIR": str(data / "data"),
        "SEBFRAME_DATABASE_URL": f"sqlite:///{data / 'sebframe.db'}", "SEBFRAME_LOAD_ENTRYPOINT_PLUGINS": "false",
        "SEBFRAME_EXAM_REFRESH_INTERVAL_SECONDS": "0",
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "sebframe", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
             "--no-demo"], env=env, stdout=output, stderr=subprocess.STDOUT, cwd=data)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/exam-api/discovery", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield Served(port, log)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


OVERSIZED = {
    "line": (431, lambda route: request_head(route, [("X-Long", "v" * LINE)])),
    "count": (431, lambda route: request_head(route, [(f"X-{index}", "v") for index in range(COUNT)])),
    "total": (431, lambda route: request_head(route, [(f"X-{index}", "v" * 7000) for index in range(10)])),
    "target": (414, lambda route: request_head(f"{route}?q={'q' * LINE}")),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("kind", sorted(OVERSIZED))
def test_every_route_refuses_an_oversized_head(served: Served, route: str, kind: str) -> None:
    status, head = OVERSIZED[kind]
    with connection(served.port) as raw:
        raw.send(head(route))
        assert raw.response().status == status
        assert raw.closed_by_server()


@pytest.mark.parametrize("route", ROUTES)
def test_many_small_headers_are_served_and_the_connection_kept_alive(served: Served, route: str) -> None:
    many = request_head(route, [(f"X-Small-{index}", "v" * 500) for index in range(COUNT - 1)])
    with connection(served.port) as raw:
        for _ in range(2):
            raw.send(many)
            assert raw.response().status == 200


def test_an_endless_header_is_refused_without_reading_it_all(served: Served) -> None:
    with connection(served.port) as raw:
        raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        sent = raw.stream(b"GET /exam-api/discovery HTTP/1.1\r\nHost: test\r\nX-Endless: ", b"x" * 65536,
                          limit=256 * 1024 * 1024)
        assert raw.response().status == 431
        assert raw.closed_by_server()
    # What the kernel's socket buffers took besides the server's few hundred KiB, not the 256 MiB meant.
    assert sent < 32 * 1024 * 1024, sent


def test_requests_are_not_access_logged_but_refusals_are_warned_about(served: Served) -> None:
    httpx.get(f"http://127.0.0.1:{served.port}/exam-api/discovery?marker=not-logged", timeout=5)
    with connection(served.port) as raw:
        raw.send(request_head("/exam-api/discovery?marker=refused", [("X-Long", "v" * LINE)]))
        assert raw.response().status == 431
    time.sleep(0.3)  # the worker's log line on its way to the file
    log = served.log.read_text()
    assert "marker=not-logged" not in log and '"GET /' not in log
    assert "refused (431): A request header line is longer than 8192 bytes." in log
