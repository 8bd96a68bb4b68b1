"""The admin UI's two cookies: the session token and the flash messages.

The session cookie holds only the random token of a server-side session (``core.accounts.web_sessions``); the
handlers look it up, start it at sign-in and end it at sign-out through :class:`BrowserSession`, and this
middleware writes the cookie back when that changed. Flash messages (shown once on the next page, e.g. after a
redirect, also to signed-out browsers) travel in a second cookie, signed so no one else can write them.

Both cookies are HttpOnly and SameSite=Lax. They are Secure when the request came over HTTPS: TLS to this
server, a trusted proxy's forwarded protocol (the same trusted proxies as for client addresses), or the
``https_only_cookies`` setting. Then they carry the ``__Host-`` prefix too, so no other host of the site (a
sibling subdomain) can plant a session or a message in the browser.
"""

from __future__ import annotations

import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from typing import Any

import itsdangerous
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sebframe.core import net
from sebframe.core.net import ProxyPolicy

SESSION_COOKIE = "sebframe_session"
FLASH_COOKIE = "sebframe_flash"
SECURE_PREFIX = "__Host-"  # browsers accept such a cookie only Secure, from this host, for path /
FLASH_MAX_AGE = 600  # seconds: a message waits at most this long for the page that shows it
_SCOPE_KEY = "sebframe.browser_session"


class BrowserSession:
    """What this request's cookies say, and what the response must write back."""

    def __init__(self, token: str | None, messages: list[list[str]]) -> None:
        self.token = token
        self.messages = messages
        self.token_changed = False
        self.renew = False  # the session's expiry moved on: send the cookie again with a fresh Max-Age
        self.messages_changed = False

    def start(self, token: str) -> None:
        self.token, self.token_changed = token, True

    def end(self) -> None:
        if self.token is not None:  # the browser forgets the cookie it sent
            self.token, self.token_changed = None, True

    def flash(self, kind: str, text: str) -> None:
        self.messages = [*self.messages, [kind, text]]
        self.messages_changed = True

    def take_messages(self) -> list[list[str]]:
        messages, self.messages = self.messages, []
        self.messages_changed = self.messages_changed or bool(messages)
        return messages


def browser_session(connection: HTTPConnection) -> BrowserSession:
    state: BrowserSession = connection.scope[_SCOPE_KEY]
    return state


class BrowserSessionMiddleware:
    def __init__(self, app: ASGIApp, *, secret_key: str, max_age: int, proxy_policy: ProxyPolicy,
                 always_secure: bool = False) -> None:
        self.app = app
        self.signer = itsdangerous.TimestampSigner(secret_key, salt="sebframe.flash")
        self.max_age = max_age
        self.proxy_policy = proxy_policy
        self.always_secure = always_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        secure = self._secure(scope)
        prefix = SECURE_PREFIX if secure else ""
        cookies = _cookies(scope)
        state = BrowserSession(cookies.get(prefix + SESSION_COOKIE) or None,
                               self._messages(cookies.get(prefix + FLASH_COOKIE)))
        scope[_SCOPE_KEY] = state

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.add_vary_header("Cookie")
                if state.token_changed or (state.renew and state.token):
                    headers.append("set-cookie", _cookie(prefix + SESSION_COOKIE, state.token or "",
                                                         self.max_age if state.token else 0, secure))
                if state.messages_changed:
                    value = self._sign(state.messages) if state.messages else ""
                    headers.append("set-cookie", _cookie(prefix + FLASH_COOKIE, value,
                                                         FLASH_MAX_AGE if state.messages else 0, secure))
            await send(message)

        await self.app(scope, receive, send_with_cookies)

    def _secure(self, scope: Scope) -> bool:
        if self.always_secure or scope.get("scheme") in ("https", "wss"):
            return True
        client = scope.get("client")
        return net.forwarded_https(client[0] if client else None, scope["headers"], self.proxy_policy)

    def _sign(self, messages: list[list[str]]) -> str:
        return self.signer.sign(urlsafe_b64encode(json.dumps(messages).encode())).decode()

    def _messages(self, value: str | None) -> list[list[str]]:
        """The messages of a flash cookie; none when it is missing, too old, or not signed by this server."""
        if not value:
            return []
        try:
            data: Any = json.loads(urlsafe_b64decode(self.signer.unsign(value, max_age=FLASH_MAX_AGE)))
        except (itsdangerous.BadSignature, ValueError):
            return []
        if not isinstance(data, list):
            return []
        return [[kind, text] for kind, text in (item for item in data if isinstance(item, list) and len(item) == 2)
                if isinstance(kind, str) and isinstance(text, str)]


def _cookies(scope: Scope) -> dict[str, str]:
    for key, value in scope["headers"]:
        if key == b"cookie":
            return cookie_parser(value.decode("latin-1"))
    return {}


def _cookie(name: str, value: str, max_age: int, secure: bool) -> str:
    return f"{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
