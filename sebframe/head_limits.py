"""Limits on request heads, enforced in the server's HTTP protocol before any application code runs.

An ASGI application sees a request only once its head is parsed, so without a limit the server reads,
buffers and parses a head of any size first (a 32 MiB header cost 3 CPU seconds; four of 200 MiB took a
worker from 133 to 648 MB). ``HeadLimitedHttpToolsProtocol`` is uvicorn's httptools protocol counting the
head as the parser reports it: a request target longer than the line limit is answered 414, a header line
longer than it, more header lines than allowed or a head larger than the total 431, at once and for every
route; then the connection is closed.

The parser reports a header only once its line is complete (httptools gathers an unfinished one in
memory), so the raw bytes of an unfinished head are counted as well: an endless header line is refused
after about the line limit, not once the client has sent all of it.

``sebframe serve`` runs uvicorn with this protocol; started otherwise, uvicorn needs
``--http sebframe.head_limits:HeadLimitedHttpToolsProtocol``.
"""

from __future__ import annotations

import asyncio
import functools
import http
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

if TYPE_CHECKING:
    from sebframe.settings import Settings

# Bytes of a line the exact checks do not count but a legitimate raw line holds: method, version, spaces,
# colon, line end. An unfinished line (or head) gets this much more room, so that a request within the
# limits that arrives in several pieces is never refused before the parser has reported its lines.
FRAMING_BYTES = 64
# After the refusal, what the client still sends is read and dropped (for at most this long and this much)
# before the connection closes: closing a socket with unread input resets it, which can destroy the answer.
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 * 1024


@dataclass(frozen=True)
class HeadLimits:
    line_bytes: int  # the request target; a header line: name, ": " and value
    header_count: int
    total_bytes: int  # the request target and every header line with ": " and line end

    @classmethod
    def from_settings(cls, settings: Settings) -> HeadLimits:
        return cls(line_bytes=settings.max_header_line_bytes, header_count=settings.max_header_count,
                   total_bytes=settings.max_request_head_bytes)


@functools.cache
def configured_limits() -> HeadLimits:
    """The limits of this process's settings (``SEBFRAME_MAX_HEADER_LINE_BYTES``, ``..._COUNT``,
    ``SEBFRAME_MAX_REQUEST_HEAD_BYTES``), read once: each worker process of ``sebframe serve --workers N``
    reads them from the environment it inherited, as its app does."""
    from sebframe.settings import Settings

    return HeadLimits.from_settings(Settings())


class _Refusal(Exception):
    """Raised in a parser callback to stop parsing a head that passed a limit."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing request heads that pass ``limits``."""

    limits: ClassVar[HeadLimits | None] = None  # None: ``configured_limits()``

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits = self.limits or configured_limits()
        # Where the parser is: between messages (idle), in a head, or in a body.
        self._in_message = False
        self._in_head = False
        self._begun_in_feed = 0
        # The current head as the parser reported it, exactly ...
        self._target_bytes = 0
        self._header_lines = 0
        self._reported_bytes = 0
        # ... and as raw bytes, for the part not reported yet.
        self._raw_head_bytes = 0
        self._raw_line_bytes = 0
        self._refusal: _Refusal | None = None
        self._answered = False
        self._dropped_bytes = 0
        self._linger: asyncio.TimerHandle | None = None

    # -- parser callbacks ------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_message = self._in_head = True
        self._begun_in_feed += 1
        self._target_bytes = self._header_lines = self._reported_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._target_bytes += len(url)  # called for each piece of the target as it arrives
        if self._target_bytes > self._limits.line_bytes:
            raise _Refusal(414, f"The request target is longer than {self._limits.line_bytes} bytes.")
        self._reported_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        limits = self._limits
        self._header_lines += 1
        if self._header_lines > limits.header_count:
            raise _Refusal(431, f"The request has more than {limits.header_count} header lines.")
        line = len(name) + 2 + len(value)
        if line > limits.line_bytes:
            raise _Refusal(431, f"A request header line is longer than {limits.line_bytes} bytes.")
        self._reported_bytes += line + 2
        if self._reported_bytes > limits.total_bytes:
            raise _Refusal(431, f"The request head is larger than {limits.total_bytes} bytes.")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_message = False
        super().on_message_complete()

    # -- protocol --------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            self._drop(data)
            return
        was_idle, was_in_head = not self._in_message, self._in_head
        self._begun_in_feed = 0
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            refusal = exc.__context__
            if isinstance(refusal, _Refusal):
                self._refuse(refusal)
            else:  # as uvicorn answers what it cannot parse
                message = "Invalid HTTP request received."
                self.logger.warning(message)
                self.send_400_response(message)
            return
        except httptools.HttpParserUpgrade:  # as uvicorn does
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._in_head:
            self._count_raw(data, continued=was_in_head and self._begun_in_feed == 0,
                            started=was_idle and self._begun_in_feed == 1)

    def _count_raw(self, data: bytes, *, continued: bool, started: bool) -> None:
        """Count ``data``, after which the parser is still in a head, as raw head bytes."""
        if continued or started:  # all of data is head
            newline = data.rfind(b"\n")
            self._raw_head_bytes = (self._raw_head_bytes if continued else 0) + len(data)
            unfinished = self._raw_line_bytes if continued else 0
            self._raw_line_bytes = unfinished + len(data) if newline < 0 else len(data) - newline - 1
        else:
            # The head began after an earlier message ended within data, and the parser does not say where:
            # count from the next piece on (data itself is bounded by the size of one read).
            self._raw_head_bytes = self._raw_line_bytes = 0
        limits = self._limits
        if self._raw_line_bytes > limits.line_bytes + FRAMING_BYTES:
            self._refuse(_Refusal(431, f"A request header line is longer than {limits.line_bytes} bytes."))
        elif self._raw_head_bytes > limits.total_bytes + FRAMING_BYTES * (limits.header_count + 1):
            self._refuse(_Refusal(431, f"The request head is larger than {limits.total_bytes} bytes."))

    def _refuse(self, refusal: _Refusal) -> None:
        """Stop reading requests; answer once the responses to earlier (pipelined) requests are out."""
        self._refusal = refusal
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        self.logger.warning("request head from %s refused (%d): %s", client, refusal.status, refusal.message)
        if self._responses_pending():
            self.flow.pause_reading()
        else:
            self._answer()

    def _responses_pending(self) -> bool:
        return bool(self.pipeline) or (self.cycle is not None and not self.cycle.response_complete)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._refusal is not None and not self._responses_pending():
            self._answer()

    def _answer(self) -> None:
        if self._answered or self.transport.is_closing():
            return
        self._answered = True
        self._unset_keepalive_if_required()
        refusal = self._refusal
        assert refusal is not None
        body = refusal.message.encode("ascii")
        lines = [f"HTTP/1.1 {refusal.status} {http.HTTPStatus(refusal.status).phrase}".encode("ascii")]
        lines += [name + b": " + value for name, value in self.server_state.default_headers]
        lines += [b"content-type: text/plain; charset=utf-8", b"content-length: %d" % len(body),
                  b"connection: close", b"", body]
        self.transport.write(b"\r\n".join(lines))
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        # Send the answer and the end of the stream now, read and drop the rest for a while, then close.
        self.transport.write_eof()
        self.flow.resume_reading()
        self._linger = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _drop(self, data: bytes) -> None:
        self._dropped_bytes += len(data)
        if self._dropped_bytes > LINGER_BYTES:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        super().connection_lost(exc)
