"""The ASGI application: admin UI, admin API, static files and plugin routes, with start-up hooks."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from sebframe.api.admin import create_admin_api
from sebframe.api.exam import ExamApi, is_exam_api_path
from sebframe.api.exam.app import BENCH_PATH
from sebframe.api.location_check import create_location_check_api
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.web import STATIC_DIR, create_web_app
from sebframe.web.headers import SecurityHeadersMiddleware
from sebframe.web.templating import compile_templates

log = logging.getLogger(__name__)


class Server:
    """The SEB client Exam API in front of the Starlette application, so SEB clients' requests skip the
    framework's middleware; everything else (and the lifespan) goes to Starlette."""

    def __init__(self, exam_api: ExamApi, app: Starlette) -> None:
        self.exam_api = exam_api
        self.app = app
        self.state = app.state

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and (is_exam_api_path(scope["path"]) or scope["path"] == BENCH_PATH):
            await self.exam_api(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def api_mount(path: str, app: Any, name: str) -> Mount:
    """A mount that owns every path under its prefix: Starlette's pattern stops at a newline (``%0A``) in the
    path, and such a request fell through to the web UI's text 404 instead of the API's JSON error."""
    mount = Mount(path, app=app, name=name)
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    return mount


def create_app(settings: Settings | None = None, services: Services | None = None) -> Server:
    """Build the server. Pass ``services`` to share them (tests); otherwise they are built from settings."""
    if services is None:
        services = Services.create(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.plugins.startup(app, services.startup_context())
        await services.sessions.runtime.start()  # live SEB connections: batched writes, sync between processes
        await services.locations.profiles.trusted_proxy_overlaps()  # warns of proxies inside exam rooms
        await services.locations.audit.note_proxy_configuration(services.settings.proxy_description)
        services.exams.refresher.start()  # exam data from the LMSs, status and SEB restriction lifecycle
        # Indicator values of running exams kept current, so a supervisor's first view needs no history fold.
        warming = asyncio.create_task(services.monitoring.warm_forever(), name="sebframe-monitoring-warm")
        compiling = asyncio.create_task(compile_templates(web.state.templates.env), name="sebframe-templates")
        try:
            yield
        finally:
            warming.cancel()
            compiling.cancel()
            await services.close()

    web = create_web_app(services)
    plugin_routes: list[BaseRoute] = services.plugins.routes()
    app = Starlette(
        routes=[
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
            api_mount("/admin-api/v1", create_admin_api(services), "admin-api"),
            api_mount("/api/v1", create_location_check_api(services), "public-api"),
            *plugin_routes,
            Mount("/", app=web, name="web"),
        ],
        middleware=[Middleware(SecurityHeadersMiddleware)],  # CSP and friends; the Exam API is not behind it
        lifespan=lifespan,
    )
    app.state.services = services
    return Server(ExamApi(services, bench_endpoint=services.settings.bench_endpoint), app)
