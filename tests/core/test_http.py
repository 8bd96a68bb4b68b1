"""Connection failures of integrations are explained by cause, against real sockets on 127.0.0.1."""

from __future__ import annotations

import socket

import httpx
import pytest

from sebframe import create_http_client, describe_http_failure

pytestmark = pytest.mark.anyio


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _failure(url: str):  # type: ignore[no-untyped-def]
    async with create_http_client(timeout=httpx.Timeout(2.0)) as client:
        try:
            (await client.get(url)).raise_for_status()
        except Exception as exc:
            return describe_http_failure(exc, url)
    raise AssertionError("request unexpectedly succeeded")


async def test_refused() -> None:
    result = await _failure(f"http://127.0.0.1:{_closed_port()}/")
    assert not result.ok and result.error_kind == "refused"


async def test_unknown_host() -> None:
    result = await _failure("http://no-such-host.invalid/")
    assert result.error_kind == "dns" and "cannot be found" in result.message


def test_status_errors() -> None:
    request = httpx.Request("GET", "http://lms/")
    for status, kind in ((401, "unauthorized"), (404, "api"), (500, "api")):
        exc = httpx.HTTPStatusError("x", request=request, response=httpx.Response(status, request=request))
        result = describe_http_failure(exc, "http://lms/")
        assert result.error_kind == kind and str(status) in result.message


def test_malformed_json() -> None:
    result = describe_http_failure(ValueError("Expecting value: line 1"), "http://lms/api")
    assert result.error_kind == "api" and "not the expected API" in result.message
