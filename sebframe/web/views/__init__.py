"""Admin UI routes, one module per screen group."""

from __future__ import annotations

from starlette.routing import BaseRoute

from sebframe.web.views import (
    activity,
    auth,
    certificates,
    config_templates,
    connection_configs,
    exam_configs,
    institutions,
    users,
)


def routes() -> list[BaseRoute]:
    return [*auth.routes, *institutions.routes, *users.routes, *activity.routes, *connection_configs.routes,
            *certificates.routes, *exam_configs.routes, *config_templates.routes]
