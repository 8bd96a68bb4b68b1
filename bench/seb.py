"""One simulated SEB client: the Windows client's conversation with the Exam API (protocol spec §4 and §10).

Every request is timed into ``Metrics`` under its step name; a failed request is counted as
``"<step>: HTTP <status>"`` or ``"<step>: <exception>"``. Handshake steps stop the conversation on
failure (:class:`StepFailed`); pings, logs and the closing calls carry on, like the real client does.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from dataclasses import dataclass
from time import perf_counter

from .connfile import ConnectionSettings
from .http import HttpConnection, HttpError, RequestTemplate, Response, ServerAddress
from .metrics import Metrics

ACCEPT = ("Accept", "application/json, */*")
FORM = ("Content-Type", "application/x-www-form-urlencoded")
JSON = ("Content-Type", "application/json; charset=UTF-8")
OS_NAME = "Windows 10, Microsoft Windows NT 10.0.19045.0 (x64)"
SEB_VERSION = "3.8.0 (x64)"
TOKEN_BODY = b"grant_type=client_credentials&scope=read write"  # literal space, as the client sends it
DISCOVERY_NAMES = {
    "access-token-endpoint": "token",
    "seb-handshake-endpoint": "handshake",
    "seb-configuration-endpoint": "examconfig",
    "seb-ping-endpoint": "ping",
    "seb-log-endpoint": "log",
}
# Text of the log-burst events, so the database count finds exactly this run's events.
BURST_TEXT = "bench burst"


class StepFailed(Exception):
    """A handshake step failed (already counted in the metrics)."""


@dataclass(frozen=True)
class ExamApi:
    """Request paths of the Exam API endpoints, as announced by discovery."""

    token: str
    handshake: str
    examconfig: str
    ping: str
    log: str

    @classmethod
    def from_discovery(cls, address: ServerAddress, body: bytes) -> ExamApi:
        document = json.loads(body)
        for version in document.get("api-versions") or ():
            if version.get("name") == "v1":
                found = {DISCOVERY_NAMES[e["name"]]: address.resolve(e["location"])
                         for e in version.get("endpoints") or () if e.get("name") in DISCOVERY_NAMES}
                if len(found) == len(DISCOVERY_NAMES):
                    return cls(**found)
        raise ValueError("the discovery document lacks some of the five v1 endpoints")


class TokenSource:
    """The bearer token: fetched once per generator process and shared (clients of one connection
    configuration get the same token from the server anyway), or fetched by every client."""

    def __init__(self, per_client: bool) -> None:
        self.per_client = per_client
        self._token: str | None = None
        self._lock = asyncio.Lock()

    async def get(self, client: SebClient) -> str:
        if self.per_client:
            return await client.fetch_token()
        if self._token is None:
            async with self._lock:
                if self._token is None:
                    self._token = await client.fetch_token()
        return self._token


class SebClient:
    def __init__(self, index: int, settings: ConnectionSettings, address: ServerAddress, metrics: Metrics,
                 tokens: TokenSource, *, timeout: float) -> None:
        self.index = index
        self.settings = settings
        self.address = address
        self.metrics = metrics
        self.tokens = tokens
        self.http = HttpConnection(address, timeout=timeout)
        self.api: ExamApi | None = None
        self.access_token = ""
        self.connection_token = ""
        self.exam_id = ""
        self.quit_requested = False
        self.disconnected = False
        self._ping_step = "ping"
        self._ping: RequestTemplate | None = None
        self._log: RequestTemplate | None = None
        self._ping_number = 0
        self._log_number = 0
        self._confirm = b""  # "&instruction-confirm=N" owed to the server on the next ping

    # -- requests ----------------------------------------------------------------------------------

    async def _send(self, step: str, request: bytes, expect: tuple[int, ...] = (200,)) -> Response | None:
        metrics = self.metrics
        started = perf_counter()
        try:
            response = await self.http.request(request)
        except (HttpError, OSError) as exc:  # TimeoutError and connection errors are OSErrors
            metrics.errors[f"{step}: {type(exc).__name__}"] += 1
            return None
        metrics.samples(step).append(perf_counter() - started)
        if response.status not in expect:
            metrics.errors[f"{step}: HTTP {response.status}"] += 1
            return None
        metrics.counters[f"{step} ok"] += 1
        return response

    async def _step(self, step: str, request: bytes) -> Response:
        response = await self._send(step, request)
        if response is None:
            raise StepFailed(step)
        return response

    def _template(self, method: str, path: str, *headers: tuple[str, str]) -> RequestTemplate:
        auth = ("Authorization", f"Bearer {self.access_token}")
        connection = ("SEBConnectionToken", self.connection_token)
        return RequestTemplate(method, path, self.address.host_header, (ACCEPT, auth, connection, *headers))

    # -- handshake ---------------------------------------------------------------------------------

    async def establish(self) -> None:
        """Discovery up to the PUT that makes the connection READY; the whole of it is the "handshake" step."""
        started = perf_counter()
        await self.discover()
        self.access_token = await self.tokens.get(self)
        await self.open_connection()
        await self.download_exam_config()
        await self.select_exam()
        self.metrics.samples("handshake").append(perf_counter() - started)
        self.metrics.counters["handshake ok"] += 1

    async def discover(self) -> None:
        path = self.address.resolve(self.settings.discovery)
        response = await self._step("discovery", RequestTemplate("GET", path, self.address.host_header,
                                                                 (ACCEPT,)).render())
        try:
            self.api = ExamApi.from_discovery(self.address, response.body)
        except (ValueError, TypeError, AttributeError, KeyError):
            self.metrics.errors["discovery: unusable document"] += 1
            raise StepFailed("discovery") from None

    async def fetch_token(self) -> str:
        assert self.api is not None
        secret = f"{self.settings.client_name}:{self.settings.client_secret}".encode()
        basic = ("Authorization", "Basic " + base64.b64encode(secret).decode("ascii"))
        request = RequestTemplate("POST", self.api.token, self.address.host_header, (ACCEPT, basic, FORM))
        response = await self._step("token", request.render(TOKEN_BODY))
        try:
            return str(json.loads(response.body)["access_token"])
        except (ValueError, TypeError, KeyError):
            self.metrics.errors["token: no access_token"] += 1
            raise StepFailed("token") from None

    async def open_connection(self) -> None:
        assert self.api is not None
        exam = self.settings.exam
        body = (f"institutionId={self.settings.institution}&client_id=bench-{self.index}"
                f"&seb_machine_name=PC-{self.index}&seb_os_name={OS_NAME}&seb_version={SEB_VERSION}"
                + (f"&examId={exam}" if exam else ""))
        request = self._template("POST", self.api.handshake, FORM).render(body.encode())
        response = await self._step("handshake POST", request)
        self.connection_token = response.headers.get("sebconnectiontoken", "")
        try:
            exams = json.loads(response.body)
            self.exam_id = exam or str(exams[0]["examId"])
        except (ValueError, TypeError, KeyError, IndexError):
            self.metrics.errors["handshake POST: no running exam"] += 1
            raise StepFailed("handshake POST") from None
        if not self.connection_token:
            self.metrics.errors["handshake POST: no SEBConnectionToken"] += 1
            raise StepFailed("handshake POST")
        self.metrics.tokens.append(self.connection_token)
        self._ping = self._template("POST", self.api.ping, FORM)
        self._log = self._template("POST", self.api.log, JSON)

    async def download_exam_config(self) -> None:
        assert self.api is not None
        path = f"{self.api.examconfig}?examId={self.exam_id}"
        await self._step("examconfig", self._template("GET", path).render())

    async def select_exam(self) -> None:
        assert self.api is not None
        await self._step("handshake PATCH", self._template("PATCH", self.api.handshake, FORM)
                         .render(f"examId={self.exam_id}".encode()))
        await self._step("handshake PUT", self._template("PUT", self.api.handshake).render())  # no body, no type

    async def prepare_bare(self, path: str) -> None:
        """For the bare scenario: ping requests of the same shape (real bearer token) aimed at ``path``."""
        await self.discover()
        self.access_token = await self.tokens.get(self)
        self.connection_token = str(uuid.uuid4())
        self._ping_step = "bare"
        self._ping = self._template("POST", path, FORM)

    # -- running exam ------------------------------------------------------------------------------

    async def ping(self) -> None:
        assert self._ping is not None
        self._ping_number += 1
        body = b"timestamp=%d&ping-number=%d%s" % (time.time_ns() // 1_000_000, self._ping_number, self._confirm)
        self._confirm = b""
        response = await self._send(self._ping_step, self._ping.render(body), (200, 204))
        if response is not None and response.status == 200 and response.body:
            self._follow(response.body)

    def _follow(self, body: bytes) -> None:
        try:
            instruction = json.loads(body)
            kind = str(instruction["instruction"])
        except (ValueError, TypeError, KeyError):
            self.metrics.errors["ping: unreadable instruction"] += 1
            return
        self.metrics.counters[f"instruction {kind}"] += 1
        attributes = instruction.get("attributes")
        if isinstance(attributes, dict) and attributes.get("instruction-confirm"):
            self._confirm = b"&instruction-confirm=" + str(attributes["instruction-confirm"]).encode()
        if kind == "SEB_QUIT":
            self.quit_requested = True

    async def log(self, text: str = "bench log") -> bool:
        """One INFO_LOG event; True if the server acknowledged it with 204."""
        assert self._log is not None
        self._log_number += 1
        body = b'{"type":"INFO_LOG","timestamp":%d,"text":"%s %d of bench-%d"}' % (
            time.time_ns() // 1_000_000, text.encode(), self._log_number, self.index)
        self.metrics.counters["log sent"] += 1
        return await self._send("log", self._log.render(body), (204,)) is not None

    async def identify_user(self) -> None:
        """The PATCH the client sends once the LMS tells it the user (makes the connection ACTIVE)."""
        assert self.api is not None
        body = f"examId={self.exam_id}&seb_user_session_id=user-{self.index}".encode()
        await self._send("user PATCH", self._template("PATCH", self.api.handshake, FORM).render(body))

    async def disconnect(self) -> None:
        if self.disconnected or self.api is None or not self.connection_token:
            return
        self.disconnected = True
        await self._send("handshake DELETE", self._template("DELETE", self.api.handshake, FORM)
                         .render(b"delete=true"))
        self.http.close()

    def close(self) -> None:
        self.http.close()
