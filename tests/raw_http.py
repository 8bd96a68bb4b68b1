"""HTTP/1.1 over a plain socket, for tests that need what an HTTP client library hides: pipelining, a head
sent in pieces or without end, and whether the server closed the connection."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def request_head(target: str = "/", headers: Iterable[tuple[str, str]] = (), *, method: str = "GET") -> bytes:
    """A request head with ``Host: test`` as its first header line."""
    lines = [f"{method} {target} HTTP/1.1", "Host: test", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class RawConnection:
    def __init__(self, port: int, *, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_lines_unfinished_first(self, data: bytes, pause: float = 0.005) -> None:
        """Send ``data`` in pieces that end just before each line end, pausing between, so that the server
        reads every line of the head unfinished first."""
        for index, part in enumerate(data.split(b"\r\n")):
            self.sock.sendall((b"\r\n" if index else b"") + part)
            time.sleep(pause)

    def stream(self, first: bytes, piece: bytes, limit: int) -> int:
        """Send ``first``, then ``piece`` again and again until ``limit`` bytes are sent or the server stops
        taking them (closed, reset, or nothing taken for a few seconds); returns the bytes sent."""
        self.sock.sendall(first)
        sent = len(first)
        self.sock.settimeout(3.0)
        try:
            while sent < limit:
                self.sock.sendall(piece)
                sent += len(piece)
        except OSError:  # BrokenPipe, ConnectionReset, or a timeout: the server is not reading any more
            pass
        self.sock.settimeout(10.0)
        return sent

    def response(self) -> Response:
        status_line = self.reader.readline()
        assert status_line, "the connection closed without a response"
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        assert "content-length" in headers, headers  # every response here has one
        return Response(status, headers, self.reader.read(int(headers["content-length"])))

    def closed_by_server(self) -> bool:
        """Whether the server closed the connection (waits up to the timeout for it)."""
        try:
            return self.reader.read(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


@contextmanager
def connection(port: int) -> Iterator[RawConnection]:
    raw = RawConnection(port)
    try:
        yield raw
    finally:
        raw.close()
