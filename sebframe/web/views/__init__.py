"""Admin UI routes, one module per screen group."""

from __future__ import annotations

from starlette.routing import BaseRoute

from sebframe.web.views import (
    activity,
    auth,
    certificates,
    client_logs,
    config_templates,
    connection_configs,
    exam_configs,
    exam_location,
    exam_templates,
    exams,
    institutions,
    lms_lookup,
    lms_setups,
    location_audit,
    location_profiles,
    locations,
    monitoring,
    participation,
    proctoring,
    users,
)


def routes() -> list[BaseRoute]:
    return [*auth.routes, *institutions.routes, *users.routes, *activity.routes, *connection_configs.routes,
            *certificates.routes, *exam_configs.routes, *config_templates.routes,
            *lms_setups.routes, *lms_lookup.routes, *exams.routes, *exam_templates.routes, *monitoring.routes,
            *participation.routes, *client_logs.routes, *locations.routes, *location_profiles.routes,
            *location_audit.routes, *exam_location.routes, *proctoring.routes]
