"""The server-rendered admin UI (Jinja2 + htmx): a Starlette sub-application with server-side sessions and
cross-origin checks."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from sebframe.core.accounts.web_sessions import WebSessions
from sebframe.core.errors import Conflict, NotFound, PermissionDenied
from sebframe.core.services import Services
from sebframe.web.csrf import CrossOriginProtectionMiddleware
from sebframe.web.pages import LoginRequired, login_redirect, render
from sebframe.web.session import BrowserSessionMiddleware
from sebframe.web.templating import create_templates
from sebframe.web.views import routes

STATIC_DIR = Path(__file__).parent / "static"


def create_web_app(services: Services) -> Starlette:
    templates = create_templates(services.plugins.template_dirs())
    services.plugins.prepare_jinja_environment(templates.env)
    settings = services.settings
    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(CrossOriginProtectionMiddleware),
            Middleware(
                BrowserSessionMiddleware,
                secret_key=settings.resolved_secret_key(),
                max_age=settings.session_max_age_seconds,
                proxy_policy=settings.proxy_policy,
                always_secure=settings.https_only_cookies,
            ),
        ],
        exception_handlers={
            LoginRequired: _login_required,
            NotFound: _not_found,
            PermissionDenied: _forbidden,
            Conflict: _conflict,
            404: _not_found,
        },
    )
    app.state.services = services
    app.state.templates = templates
    app.state.web_sessions = WebSessions(services.db, idle_seconds=settings.session_max_age_seconds)
    return app


async def _login_required(request: Request, _exc: Exception) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    return login_redirect(request)


async def _not_found(request: Request, exc: Exception) -> Response:
    message = getattr(exc, "message", None) or "The page or entity does not exist, or you may not see it."
    return await render(request, "error.html", {"title": "Not found", "message": message}, status_code=404)


async def _conflict(request: Request, exc: Exception) -> Response:
    message = getattr(exc, "message", "The change clashes with another one.")
    return await render(request, "error.html", {"title": "Not saved", "message": message}, status_code=409)


async def _forbidden(request: Request, exc: Exception) -> Response:
    message = getattr(exc, "message", "You may not do this.")
    return await render(request, "error.html", {"title": "Not allowed", "message": message}, status_code=403)
