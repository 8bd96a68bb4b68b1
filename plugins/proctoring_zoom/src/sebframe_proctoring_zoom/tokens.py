"""The Meeting SDK JWT SEB clients and proctors join with: Zoom's claim set (``appKey``, ``sdkKey``, ``mn``,
``role``, ``iat``, ``exp``, ``tokenExp``, as in ``zoom/meetingsdk-auth-endpoint-sample``), signed HS256 with the
Meeting SDK app's Client secret. Zoom accepts ``exp - iat`` between 30 minutes and 48 hours."""

from __future__ import annotations

import time
from datetime import datetime

import jwt

MIN_VALIDITY = 1800  # seconds, Zoom's lower bound of exp - iat
MAX_VALIDITY = 48 * 3600  # Zoom's upper bound
CLOCK_LEEWAY = 30  # iat a little in the past: Zoom's clock a little behind ours still takes the token
PARTICIPANT, HOST = 0, 1


def validity(expires_at: datetime, issued: int) -> int:
    """When the token expires: ``expires_at`` (the exam's end plus a margin), kept within Zoom's bounds."""
    wanted = int(expires_at.timestamp())
    return max(issued + MIN_VALIDITY, min(wanted, issued + MAX_VALIDITY))


def sdk_token(client_id: str, client_secret: str, meeting_number: str, *, role: int, expires_at: datetime,
              now: float | None = None) -> str:
    issued = int(time.time() if now is None else now) - CLOCK_LEEWAY
    expires = validity(expires_at, issued)
    claims = {"appKey": client_id, "sdkKey": client_id, "mn": meeting_number, "role": role, "iat": issued,
              "exp": expires, "tokenExp": expires}
    return jwt.encode(claims, client_secret, algorithm="HS256", headers={"typ": "JWT"})
