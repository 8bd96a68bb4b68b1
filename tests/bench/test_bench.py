"""The load generator against a small fake Exam API (a real HTTP server on a free 127.0.0.1 port)."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bench.cli import main
from bench.connfile import ConnectionSettings, load_connection_file
from bench.http import ConnectionClosed, HttpConnection, RequestTemplate, ResponseParser, ServerAddress
from bench.persisted import count_persisted_events
from bench.runner import run_scenario
from bench.scenarios import Plan, Scenario
from sebframe.core.sebconfig import encode_seb
from sebframe.testing.fakes._server import BackgroundServer

EXAM = "7"
BEARER = "Bearer fake-access-token"
LOCK_CONFIRM = "42"


@dataclass
class Connection:
    client_id: str
    status: str = "CONNECTION_REQUESTED"
    user: str = ""
    pings: int = 0
    events: int = 0
    confirmed: list[str] = field(default_factory=list)
    put_content_type: str | None = "unset"


@dataclass
class FakeExamApi:
    """The Exam API as far as the generator needs it. Client bench-0 is told SEB_QUIT on its 2nd ping,
    bench-1 gets a confirmable lock-screen instruction on its 1st."""

    connections: dict[str, Connection] = field(default_factory=dict)
    tokens_issued: int = 0
    bare_requests: int = 0
    problems: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/exam-api/discovery", self.discovery),
            Route("/oauth/token", self.token, methods=["POST"]),
            Route("/exam-api/v1/handshake", self.handshake, methods=["POST", "PATCH", "PUT", "DELETE"]),
            Route("/exam-api/v1/examconfig", self.examconfig),
            Route("/exam-api/v1/sebping", self.ping, methods=["POST"]),
            Route("/exam-api/v1/seblog", self.log, methods=["POST"]),
            Route("/bench/bare", self.bare, methods=["POST"]),
        ])

    async def discovery(self, request: Request) -> Response:
        names = ("access-token-endpoint", "seb-handshake-endpoint", "seb-configuration-endpoint",
                 "seb-ping-endpoint", "seb-log-endpoint")
        paths = ("/oauth/token", "/exam-api/v1/handshake", "/exam-api/v1/examconfig", "/exam-api/v1/sebping",
                 "/exam-api/v1/seblog")
        endpoints = [{"name": n, "location": p} for n, p in zip(names, paths, strict=True)]
        # closing after discovery makes every client reconnect for its next request
        return JSONResponse({"api-versions": [{"name": "v1", "endpoints": endpoints}]},
                            headers={"Connection": "close"})

    async def token(self, request: Request) -> Response:
        body = (await request.body()).decode()
        if request.headers.get("authorization") != "Basic YmVuY2gtY2xpZW50OnMzY3JldA==" or \
                body != "grant_type=client_credentials&scope=read write":
            self.problems.append(f"token request {request.headers.get('authorization')} {body}")
            return JSONResponse({"error": "Bad credentials"}, 401)
        self.tokens_issued += 1
        return JSONResponse({"access_token": "fake-access-token", "token_type": "bearer", "expires_in": 43199})

    def _connection(self, request: Request) -> Connection | None:
        if request.headers.get("authorization") != BEARER:
            self.problems.append(f"{request.method} {request.url.path} without bearer")
            return None
        return self.connections.get(request.headers.get("sebconnectiontoken", ""))

    async def handshake(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        if request.method == "POST":
            if request.headers.get("authorization") != BEARER or form.get("institutionId") != "3" or \
                    form.get("seb_os_name") != "Windows 10, Microsoft Windows NT 10.0.19045.0 (x64)":
                self.problems.append(f"POST handshake {form}")
                return JSONResponse([], 400)
            token = f"token-{len(self.connections)}"
            self.connections[token] = Connection(form["client_id"])
            exams = [{"examId": EXAM, "name": "Demo", "url": "http://lms.example/", "lmsType": "MOCKUP"}]
            return JSONResponse(exams, headers={"SEBConnectionToken": token})
        connection = self._connection(request)
        if connection is None:
            return JSONResponse([{"messageCode": "1002"}], 404)
        if request.method == "PATCH":
            if form.get("examId") != EXAM:
                return JSONResponse([{"messageCode": "1010"}], 400)
            connection.user = form.get("seb_user_session_id", connection.user)
        elif request.method == "PUT":
            connection.status = "READY"
            connection.put_content_type = request.headers.get("content-type")
        else:
            connection.status = "CLOSED"
        return Response(status_code=200)

    async def examconfig(self, request: Request) -> Response:
        if self._connection(request) is None or request.query_params.get("examId") != EXAM:
            return JSONResponse([{"messageCode": "0"}], 500)

        async def chunks() -> AsyncIterator[bytes]:  # a chunked response
            yield b'<?xml version="1.0" encoding="utf-8"?>\n<plist version="1.0"><dict>'
            yield b"<key>allowQuit</key><true/></dict></plist>"

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    async def ping(self, request: Request) -> Response:
        connection = self._connection(request)
        form = dict(parse_qsl((await request.body()).decode()))
        if connection is None or not form.get("timestamp", "").isdigit():
            return Response(status_code=204)
        connection.pings += 1
        if form.get("ping-number") != str(connection.pings):
            self.problems.append(f"ping number {form.get('ping-number')} for ping {connection.pings}")
        if "instruction-confirm" in form:
            connection.confirmed.append(form["instruction-confirm"])
        if connection.client_id == "bench-0" and connection.pings == 2:
            return JSONResponse({"instruction": "SEB_QUIT"})
        if connection.client_id == "bench-1" and connection.pings == 1:
            attributes = {"message": "stop", "instruction-confirm": LOCK_CONFIRM}
            return JSONResponse({"instruction": "SEB_FORCE_LOCK_SCREEN", "attributes": attributes})
        return Response(status_code=204)

    async def log(self, request: Request) -> Response:
        connection = self._connection(request)
        event = json.loads(await request.body())
        if request.headers.get("content-type") != "application/json; charset=UTF-8" or event["type"] != "INFO_LOG":
            self.problems.append(f"log {request.headers.get('content-type')} {event}")
        if connection is not None:
            connection.events += 1
        return Response(status_code=204)

    async def bare(self, request: Request) -> Response:
        await request.body()
        self.bare_requests += 1
        return Response(status_code=204)


@pytest.fixture
def fake() -> Iterator[tuple[FakeExamApi, BackgroundServer]]:
    api = FakeExamApi()
    server = BackgroundServer(api.app(), "fake-exam-api", lifetime=60)
    server.start()
    try:
        yield api, server
    finally:
        server.stop()


@pytest.fixture
def conn_file(tmp_path: Path, fake: tuple[FakeExamApi, BackgroundServer]) -> Path:
    settings = {
        "sebMode": 1,
        "sebConfigPurpose": 0,
        "sebServerURL": f"http://127.0.0.1:{fake[1].port}",
        "sebServerConfiguration": {"institution": "3", "clientName": "bench-client", "clientSecret": "s3cret",
                                   "apiDiscovery": "/exam-api/discovery", "pingInterval": 400},
    }
    path = tmp_path / "SEBServerSettings.seb"
    path.write_bytes(encode_seb(settings))  # gzip(plnd || gzip(xml)), as the server exports it
    return path


def _plan(conn_file: Path, scenario: Scenario, clients: int, **changes: object) -> Plan:
    settings = load_connection_file(conn_file)
    plan = Plan(scenario=scenario, settings=settings, clients=clients, duration=1.0, concurrency=2,
                per_client_token=False, ping_interval=settings.ping_interval_ms / 1000, events_per_client=0,
                startup_logs=1, log_interval=0.0, timeout=5.0, handshake_timeout=10.0)
    return replace(plan, **changes)


# -- HTTP parsing ---------------------------------------------------------------------------------


def _feed_bytewise(parser: ResponseParser, data: bytes) -> list[object]:
    return [r for r in (parser.feed(data[i : i + 1]) for i in range(len(data))) if r is not None]


def test_parser_reads_chunked_bodies_with_trailers_fed_byte_by_byte() -> None:
    data = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n"
            b"5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n")
    parser = ResponseParser()
    [response] = _feed_bytewise(parser, data)
    assert (response.status, response.body, response.headers["x-a"]) == (200, b"hello world", "b")
    assert parser.keep_alive


def test_parser_handles_204_content_length_and_close_delimited_bodies() -> None:
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n").body == b""
    response = parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
    assert response.body == b"abc" and not parser.keep_alive
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.0 200 OK\r\n\r\npart") is None
    assert parser.finish().body == b"part" and not parser.keep_alive


def test_request_template_renders_bodies_like_the_windows_client() -> None:
    template = RequestTemplate("PUT", "/exam-api/v1/handshake", "h:1", [("Authorization", "Bearer t")])
    assert template.render() == b"PUT /exam-api/v1/handshake HTTP/1.1\r\nHost: h:1\r\nAuthorization: Bearer t\r\n" \
                                b"Content-Length: 0\r\n\r\n"
    assert template.render(b"a=1").endswith(b"Content-Length: 3\r\n\r\na=1")
    assert RequestTemplate("GET", "/x", "h").render() == b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"


def test_a_connection_the_server_closes_mid_response_is_an_error() -> None:
    async def run() -> None:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        address = ServerAddress.parse(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/")
        connection = HttpConnection(address, timeout=2)
        with pytest.raises(ConnectionClosed):
            await connection.request(RequestTemplate("GET", "/", address.host_header).render())
        server.close()

    asyncio.run(run())


# -- the connection file --------------------------------------------------------------------------


def test_connection_file_is_read_like_seb_reads_it(conn_file: Path) -> None:
    settings = load_connection_file(conn_file)
    assert settings == ConnectionSettings(server_url=settings.server_url, institution="3", client_name="bench-client",
                                          client_secret="s3cret", discovery="/exam-api/discovery",
                                          ping_interval_ms=400, exam=None)


# -- scenarios ------------------------------------------------------------------------------------


def test_handshake_scenario_plays_the_whole_conversation(fake: tuple[FakeExamApi, BackgroundServer],
                                                         conn_file: Path) -> None:
    api, _ = fake
    metrics = run_scenario(_plan(conn_file, Scenario.HANDSHAKE, 5, per_client_token=True))
    assert not metrics.errors and not api.problems
    assert metrics.counters["handshake ok"] == 5 and len(metrics.latencies["handshake"]) == 5
    assert api.tokens_issued == 5
    assert sorted(metrics.tokens) == sorted(api.connections)
    assert {c.client_id for c in api.connections.values()} == {f"bench-{i}" for i in range(5)}
    assert all(c.status == "CLOSED" and c.put_content_type is None for c in api.connections.values())


@pytest.mark.slow
def test_ping_scenario_counts_pings_follows_instructions_and_quits(fake: tuple[FakeExamApi, BackgroundServer],
                                                                   conn_file: Path) -> None:
    api, _ = fake
    metrics = run_scenario(_plan(conn_file, Scenario.PING, 4, duration=2.0))
    assert not metrics.errors and not api.problems
    assert api.tokens_issued == 1  # shared token
    pings = {int(c.client_id.removeprefix("bench-")): c.pings for c in api.connections.values()}
    assert pings[0] == 2  # stopped pinging on SEB_QUIT
    assert all(3 <= pings[i] <= 6 for i in (1, 2, 3))  # 2 s at 400 ms plus round trips (5 when idle)
    assert metrics.counters["ping ok"] == sum(pings.values()) == len(metrics.latencies["ping"])
    assert metrics.counters["instruction SEB_QUIT"] == metrics.counters["instruction SEB_FORCE_LOCK_SCREEN"] == 1
    assert api.connections["token-1"].confirmed == [LOCK_CONFIRM]  # sent along with the next ping, once
    assert all(c.events == 1 and c.user == f"user-{c.client_id.removeprefix('bench-')}" and c.status == "CLOSED"
               for c in api.connections.values())


def test_logburst_and_bare_scenarios(fake: tuple[FakeExamApi, BackgroundServer], conn_file: Path) -> None:
    api, _ = fake
    metrics = run_scenario(_plan(conn_file, Scenario.LOGBURST, 3, events_per_client=40))
    assert not metrics.errors and not api.problems
    assert metrics.counters["log sent"] == metrics.counters["log ok"] == 120
    assert [c.events for c in api.connections.values()] == [40, 40, 40]
    bare = run_scenario(_plan(conn_file, Scenario.BARE, 3, duration=0.5))
    assert not bare.errors
    assert bare.counters["bare ok"] == api.bare_requests >= 3
    assert len(api.connections) == 3  # bare made no handshakes


@pytest.mark.slow
def test_generator_processes_split_the_clients_and_merge_their_figures(
        fake: tuple[FakeExamApi, BackgroundServer], conn_file: Path) -> None:
    api, _ = fake
    metrics = run_scenario(_plan(conn_file, Scenario.HANDSHAKE, 5), processes=2)
    assert not metrics.errors and metrics.counters["handshake ok"] == 5
    assert api.tokens_issued == 2  # one shared token per process
    assert {c.client_id for c in api.connections.values()} == {f"bench-{i}" for i in range(5)}
    assert metrics.cpu_seconds > 0 and "handshake" in metrics.phases


@pytest.mark.slow
def test_full_run_prints_a_table_and_writes_json(fake: tuple[FakeExamApi, BackgroundServer], conn_file: Path,
                                                 tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    status = main(["full", "--conn-file", str(conn_file), "--clients", "3", "--duration", "1", "--events", "10",
                   "--server-pid", str(os.getpid()), "--json", str(out)])
    doc = json.loads(out.read_text())
    assert status == 0
    assert [r["scenario"] for r in doc["scenarios"]] == ["handshake", "bare", "ping", "logburst"]
    by_name = {r["scenario"]: r for r in doc["scenarios"]}
    assert by_name["handshake"]["headline"]["handshakes_ok"] == 3
    assert by_name["logburst"]["headline"]["events_acked"] == 30
    assert by_name["ping"]["headline"]["instructions"] == {"SEB_QUIT": 1, "SEB_FORCE_LOCK_SCREEN": 1}
    assert by_name["ping"]["server"]["max_rss_mb"] > 10  # this test process stands in for the server
    assert doc["ping_vs_bare_percent"] > 0 and doc["machine"]["cores"] == os.cpu_count()
    assert "ping throughput is" in capsys.readouterr().out


def test_persisted_events_are_counted_for_this_runs_tokens_only(tmp_path: Path) -> None:
    database = tmp_path / "server.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE client_connection (id INTEGER PRIMARY KEY, connection_token TEXT)")
        db.execute("CREATE TABLE client_event (id INTEGER PRIMARY KEY, connection_id INTEGER, text TEXT)")
        db.executemany("INSERT INTO client_connection VALUES (?, ?)", [(1, "mine"), (2, "other")])
        rows = [(1, "bench burst 1 of bench-0"), (1, "bench burst 2 of bench-0"), (1, "Missing Client Ping"),
                (2, "bench burst 1 of bench-9")]
        db.executemany("INSERT INTO client_event (connection_id, text) VALUES (?, ?)", rows)
    count = asyncio.run(count_persisted_events(f"sqlite:///{database}", ["mine"], expected=2, settle_seconds=0))
    assert count == 2
