"""Cross-origin request protection by Sec-Fetch-Site and Origin headers (no tokens in forms).

Browsers tell the server where a request comes from. A state-changing request is refused when the
browser says it is cross-site, or when the Origin does not match the Host. Requests without either
header come from non-browser clients, which cannot ride on a victim's session cookie.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CrossOriginProtectionMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS and not _same_origin(scope):
            response = PlainTextResponse("cross-origin request refused", status_code=403)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _same_origin(scope: Scope) -> bool:
    headers: dict[str, str] = {key.decode("latin-1").lower(): value.decode("latin-1")
                               for key, value in scope["headers"]}
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is None:
        return True
    host = headers.get("host", "")
    return urlsplit(origin).netloc == host
