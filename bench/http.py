"""A small HTTP/1.1 keep-alive client on raw asyncio, cheap enough to drive thousands of requests/s.

One :class:`HttpConnection` is one TCP connection, used for one request at a time (no pipelining), the
way one SEB client talks to its server. Requests are pre-rendered bytes (:class:`RequestTemplate`);
responses are parsed by :class:`ResponseParser` (Content-Length, chunked, bodiless and read-until-close).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEAD_BYTES = 64 * 1024
_BODILESS_STATUS = (204, 304)


class HttpError(Exception):
    """The server broke the HTTP conversation (malformed response, closed connection, timeout)."""


class ConnectionClosed(HttpError):
    """The connection closed before a whole response arrived."""

    def __init__(self, received_any: bool) -> None:
        super().__init__("connection closed before the response was complete")
        self.received_any = received_any


class ResponseTimeout(HttpError):
    def __init__(self) -> None:
        super().__init__("no complete response in time")


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass(frozen=True)
class ServerAddress:
    """Where a base URL (``sebServerURL``) points; ``resolve`` turns relative locations into request paths."""

    scheme: str
    host: str
    port: int
    base_path: str  # always ends with "/"

    @classmethod
    def parse(cls, url: str) -> ServerAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/") + "/")

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"

    def resolve(self, location: str) -> str:
        """Like the SEB client: locations are relative to the base URL, their leading "/" stripped."""
        if "://" in location:
            parts = urlsplit(location)
            return parts.path + (f"?{parts.query}" if parts.query else "")
        return self.base_path + location.lstrip("/")


class RequestTemplate:
    """Request line and fixed headers rendered once; ``render`` only adds the body."""

    __slots__ = ("_head", "_bodiless")

    def __init__(self, method: str, path: str, host: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *(f"{name}: {value}" for name, value in headers)]
        self._head = ("\r\n".join(lines) + "\r\n").encode("latin-1")
        # a GET has no Content-Length; other methods without a body say 0, like .NET's HttpClient
        self._bodiless = self._head + (b"\r\n" if method == "GET" else b"Content-Length: 0\r\n\r\n")

    def render(self, body: bytes = b"") -> bytes:
        if not body:
            return self._bodiless
        return b"%sContent-Length: %d\r\n\r\n%s" % (self._head, len(body), body)


class ResponseParser:
    """Incremental parser for one response at a time; ``feed`` returns it once complete."""

    __slots__ = ("_buffer", "_status", "_headers", "_length", "_chunked", "_keep_alive", "received_any")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.reset()

    def reset(self) -> None:
        self._buffer.clear()
        self._status = 0
        self._headers: dict[str, str] = {}
        self._length: int | None = None
        self._chunked = False
        self._keep_alive = True
        self.received_any = False

    @property
    def keep_alive(self) -> bool:
        return self._keep_alive

    def feed(self, data: bytes) -> Response | None:
        self.received_any = True
        buffer = self._buffer
        buffer += data
        while not self._status:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD_BYTES:
                    raise HttpError("response head too large")
                return None
            head = buffer[:end].decode("latin-1")
            del buffer[: end + 4]
            self._read_head(head)
        if self._length is not None:
            if len(buffer) < self._length:
                return None
            body = bytes(buffer[: self._length])
        elif self._chunked:
            body = _dechunk(buffer)
            if body is None:
                return None
        else:
            return None  # body runs until the server closes
        return self._complete(body)

    def finish(self) -> Response | None:
        """At end of stream: the response whose body ran until close, if one was being read."""
        if self._status and self._length is None and not self._chunked:
            return self._complete(bytes(self._buffer))
        return None

    def _read_head(self, head: str) -> None:
        status_line, *lines = head.split("\r\n")
        version, _, rest = status_line.partition(" ")
        if not version.startswith("HTTP/1.") or len(rest) < 3 or not rest[:3].isdigit():
            raise HttpError(f"malformed status line {status_line[:80]!r}")
        status = int(rest[:3])
        if status < 200:  # 100 Continue and friends: a final response follows
            return
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self._status = status
        self._headers = headers
        connection = headers.get("connection", "").lower()
        self._keep_alive = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
        if status in _BODILESS_STATUS:
            self._length = 0
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._chunked = True
        elif "content-length" in headers:
            self._length = int(headers["content-length"])
        else:
            self._keep_alive = False

    def _complete(self, body: bytes) -> Response:
        response = Response(self._status, self._headers, body)
        keep_alive = self._keep_alive
        self.reset()  # we never pipeline, so anything left over is junk
        self._keep_alive = keep_alive
        return response


def _dechunk(buffer: bytearray) -> bytes | None:
    """The decoded body once the whole chunked body (with trailers) is in ``buffer``, else None."""
    parts: list[bytes] = []
    pos = 0
    while True:
        eol = buffer.find(b"\r\n", pos)
        if eol < 0:
            return None
        try:
            size = int(bytes(buffer[pos:eol]).split(b";", 1)[0], 16)
        except ValueError:
            raise HttpError("malformed chunk size") from None
        pos = eol + 2
        if size == 0:
            while True:  # trailer lines up to an empty line
                eol = buffer.find(b"\r\n", pos)
                if eol < 0:
                    return None
                if eol == pos:
                    return b"".join(parts)
                pos = eol + 2
        if len(buffer) < pos + size + 2:
            return None
        parts.append(bytes(buffer[pos : pos + size]))
        pos += size + 2


class _Wire(asyncio.Protocol):
    """One TCP connection; a fresh one per reconnect so a late ``connection_lost`` cannot hit its successor."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = ResponseParser()
        self.waiter: asyncio.Future[Response] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            self.close()  # unsolicited bytes: the conversation is out of step
            return
        try:
            response = self.parser.feed(data)
        except HttpError as exc:
            waiter.set_exception(exc)
            self.close()
            return
        if response is not None:
            waiter.set_result(response)
            if not self.parser.keep_alive:
                self.close()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        response = self.parser.finish()
        if response is not None:
            waiter.set_result(response)
        else:
            waiter.set_exception(ConnectionClosed(self.parser.received_any))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, request: bytes, timeout: float) -> Response:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        waiter = self.waiter = loop.create_future()
        self.parser.reset()
        self.transport.write(request)
        timer = loop.call_later(timeout, _expire, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            self.waiter = None
            if not waiter.done() or waiter.cancelled() or waiter.exception() is not None:
                self.close()  # cancelled or failed mid-response: the stream is out of step


def _expire(waiter: asyncio.Future[Response]) -> None:
    if not waiter.done():
        waiter.set_exception(ResponseTimeout())


class HttpConnection:
    """A keep-alive connection to one server that reconnects whenever the server has closed it."""

    __slots__ = ("address", "timeout", "_wire", "_ssl")

    def __init__(self, address: ServerAddress, *, timeout: float = 30.0) -> None:
        self.address = address
        self.timeout = timeout
        self._wire: _Wire | None = None
        self._ssl = ssl.create_default_context() if address.scheme == "https" else None

    @property
    def connected(self) -> bool:
        return self._wire is not None and not self._wire.closed

    async def connect(self) -> None:
        if self.connected:
            return
        loop = asyncio.get_running_loop()
        wire = _Wire()
        connecting = loop.create_connection(lambda: wire, self.address.host, self.address.port, ssl=self._ssl)
        await asyncio.wait_for(connecting, self.timeout)
        self._wire = wire

    async def request(self, request: bytes) -> Response:
        reused = self.connected
        await self.connect()
        assert self._wire is not None
        try:
            return await self._wire.exchange(request, self.timeout)
        except ConnectionClosed as exc:
            if not reused or exc.received_any:
                raise
        # the server closed the idle connection just as we sent: once more on a fresh one, like browsers do
        await self.connect()
        return await self._wire.exchange(request, self.timeout)

    def close(self) -> None:
        if self._wire is not None:
            self._wire.close()
            self._wire = None
