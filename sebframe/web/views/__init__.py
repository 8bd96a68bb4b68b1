"""Admin UI routes, one module per screen group."""

from __future__ import annotations

from starlette.routing import BaseRoute

from sebframe.web.views import activity, auth, institutions, users


def routes() -> list[BaseRoute]:
    return [*auth.routes, *institutions.routes, *users.routes, *activity.routes]
