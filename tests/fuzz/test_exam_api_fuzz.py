"""A bounded garbage fuzz of the whole Exam API (issue #13): random and malformed bodies, content types,
headers and tokens on every route, with valid and invalid credentials. Never a 5xx, except the 500s SEB Server
answers every failure of ``GET /exam-api/v1/examconfig`` with (``reference/seb-client-protocol.md`` §7), never
an error logged, never a bystander's event lost; valid clients still work afterwards.

Deterministic (``derandomize``) and bounded (a fixed number of requests, well under a minute on SQLite), so it
runs in every CI run of the normal suite (``make test``), on each database. Requests go straight into the ASGI
application, so headers and bodies can be what no HTTP client library would send.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from sebframe.api.exam.discovery import (
    CONFIG_PATH,
    DISCOVERY_PATH,
    HANDSHAKE_PATH,
    LOG_PATH,
    PING_PATH,
    TOKEN_PATH,
)
from sebframe.app import create_app
from sebframe.core.db.models import ClientEvent
from sebframe.core.plugins import PluginRegistry
from sebframe.core.services import Services
from sebframe.settings import Settings
from tests.conftest import empty_tables
from tests.seb_client import SebClient, SebWorld, build_seb_world

EXAMPLES = 1500  # requests: about 30 s on SQLite on a 2-core machine

ROUTES = [("GET", DISCOVERY_PATH), ("POST", TOKEN_PATH), ("POST", HANDSHAKE_PATH), ("PATCH", HANDSHAKE_PATH),
          ("PUT", HANDSHAKE_PATH), ("DELETE", HANDSHAKE_PATH), ("GET", CONFIG_PATH), ("POST", PING_PATH),
          ("POST", LOG_PATH)]
ODD_ROUTES = [("OPTIONS", HANDSHAKE_PATH), ("GET", LOG_PATH), ("POST", "/exam-api/v1/sebping/"),
              ("POST", "/exam-api/v2/handshake"), ("HEAD", DISCOVERY_PATH), ("POST", "/oauth/token/../token")]
FIELDS = ["institutionId", "examId", "client_id", "seb_machine_name", "seb_os_name", "seb_version",
          "seb_user_session_id", "seb_signature_key", "instruction-confirm", "grant_type", "scope", "timestamp",
          "ping-number", "delete"]
EVENT_KEYS = ["type", "timestamp", "numericValue", "text"]
CONTENT_TYPES = [b"application/x-www-form-urlencoded", b"application/json", b"application/json;charset=UTF-8",
                 b"application/json; charset=utf-16", b"text/plain", b"image/png", b"multipart/form-data; boundary=x",
                 b"", b"\x00\xff;;;charset=", b"application/x-www-form-urlencoded; charset=latin-1"]
EXAMCONFIG_CODES = {"0", "1001", "1002", "1010", "1700"}  # SEB Server's documented failures; 1100 is a crash


class Credential(Enum):
    """Placeholders for what only exists at run time: replaced in :meth:`Fuzz.send`."""

    VALID_BEARER = "valid bearer"
    VALID_BASIC = "valid basic"
    INSTITUTION = "the institution id"
    RUNNING_EXAM = "the running exam's id"


@dataclass(frozen=True)
class Victim:
    """The connection token of one of the fuzz's own clients (created only, ready, or active)."""

    number: int


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each as often as its weight."""
    return st.sampled_from([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(
        lambda strategy: strategy)


# -- garbage ---------------------------------------------------------------------------------------------------

ODD_TEXT = st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d\ude00", "\ufeff", "\u202e", "é", "\r\n", "%",
                            "&", "=", "+", "\\", '"', "'", "<raisehand>", "<lockscreen>", "<battery>", "1e309",
                            "-0", "NaN", "Infinity", "null", "9" * 30, " ", "", "1", "3.8.0 (x64)", "Windows 10"])
TEXT = weighted((2, st.text(max_size=40)), (1, st.text(st.characters(codec=None, exclude_categories=()), max_size=20)),
               (3, st.lists(ODD_TEXT, min_size=1, max_size=5).map("".join)))
NUMBER_TEXT = st.one_of(st.integers(-(2**80), 2**80).map(str), st.sampled_from(["1", "0", "-1", " 1 ", "١٢",
                                                                                "1_000", "0x10", "1.5", "1e3"]))
FIELD_VALUE = weighted((3, TEXT), (2, NUMBER_TEXT), (2, st.just(Credential.INSTITUTION)),
                       (2, st.just(Credential.RUNNING_EXAM)), (1, st.text(max_size=3).map(lambda text: text * 300)))
FIELD_NAME = weighted((4, st.sampled_from(FIELDS)), (1, TEXT))
RAW_BYTES = st.binary(max_size=300)
FORM = st.builds(lambda pairs, encode: ("form", pairs, encode), st.lists(st.tuples(FIELD_NAME, FIELD_VALUE),
                                                                       max_size=8), st.booleans())
SIGNATURE_KEY = st.one_of(TEXT, st.binary(max_size=64).map(lambda raw: base64.b64encode(raw).decode()))
# The Windows client's handshake form, with any of its values garbage: gets past the first checks.
CLIENT_FORM = st.builds(
    lambda fields, encode: ("form", list(fields.items()), encode),
    st.fixed_dictionaries(
        {"institutionId": weighted((4, st.just(Credential.INSTITUTION)), (1, FIELD_VALUE)),
         "client_id": TEXT, "seb_machine_name": TEXT, "seb_os_name": weighted((1, TEXT), (1, st.just("Windows 10"))),
         "seb_version": weighted((1, TEXT), (1, st.just("3.8.0 (x64)")))},
        optional={"examId": weighted((4, st.just(Credential.RUNNING_EXAM)), (1, FIELD_VALUE)),
                  "seb_user_session_id": TEXT, "seb_signature_key": SIGNATURE_KEY,
                  "instruction-confirm": NUMBER_TEXT}),
    st.booleans())
TOKEN_FORM = st.builds(
    lambda fields, encode: ("form", list(fields.items()), encode),
    st.fixed_dictionaries({"grant_type": weighted((3, st.just("client_credentials")), (1, TEXT)),
                           "scope": weighted((3, st.just("read write")), (1, TEXT))}), st.booleans())
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), TEXT,
                        st.sampled_from(list(range(-2, 9)) + ["INFO_LOG", "ERROR_LOG", "NOTIFICATION",
                                                              "NOTIFICATION_CONFIRMED", "warn_log", "LAST_PING"]))
JSON_VALUE = st.recursive(JSON_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                              st.dictionaries(TEXT, inner, max_size=4)),
                          max_leaves=12)
EVENT_TYPE = weighted((3, st.sampled_from(["INFO_LOG", "ERROR_LOG", "WARN_LOG", "DEBUG_LOG", "NOTIFICATION",
                                            "NOTIFICATION_CONFIRMED"])), (1, JSON_SCALAR))
# What the Windows client sends, with any of its values garbage: stored, or a notification.
LOG_EVENT = st.fixed_dictionaries(
    {"type": EVENT_TYPE, "text": weighted((3, TEXT), (1, JSON_VALUE),
                                          (1, st.sampled_from(["<raisehand> ", "<lockscreen>", "<battery> "])
                                           .flatmap(lambda tag: TEXT.map(lambda text: tag + text))))},
    optional={"timestamp": JSON_SCALAR, "numericValue": weighted((2, st.integers(-5, 5)), (1, JSON_SCALAR))},
).map(lambda event: ("json", event))
EVENT = st.dictionaries(weighted((4, st.sampled_from(EVENT_KEYS)), (1, TEXT)), JSON_VALUE, max_size=6).map(
    lambda event: ("json", event))
RAW_JSON = st.sampled_from([
    b'{"type":"ERROR_LOG","text":"x\\ud800"}', b'{"type":"INFO_LOG","text":"\\u0000"}',
    b'{"type":"INFO_LOG","text":"raw \xed\xa0\x80 \xff"}', b'{"type":"NOTIFICATION","numericValue":1e999,'
    b'"text":"<raisehand> hi"}', b'{"type":"NOTIFICATION","numericValue":1e14,"text":"<lockscreen>\\u0000"}',
    b'{"type":"NOTIFICATION_CONFIRMED","numericValue":-1e15}', b'{"type":4,"timestamp":' + b"9" * 400 + b"}",
    b'{"type":"INFO_LOG","timestamp":1e400}', b"[" * 5000 + b"]" * 5000, b'{"a":' * 2000 + b"1" + b"}" * 2000,
    b"\xef\xbb\xbf{}", b"\x00" * 50, b'{"type":"INFO_LOG","text":"' + b"\xf0\x9f\x98\x80" * 600 + b'"}',
    b'{"type":NaN,"timestamp":Infinity}', b'{"text":"' + b"a" * 65_000 + b'"}',
]).map(lambda raw: ("raw", raw))
RAW_BODY = st.one_of(st.just(("raw", b"")), RAW_BYTES.map(lambda raw: ("raw", raw)),
                     st.just(("raw", b"x" * 70_000)))
QUERY = weighted((3, st.just(b"")), (1, RAW_BYTES),
                 (2, st.lists(st.tuples(FIELD_NAME, FIELD_VALUE), max_size=3).map(lambda pairs: ("form", pairs,
                                                                                                 True))))
GARBAGE_BEARER = st.one_of(st.builds(lambda text: b"Bearer " + text, RAW_BYTES),
                           st.sampled_from([b"Bearer", b"Bearer ", b"bearer   x", b"BEARER \x00", b"Basic Og==",
                                            b"Bearer " + b"a" * 9000, b"Token abc"]))
GARBAGE_BASIC = st.one_of(st.builds(lambda raw: b"Basic " + base64.b64encode(raw), RAW_BYTES),
                          st.builds(lambda user, secret: b"Basic " + base64.b64encode(user + b":" + secret),
                                    st.binary(max_size=20), st.binary(max_size=20)),
                          st.sampled_from([b"Basic", b"Basic ===", b"Basic \xff\xfe", b"basic " + b"QQ==" * 3000]))
VICTIMS = 6
CONNECTION_TOKEN = weighted((6, st.integers(0, VICTIMS - 1).map(Victim)), (1, RAW_BYTES),
                            (1, st.uuids().map(lambda value: str(value).encode())),
                            (1, st.sampled_from([b"", b"   ", b"\x00", b"a" * 64, b"a" * 65, b"\xe9t\xe9"])))
HEADER_NAME = st.one_of(st.sampled_from([b"x-forwarded-for", b"forwarded", b"x-real-ip", b"user-agent",
                                         b"accept", b"content-length", b"transfer-encoding", b"host"]),
                        st.binary(min_size=1, max_size=20))
HEADER_VALUE = st.one_of(RAW_BYTES, st.sampled_from([b"1.2.3.4, \x00, [::1]:80", b'for="[2001:db8::1]";by=x',
                                                     b"10.0.0.7", b"9" * 20_000]))
EXTRA_HEADERS = st.lists(st.tuples(HEADER_NAME, HEADER_VALUE), max_size=4)


@dataclass(frozen=True)
class Garbage:
    method: str
    path: str
    authorization: Any
    connection_tokens: list[Any]
    content_type: bytes | None
    headers: list[tuple[bytes, bytes]]
    query: Any
    body: Any
    chunks: int


@st.composite
def garbage(draw: st.DrawFn) -> Garbage:
    """Mostly requests with valid credentials and garbage inside (that is where the logic is), the rest garbage
    throughout."""
    method, path = draw(weighted((12, st.sampled_from(ROUTES)), (1, st.sampled_from(ODD_ROUTES))))
    if path == TOKEN_PATH:
        authorization = draw(weighted((3, st.just(Credential.VALID_BASIC)), (2, GARBAGE_BASIC), (1, st.none())))
    else:
        authorization = draw(weighted((6, st.just(Credential.VALID_BEARER)), (2, GARBAGE_BEARER), (1, GARBAGE_BASIC),
                                      (1, st.none())))
    if path == LOG_PATH:
        body = draw(weighted((6, LOG_EVENT), (2, EVENT), (3, RAW_JSON), (1, FORM), (1, RAW_BODY)))
    elif path == TOKEN_PATH:
        body = draw(weighted((3, TOKEN_FORM), (2, FORM), (1, RAW_BODY)))
    else:
        body = draw(weighted((3, CLIENT_FORM), (3, FORM), (1, EVENT), (1, RAW_JSON), (2, RAW_BODY)))
    tokens = draw(weighted((8, st.lists(CONNECTION_TOKEN, min_size=1, max_size=1)),
                           (1, st.lists(CONNECTION_TOKEN, max_size=3))))
    return Garbage(method, path, authorization, tokens, draw(st.one_of(st.none(), st.sampled_from(CONTENT_TYPES))),
                   draw(EXTRA_HEADERS), draw(QUERY), body, draw(st.sampled_from([1] * 6 + [2, 7, 0])))


# -- the server ------------------------------------------------------------------------------------------------

async def asgi_request(app: Any, method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]],
                       body: bytes, chunks: int) -> tuple[int, bytes]:
    """One request straight into the ASGI application, headers and body as raw as a server could pass them
    (an HTTP client library refuses many of them), the body in ``chunks`` parts; ``chunks`` 0: the client
    goes away after the first part (status 0: no answer)."""
    size = max(1, -(-len(body) // (chunks or 2)))
    parts = [body[start:start + size] for start in range(0, len(body), size)] or [b""]
    messages: list[dict[str, Any]] = [{"type": "http.request", "body": part, "more_body": number < len(parts) - 1}
                                      for number, part in enumerate(parts)]
    if chunks == 0:
        messages = [{**messages[0], "more_body": True}, {"type": "http.disconnect"}]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "",
             "headers": [(b"host", b"testserver"), *((name.lower(), value) for name, value in headers)],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    status = 0
    answer: list[bytes] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # as a server: nothing more until the client goes away
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            answer.append(message.get("body", b""))

    await app(scope, receive, send)
    assert status or chunks == 0, "no response"
    return status, b"".join(answer)


class Fuzz:
    def __init__(self, services: Services, app: Any, http: httpx.AsyncClient, world: SebWorld,
                 bystander: SebClient) -> None:
        self.services = services
        self.app = app
        self.http = http
        self.world = world
        self.bystander = bystander
        self.bystander_events = 0
        self.victims: list[SebClient] = []
        self.answers: Counter[tuple[str, str, int]] = Counter()

    async def victim(self, number: int) -> SebClient:
        """A client at one of three stages of the handshake: created, established, with an LMS user."""
        victim = SebClient(self.http, self.world, name=f"victim-{number}")
        if number % 3 == 0:
            assert (await victim.fetch_token()).status_code == 200
            assert (await victim.create()).status_code == 200
        else:
            await victim.connect(user=f"user-{number}" if number % 3 == 2 else None)
        return victim

    def _value(self, value: Any) -> bytes:
        if isinstance(value, Credential):
            return {Credential.VALID_BEARER: f"Bearer {self.bystander.access_token}".encode(),
                    Credential.VALID_BASIC: b"Basic " + base64.b64encode(
                        f"{self.world.client_id}:{self.world.client_secret}".encode()),
                    Credential.INSTITUTION: str(self.world.institution_id).encode(),
                    Credential.RUNNING_EXAM: str(self.world.exam_id).encode()}[value]
        if isinstance(value, Victim):
            return (self.victims[value.number].connection_token or "").encode()
        if isinstance(value, str):
            return value.encode("utf-8", "surrogatepass")
        return bytes(value)

    def _content(self, spec: Any) -> bytes:
        if isinstance(spec, bytes):
            return spec
        kind = spec[0]
        if kind == "raw":
            return spec[1]
        if kind == "json":
            return json.dumps(spec[1], ensure_ascii=True).encode()
        pairs, encode = spec[1], spec[2]
        if encode:
            return b"&".join(quote_from_bytes(self._value(name)).encode() + b"=" + quote_from_bytes(
                self._value(value)).encode() for name, value in pairs)
        return b"&".join(self._value(name) + b"=" + self._value(value) for name, value in pairs)  # as Windows

    async def send(self, request: Garbage) -> None:
        headers: list[tuple[bytes, bytes]] = []
        if request.authorization is not None:
            headers.append((b"authorization", self._value(request.authorization)))
        headers += [(b"sebconnectiontoken", self._value(token)) for token in request.connection_tokens]
        if request.content_type is not None:
            headers.append((b"content-type", request.content_type))
        headers += request.headers
        query = quote_from_bytes(self._content(request.query), safe="=&%+").encode()
        garbage_call = asgi_request(self.app, request.method, request.path, query, headers,
                                    self._content(request.body), request.chunks)
        if request.path == LOG_PATH:  # a bystander's event shares the group commit with the garbage
            (status, body), logged = await asyncio.gather(garbage_call, self.bystander.log(
                {"type": "INFO_LOG", "timestamp": self.bystander_events, "text": "bystander"}))
            assert logged.status_code == 204, logged.text
            self.bystander_events += 1
        else:
            status, body = await garbage_call
        self.answers[request.method, request.path, status] += 1
        first_token = request.connection_tokens[0] if request.connection_tokens else None
        if request.method == "DELETE" and status == 200 and isinstance(first_token, Victim):
            self.victims[first_token.number] = await self.victim(first_token.number)  # closed: a new one
        if status >= 500:
            assert (request.method, request.path) == ("GET", CONFIG_PATH), (status, body)
            messages = json.loads(body)
            assert isinstance(messages, list) and messages[0]["messageCode"] in EXAMCONFIG_CODES, messages

    async def still_working(self) -> None:
        fresh = SebClient(self.http, self.world, name="after-the-fuzz")
        await fresh.connect()
        assert (await fresh.ping()).status_code in (200, 204)
        assert (await fresh.log({"type": "ERROR_LOG", "timestamp": 1, "text": "still here"})).status_code == 204
        assert (await self.bystander.ping()).status_code == 204
        assert (await self.bystander.log({"type": "INFO_LOG", "text": "bystander"})).status_code == 204
        async with self.services.db.read() as session:
            texts = list((await session.execute(select(ClientEvent.text))).scalars())
        assert texts.count("still here") == 1
        assert texts.count("bystander") == self.bystander_events + 1  # every acknowledged event is stored


async def _start(settings: Settings, data_dir: Path) -> tuple[Fuzz, httpx.AsyncClient]:
    services = Services.create(settings, PluginRegistry.load(settings, load_entrypoints=False))
    app = create_app(services=services)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    world = await build_seb_world(services, data_dir)
    bystander = SebClient(http, world, name="bystander")
    await bystander.connect(user="bystander-user")
    fuzz = Fuzz(services, app, http, world, bystander)
    fuzz.victims = [await fuzz.victim(number) for number in range(VICTIMS)]
    return fuzz, http


async def _stop(fuzz: Fuzz, http: httpx.AsyncClient) -> None:
    await http.aclose()
    try:
        await empty_tables(fuzz.services.db)
    finally:
        await fuzz.services.close()


def test_garbage_on_every_exam_api_route(settings: Settings, tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
    settings = settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]})  # forwarding headers are read
    with asyncio.Runner() as runner:
        fuzz, http = runner.run(_start(settings, tmp_path / "seb"))
        try:
            @hypothesis_settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                                 phases=[Phase.explicit, Phase.generate, Phase.shrink],
                                 suppress_health_check=list(HealthCheck))
            @given(garbage())
            def throw(request: Garbage) -> None:
                runner.run(fuzz.send(request))

            with caplog.at_level(logging.ERROR, logger="sebframe"):
                throw()
            assert not [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
            succeeded = {(method, path) for method, path, status in fuzz.answers if 200 <= status < 300}
            assert succeeded >= set(ROUTES), sorted(fuzz.answers.items())  # garbage got into every route's logic
            runner.run(fuzz.still_working())
        finally:
            runner.run(_stop(fuzz, http))
