"""Resource endpoints of the admin API, one module per resource; each declares its own ``router``."""

from __future__ import annotations

from sebframe.api.admin.endpoints import (
    activity,
    auth,
    certificates,
    client_logs,
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
    plugins,
    proctoring,
    users,
)
from sebframe.api.admin.routing import ApiRouter


def routers() -> tuple[ApiRouter, ...]:
    """Every endpoint module's router, in the order the OpenAPI document lists them."""
    return (auth.router, institutions.router, users.router, activity.router, certificates.router,
            connection_configs.router, exam_configs.router, exam_templates.router, lms_setups.router,
            lms_lookup.router, exams.router, exam_location.router, proctoring.router, monitoring.router,
            participation.router,
            client_logs.router, locations.router, location_profiles.router, location_audit.router,
            plugins.router)
