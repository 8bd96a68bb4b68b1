"""A Jitsi Meet stand-in for tests: a token checker that applies the rules of Jitsi's token authentication
(lib-jitsi-meet ``doc/tokens.md``, Prosody's ``token_util``: signature, ``iss``, ``aud``, ``exp``, ``nbf``,
``room``, ``sub``, string-valued ``context.user``) and a meeting server that serves a stub ``external_api.js``.

The checker is stricter than Prosody in one point, on purpose: an ``exp`` more than ten years ahead is refused
as "milliseconds, not seconds" (SEB Server's mistake; Prosody would take such a token as never expiring).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sebframe.testing.fakes._server import BackgroundServer

TEN_YEARS = 10 * 365 * 24 * 3600


class TokenRejected(Exception):
    """Jitsi would refuse the token; the message says why."""


@dataclass(frozen=True)
class CheckedToken:
    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def moderator(self) -> bool:
        """Moderator by the token-moderation plugin's top-level claim, or JaaS's ``context.user.moderator``."""
        user = self.claims.get("context", {}).get("user", {})
        value = self.claims.get("moderator", user.get("moderator", False))
        return value is True or value == "true"

    @property
    def user_name(self) -> str | None:
        name: str | None = self.claims.get("context", {}).get("user", {}).get("name")  # checked: a string
        return name


@dataclass
class JitsiTokenChecker:
    """Prosody's view of a token: ``secret`` for HS256 (``app_secret``), or ``public_keys`` by ``kid`` for RS256
    (what an ``asap_key_server`` serves). ``issuers``/``audiences`` are ``asap_accepted_issuers``/``_audiences``
    (``*`` accepts any); ``domain`` the meeting domain ``sub`` must name (or the tenant, for TENANT/ROOM)."""

    domain: str
    secret: str | None = None
    public_keys: Mapping[str, Any] = field(default_factory=dict)
    issuers: Collection[str] = ("*",)
    audiences: Collection[str] = ("*",)

    def check(self, token: str, room: str, *, tenant: str | None = None, now: float | None = None) -> CheckedToken:
        now = time.time() if now is None else now
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"not a JWT: {exc}") from None
        algorithm = header.get("alg")
        if self.secret is not None:
            if algorithm != "HS256":
                raise TokenRejected(f"algorithm {algorithm!r}, expected HS256")
            key: Any = self.secret
        else:
            if algorithm != "RS256":
                raise TokenRejected(f"algorithm {algorithm!r}, expected RS256")
            kid = header.get("kid")
            if not kid:
                raise TokenRejected("RS256 token without a 'kid' header")
            if kid not in self.public_keys:
                raise TokenRejected(f"no public key for kid {kid!r}")
            key = self.public_keys[kid]
        try:
            claims = jwt.decode(token, key, algorithms=[algorithm],
                                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                                         "verify_aud": False, "verify_iss": False})
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"signature: {exc}") from None
        self._claims(claims, room, tenant, now)
        return CheckedToken(header, claims)

    def _claims(self, claims: dict[str, Any], room: str, tenant: str | None, now: float) -> None:
        if "*" not in self.issuers and claims.get("iss") not in self.issuers:
            raise TokenRejected(f"issuer {claims.get('iss')!r} not accepted")
        if "*" not in self.audiences and claims.get("aud") not in self.audiences:
            raise TokenRejected(f"audience {claims.get('aud')!r} not accepted")
        expires = claims.get("exp")
        if not isinstance(expires, int | float):
            raise TokenRejected("no 'exp' claim")
        if expires > now + TEN_YEARS:
            raise TokenRejected("'exp' is milliseconds, not seconds (RFC 7519 NumericDate)")
        if expires <= now:
            raise TokenRejected("token expired")
        not_before = claims.get("nbf")
        if isinstance(not_before, int | float) and not_before > now:
            raise TokenRejected("token not valid yet ('nbf')")
        if claims.get("room") not in (room, "*"):
            raise TokenRejected(f"room {claims.get('room')!r} is not {room!r}")
        subject = claims.get("sub")
        expected = (tenant or self.domain).lower()
        if subject != "*" and subject != expected:
            raise TokenRejected(f"subject {subject!r} is not {expected!r}")
        user = claims.get("context", {}).get("user", {})
        if not isinstance(user, dict):
            raise TokenRejected("'context.user' is not an object")
        for name, value in user.items():
            if name != "moderator" and not isinstance(value, str):
                raise TokenRejected(f"'context.user.{name}' must be a string")


# A stand-in for the meeting server's IFrame API: it records how it was called (``window.jitsiStub``) and puts a
# marker into the page instead of a meeting.
STUB_EXTERNAL_API = """
window.jitsiStub = {calls: []};
window.JitsiMeetExternalAPI = function (domain, options) {
  window.jitsiStub.calls.push({domain: domain, options: options});
  var frame = document.createElement('div');
  frame.id = 'jitsi-stub-meeting';
  frame.textContent = 'meeting ' + options.roomName;
  (options.parentNode || document.body).appendChild(frame);
  this.executeCommand = function (name, value) { window.jitsiStub.calls.push({command: name, value: value}); };
  this.addListener = function () {};
};
"""


class FakeJitsi:
    """A meeting server on 127.0.0.1 serving ``/external_api.js`` (also under a tenant path, as JaaS does);
    ``status`` makes it answer with an error instead."""

    def __init__(self, *, status: int = 200, lifetime: float = 120.0) -> None:
        self.status = status
        self.requests: list[str] = []
        self.app = Starlette(routes=[Route("/external_api.js", self._script),
                                     Route("/{tenant}/external_api.js", self._script)])
        self._background = BackgroundServer(self.app, "fake-jitsi", http="h11", lifetime=lifetime)

    async def _script(self, request: Request) -> Response:
        self.requests.append(request.url.path)
        if self.status != 200:
            return PlainTextResponse("not here", status_code=self.status)
        return Response(STUB_EXTERNAL_API, media_type="application/javascript")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._background.port}"

    def start(self) -> FakeJitsi:
        self._background.start()
        return self

    def stop(self) -> None:
        self._background.stop()

    def __enter__(self) -> FakeJitsi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
