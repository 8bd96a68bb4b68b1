"""Jitsi JWTs: SEB Server's claim set for self-hosted Jitsi (with ``exp`` in seconds, as RFC 7519 wants, not
SEB Server's milliseconds), and 8x8 JaaS's (RS256, ``kid``, ``aud: jitsi``, ``context.user.moderator``)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import jwt

from sebframe_proctoring_jitsi.settings import JAAS, JitsiSettings

NOT_BEFORE_LEEWAY = 10  # seconds: a meeting server's clock a little behind ours still takes the token


def make_token(settings: JitsiSettings, server_url: str, room: str, *, name: str, moderator: bool,
               expires_at: datetime, user_id: str = "", now: float | None = None) -> str:
    expires = int(expires_at.timestamp())
    if settings.deployment == JAAS:
        return _jaas_token(settings, room, name=name, moderator=moderator, expires=expires, user_id=user_id,
                           now=now if now is not None else time.time())
    assert settings.app_secret is not None
    claims: dict[str, Any] = {
        "context": {"user": {"name": name}},
        "moderator": moderator,  # the token-moderation plugin SEB Server's docs name
        "aud": settings.audience or "jitsi",
        "iss": settings.issuer or settings.app_id,
        "sub": settings.subject or (urlsplit(server_url).hostname or "").lower(),
        "room": room,
        "exp": expires,
    }
    return jwt.encode(claims, settings.app_secret.get_secret_value(), algorithm="HS256",
                      headers={"typ": "JWT"})


def _jaas_token(settings: JitsiSettings, room: str, *, name: str, moderator: bool, expires: int, user_id: str,
                now: float) -> str:
    assert settings.private_key is not None
    claims = {
        "aud": settings.audience or "jitsi",
        "iss": settings.issuer or "chat",
        "sub": settings.subject or settings.app_id,
        "room": room,
        "exp": expires,
        "nbf": int(now) - NOT_BEFORE_LEEWAY,
        "context": {"user": {"id": user_id or name, "name": name, "moderator": "true" if moderator else "false"},
                    "features": {"livestreaming": "false", "recording": "false", "transcription": "false",
                                 "outbound-call": "false"}},
    }
    return jwt.encode(claims, settings.private_key.get_secret_value(), algorithm="RS256",
                      headers={"kid": f"{settings.app_id}/{settings.key_id}", "typ": "JWT"})
