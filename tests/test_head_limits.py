"""Request-head limits in the HTTP protocol, against a real uvicorn server on 127.0.0.1 (small limits, a
minimal app); ``test_cli_serve.py`` checks them on every route of ``sebframe serve``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from sebframe.head_limits import HeadLimitedHttpToolsProtocol, HeadLimits, configured_limits
from sebframe.testing.fakes._server import BackgroundServer
from tests.raw_http import RawConnection, connection, request_head

LIMITS = HeadLimits(line_bytes=1024, header_count=10, total_bytes=4096)
HOST_LINE = len("Host") + 2 + len("test") + 2  # request_head's first header line, as the total counts it


class SmallLimits(HeadLimitedHttpToolsProtocol):
    limits = LIMITS
    bytes_read: ClassVar[int] = 0  # what the server read from all connections

    def data_received(self, data: bytes) -> None:
        type(self).bytes_read += len(data)
        super().data_received(data)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body, answers how many header lines the request had."""
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    body = str(len(scope["headers"])).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = BackgroundServer(app, "head-limits", http=SmallLimits, lifetime=300)
    server.start()
    try:
        yield server.port
    finally:
        server.stop()


def headers_totalling(total: int, count: int) -> list[tuple[str, str]]:
    """``count`` header lines after Host which, with Host and the target "/", make a head of ``total`` bytes
    as the limit counts it (name, ": ", value and line end of each line, plus the target)."""
    room = total - len("/") - HOST_LINE
    names = [f"X-{index:02d}" for index in range(count)]
    values = [room // count - len(name) - 4 for name in names]
    values[-1] += room - sum(len(name) + value + 4 for name, value in zip(names, values, strict=True))
    return [(name, "v" * value) for name, value in zip(names, values, strict=True)]


def at_limit(kind: str, over: int) -> bytes:
    """A request exactly at one limit (``over`` = 0) or ``over`` past it."""
    line = LIMITS.line_bytes
    if kind == "target":
        return request_head("/" + "t" * (line - 1 + over))
    if kind == "line":
        return request_head(headers=[("X-Long", "v" * (line - len("X-Long") - 2 + over))])
    if kind == "count":
        return request_head(headers=[(f"X-{index}", "v") for index in range(LIMITS.header_count - 1 + over)])
    assert kind == "total"
    return request_head(headers=headers_totalling(LIMITS.total_bytes + over, LIMITS.header_count - 1))


@pytest.mark.parametrize(("kind", "status", "message"), [
    ("target", 414, b"The request target is longer than 1024 bytes."),
    ("line", 431, b"A request header line is longer than 1024 bytes."),
    ("count", 431, b"The request has more than 10 header lines."),
    ("total", 431, b"The request head is larger than 4096 bytes."),
])
def test_a_head_at_a_limit_is_served_one_past_it_refused(port: int, kind: str, status: int, message: bytes) -> None:
    with connection(port) as within:
        within.send(at_limit(kind, 0))
        assert within.response().status == 200
    with connection(port) as past:
        past.send(at_limit(kind, 1))
        refused = past.response()
        assert (refused.status, refused.body, refused.headers["connection"]) == (status, message, "close")
        assert past.closed_by_server()


def test_a_head_within_the_limits_arriving_in_pieces_is_served(port: int) -> None:
    # Unfinished lines are judged by their raw bytes; a line or head at the limit must still get through.
    head = request_head("/" + "t" * (LIMITS.line_bytes - 1),
                        headers_totalling(LIMITS.total_bytes - LIMITS.line_bytes + 1, LIMITS.header_count - 1))
    with connection(port) as raw:
        raw.send_lines_unfinished_first(head)
        assert raw.response().status == 200


def test_each_request_of_a_keep_alive_connection_has_its_own_limits(port: int) -> None:
    full = request_head(headers=headers_totalling(LIMITS.total_bytes, LIMITS.header_count - 1))
    with connection(port) as raw:
        for _ in range(3):
            raw.send(full)
            response = raw.response()
            assert (response.status, response.body) == (200, b"10")
            assert "connection" not in response.headers  # kept alive


def test_pipelined_requests_are_answered_in_order_up_to_a_refused_one(port: int) -> None:
    full = request_head(headers=headers_totalling(LIMITS.total_bytes, LIMITS.header_count - 1))
    with connection(port) as raw:
        raw.send(full * 3)
        assert [raw.response().status for _ in range(3)] == [200, 200, 200]
        raw.send(full + full + at_limit("line", 1) + full)
        assert [raw.response().status for _ in range(3)] == [200, 200, 431]
        assert raw.closed_by_server()  # the request after the refused one is not answered


def stream_endlessly(raw: RawConnection, first: bytes, piece: bytes) -> tuple[int, int]:
    """Stream an endless head; returns (bytes the client got rid of, bytes the server read)."""
    SmallLimits.bytes_read = 0
    sent = raw.stream(first, piece, limit=64 * 1024 * 1024)
    return sent, SmallLimits.bytes_read


@pytest.mark.parametrize(("piece", "message"), [
    (b"x" * 4096, b"A request header line is longer than 1024 bytes."),
    (b"X-Again: v\r\n" * 300, b"The request has more than 10 header lines."),
])
def test_an_endless_head_is_refused_after_about_the_limit(port: int, piece: bytes, message: bytes) -> None:
    with connection(port) as raw:
        sent, read = stream_endlessly(raw, b"GET / HTTP/1.1\r\nHost: test\r\nX-Endless: ", piece)
        refused = raw.response()
        assert (refused.status, refused.body) == (431, message)
        assert raw.closed_by_server()
    # The server stops at the limit plus what one read brings (up to 256 KiB) and a bounded linger.
    assert read < 1024 * 1024, read
    assert sent < 32 * 1024 * 1024, sent  # not the 64 MiB the client meant to send


def test_an_endless_head_pipelined_after_a_body_is_refused_too(port: int) -> None:
    # The second head starts in the same read as the first request's body: its start is not known exactly.
    post = request_head(method="POST", headers=[("Content-Length", "5")]) + b"hello"
    with connection(port) as raw:
        sent, read = stream_endlessly(raw, post + b"GET / HTTP/1.1\r\nHost: test\r\nX-Endless: ", b"x" * 4096)
        assert raw.response().status == 200
        assert raw.response().status == 431
        assert raw.closed_by_server()
    assert read < 1024 * 1024, read


def test_an_unparseable_request_is_still_answered_400(port: int) -> None:
    with connection(port) as raw:
        raw.send(b"NOT HTTP AT ALL\r\n\r\n")
        assert raw.response().status == 400
        assert raw.closed_by_server()


def test_without_limits_of_its_own_the_protocol_takes_those_of_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # What each worker process of `sebframe serve --workers N` does, with the environment it inherited.
    monkeypatch.setenv("SEBFRAME_MAX_HEADER_LINE_BYTES", "2048")
    monkeypatch.setenv("SEBFRAME_MAX_HEADER_COUNT", "20")
    monkeypatch.setenv("SEBFRAME_MAX_REQUEST_HEAD_BYTES", "10000")
    configured_limits.cache_clear()
    try:
        assert HeadLimitedHttpToolsProtocol.limits is None
        assert configured_limits() == HeadLimits(line_bytes=2048, header_count=20, total_bytes=10000)
    finally:
        configured_limits.cache_clear()
