"""Browser security headers on the responses of the admin UI, the admin API, static files and plugin routes.

HTML pages get a Content Security Policy that allows only this server's own scripts, styles, images and
connections: no inline script or style, no eval (htmx is configured for that in ``base.html``; indicator
colours are set by script through the CSSOM), no framing by any other page (clickjacking; X-Frame-Options for
browsers without CSP 2). Every response gets ``nosniff``, so a browser never reads JSON or an upload as a script
or a page. A header a handler set itself is left alone. The SEB client Exam API runs in front of this (see
``sebframe.app.Server``) and gets none of it: SEB clients are not browsers, and that path stays as short as can be.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob:",  # blob: the preview of a chosen institution logo before it is uploaded
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
_NOSNIFF = (b"x-content-type-options", b"nosniff")
HTML_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    _NOSNIFF,
    (b"referrer-policy", b"same-origin"),  # addresses of admin pages never go to other sites (LMS links)
)
OTHER_HEADERS = (_NOSNIFF,)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {key.lower() for key, _ in headers}
                content_type = next((value for key, value in headers if key.lower() == b"content-type"), b"")
                wanted = HTML_HEADERS if content_type.lower().startswith(b"text/html") else OTHER_HEADERS
                message["headers"] = headers + [header for header in wanted if header[0] not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)
