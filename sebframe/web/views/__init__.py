"""Admin UI routes, one module per screen group."""

from __future__ import annotations

from starlette.routing import BaseRoute

from sebframe.web.views import auth


def routes() -> list[BaseRoute]:
    return [*auth.routes]
