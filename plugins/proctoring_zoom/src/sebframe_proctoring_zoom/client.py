"""Zoom's REST API with Server-to-Server OAuth.

- The access token (``grant_type=account_credentials``, HTTP Basic with the app's client id and secret; Zoom
  gives no refresh token) is cached per app and account, across exams and calls, until under 60 s are left;
  a 401 gets one new token and one retry (a token can be revoked early, e.g. by a new one of another process).
- A 429 is retried after ``Retry-After`` when that is within ``max_retry_wait``; a longer wait fails at once
  with the time to wait, so a request never goes out before Zoom allows it.
- A 5xx, and a transport error of an idempotent request, is retried a bounded number of times with a growing
  pause.
- Failures are :class:`ZoomError` with a message in words (transport errors stay ``httpx`` errors, for
  ``sebframe.describe_http_failure``); neither the secret nor a token is ever in one.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

TOKEN_RENEW_BEFORE = 60.0  # seconds: a token with less left is not used
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})


class ZoomError(Exception):
    """A Zoom request failed; ``status`` is the HTTP status (0: no answer), ``code`` Zoom's error code."""

    def __init__(self, message: str, *, status: int = 0, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass
class _Token:
    value: str
    expires: float  # time.monotonic()


# One token per (OAuth base, account, client id, secret): every exam with the same app shares it.
_tokens: dict[tuple[str, str, str, str], _Token] = {}
_locks: dict[tuple[str, str, str, str], asyncio.Lock] = {}


def forget_tokens() -> None:
    """Drop every cached token (tests; a process that rotated a secret)."""
    _tokens.clear()


def _zoom_message(response: httpx.Response) -> tuple[str, int | None]:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip(), None
    if not isinstance(body, dict):
        return "", None
    code = body.get("code")
    text = body.get("message") or body.get("reason") or body.get("error") or ""
    return str(text)[:300], code if isinstance(code, int) else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class ZoomClient:
    def __init__(self, http: httpx.AsyncClient, *, oauth_url: str, api_url: str, account_id: str, client_id: str,
                 client_secret: str, retries: int = 3, retry_wait: float = 0.5, max_retry_wait: float = 10.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.http = http
        self.oauth_url = oauth_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self.account_id = account_id
        self.client_id = client_id
        self._secret = client_secret
        self.retries = retries
        self.retry_wait = retry_wait
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        digest = hashlib.sha256(client_secret.encode()).hexdigest()
        self._key = (self.oauth_url, account_id, client_id, digest)

    # -- token ----------------------------------------------------------------------------------

    async def token(self, *, renew: str | None = None) -> str:
        """The cached token, or a new one; ``renew`` names a token Zoom refused (another caller may have
        replaced it already)."""
        lock = _locks.setdefault(self._key, asyncio.Lock())
        async with lock:
            cached = _tokens.get(self._key)
            if cached is not None and cached.value != renew and cached.expires - time.monotonic() > TOKEN_RENEW_BEFORE:
                return cached.value
            _tokens.pop(self._key, None)
            fresh = await self._fetch_token()
            _tokens[self._key] = fresh
            return fresh.value

    async def _fetch_token(self) -> _Token:
        url = f"{self.oauth_url}/oauth/token"
        basic = base64.b64encode(f"{self.client_id}:{self._secret}".encode()).decode()
        response = await self._send("POST", url, params={"grant_type": "account_credentials",
                                                         "account_id": self.account_id},
                                    headers={"Authorization": f"Basic {basic}"}, what="getting an OAuth token")
        if response.status_code in (400, 401, 403):
            text, _ = _zoom_message(response)
            raise ZoomError(f"Zoom refused the Server-to-Server OAuth credentials (HTTP {response.status_code}"
                            f"{': ' + text if text else ''}); check the account id, client id and secret",
                            status=response.status_code)
        self._expect(response, 200, "getting an OAuth token")
        try:
            body = response.json()
            value, lifetime = str(body["access_token"]), float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise ZoomError(f"{url} answered without an access token: is it Zoom's OAuth endpoint?",
                            status=response.status_code) from None
        return _Token(value, time.monotonic() + lifetime)

    # -- requests -------------------------------------------------------------------------------

    async def request(self, method: str, path: str, *, json: Mapping[str, Any] | None = None,
                      params: Mapping[str, str] | None = None, what: str) -> httpx.Response:
        """An API request with the token; a refused token is renewed once."""
        token = await self.token()
        response = await self._send(method, f"{self.api_url}{path}", json=json, params=params,
                                    headers={"Authorization": f"Bearer {token}"}, what=what)
        if response.status_code == 401:
            token = await self.token(renew=token)
            response = await self._send(method, f"{self.api_url}{path}", json=json, params=params,
                                        headers={"Authorization": f"Bearer {token}"}, what=what)
        return response

    async def _send(self, method: str, url: str, *, what: str, json: Mapping[str, Any] | None = None,
                    params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
                    ) -> httpx.Response:
        failures = 0
        while True:
            try:
                response = await self.http.request(method, url, json=json, params=params,
                                                   headers={"Accept": "application/json", **(headers or {})})
            except httpx.HTTPError:
                if method in IDEMPOTENT and failures < self.retries:
                    failures += 1
                    await self._sleep(self.retry_wait * 2 ** (failures - 1))
                    continue
                raise  # the caller words it (sebframe.describe_http_failure)
            if response.status_code == 429:
                wait = _retry_after(response)
                if wait is None:
                    wait = self.retry_wait * 2 ** failures
                if wait > self.max_retry_wait or failures >= self.retries:
                    raise ZoomError(f"{what}: Zoom's rate limit is reached; it allows the next request in "
                                    f"{wait:.0f} s", status=429)
                failures += 1
                await self._sleep(wait)
                continue
            if response.status_code >= 500 and failures < self.retries:
                failures += 1
                await self._sleep(self.retry_wait * 2 ** (failures - 1))
                continue
            return response

    @staticmethod
    def _expect(response: httpx.Response, status: int | tuple[int, ...], what: str) -> None:
        wanted = (status,) if isinstance(status, int) else status
        if response.status_code in wanted:
            return
        text, code = _zoom_message(response)
        hint = ""
        if response.status_code == 401:
            hint = "; the app's token was refused twice: check its scopes and that it is activated"
        elif response.status_code == 403 or code == 200:
            hint = "; the app lacks a scope or the account lacks the privilege"
        raise ZoomError(f"{what}: Zoom answered HTTP {response.status_code}"
                        f"{f' (code {code})' if code is not None else ''}{': ' + text if text else ''}{hint}",
                        status=response.status_code, code=code)

    async def call(self, method: str, path: str, *, what: str, expect: int | tuple[int, ...] = 200,
                   json: Mapping[str, Any] | None = None, params: Mapping[str, str] | None = None) -> Any:
        """A request whose answer must have status ``expect``; its JSON (``None`` for an empty body)."""
        response = await self.request(method, path, json=json, params=params, what=what)
        self._expect(response, expect, what)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ZoomError(f"{what}: Zoom's answer is not JSON", status=response.status_code) from None
