"""Outbound HTTP for integrations: one client factory, and failures explained in words an admin can act on."""

from __future__ import annotations

import ssl

import httpx

from sebframe.types import ConnectionTestResult

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "sebframe"


def create_http_client(
    *, proxy: str | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT, verify: bool | ssl.SSLContext = True
) -> httpx.AsyncClient:
    """The client integrations use; ``proxy`` is e.g. ``http://user:pw@proxy:3128``."""
    return httpx.AsyncClient(
        proxy=proxy, timeout=timeout, verify=verify, follow_redirects=False, headers={"User-Agent": USER_AGENT}
    )


def describe_http_failure(exc: Exception, url: str) -> ConnectionTestResult:
    """Turn a transport or status error into a failed ``ConnectionTestResult`` naming the likely cause."""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status in (401, 403):
            return ConnectionTestResult.failure(
                "unauthorized", f"{url} refused the credentials (HTTP {status}); check the client id and secret"
            )
        if status == 404:
            return ConnectionTestResult.failure(
                "api", f"{url} has no such API (HTTP 404); check the URL and that the LMS plugin is installed"
            )
        return ConnectionTestResult.failure("api", f"{url} answered HTTP {status}")
    if isinstance(exc, httpx.TimeoutException):
        return ConnectionTestResult.failure("timeout", f"{url} did not answer in time")
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text \
                or "name resolution" in text:
            return ConnectionTestResult.failure("dns", f"the host of {url} cannot be found (DNS)")
        if "certificate" in text or "ssl" in text or "tls" in text:
            return ConnectionTestResult.failure("tls", f"the TLS certificate of {url} is not trusted: {exc}")
        return ConnectionTestResult.failure("refused", f"cannot connect to {url}: connection refused or unreachable")
    if isinstance(exc, httpx.HTTPError):
        return ConnectionTestResult.failure("api", f"request to {url} failed: {exc}")
    if isinstance(exc, ValueError):  # JSON decoding and shape errors
        return ConnectionTestResult.failure("api", f"{url} answered something that is not the expected API: {exc}")
    return ConnectionTestResult.failure("api", f"request to {url} failed: {type(exc).__name__}: {exc}")
