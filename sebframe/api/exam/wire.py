"""Raw ASGI request and response helpers of the Exam API: SEB clients send thousands of requests per
second, so this path skips the framework's request objects and validation (measured in ``bench/``)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from sebframe.core.session.text import client_text

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY = 64 * 1024  # the largest thing a SEB client sends is one log event (text cut at 512 chars)
JSON = b"application/json"
JSON_UTF8 = b"application/json;charset=UTF-8"
OCTETS = b"application/octet-stream"


class BodyTooLarge(Exception):
    pass


class Disconnected(Exception):
    pass


def header(scope: Scope, name: bytes) -> str | None:
    """One request header (``name`` lower-case), decoded leniently."""
    headers: Iterable[tuple[bytes, bytes]] = scope["headers"]
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def header_lines(scope: Scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope["headers"] if key == name]


async def read_body(receive: Receive, limit: int = MAX_BODY) -> bytes:
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def form_params(scope: Scope, body: bytes) -> dict[str, str]:
    """Query string and form body merged (the body wins). The Windows client does not URL-encode its values
    (``seb_os_name=Windows 10, Microsoft Windows NT 10.0.19045.0 (x64)``), so parse leniently: any content
    type, UTF-8 with replacement, blank values kept, NUL removed (:func:`client_text`)."""
    params = dict(_pairs(scope.get("query_string", b"")))
    params.update(_pairs(body))
    return params


def _pairs(raw: bytes) -> list[tuple[str, str]]:
    if not raw:
        return []
    return [(client_text(name), client_text(value))
            for name, value in parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True)]


async def respond(send: Send, status: int, body: bytes = b"", content_type: bytes | None = None,
                  headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    raw_headers = [(b"content-length", str(len(body)).encode())]
    if content_type is not None:
        raw_headers.append((b"content-type", content_type))
    raw_headers.extend(headers)
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def respond_json(send: Send, status: int, data: Any, *, content_type: bytes = JSON,
                       headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    await respond(send, status, json.dumps(data).encode(), content_type, headers)


def string_headers(values: Mapping[str, str | None]) -> list[tuple[bytes, bytes]]:
    """Response headers, leaving out absent ones."""
    return [(name.encode(), value.encode("latin-1", errors="replace")) for name, value in values.items() if value]
