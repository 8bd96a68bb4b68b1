"""Resource endpoints of the admin API; importing this package registers them on the shared router."""

from sebframe.api.admin.endpoints import (
    activity,
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
    users,
)

__all__ = ["activity", "certificates", "client_logs", "connection_configs", "exam_configs", "exam_location",
           "exam_templates", "exams", "institutions", "lms_lookup", "lms_setups", "location_audit", "location_profiles",
           "locations", "monitoring", "participation", "plugins", "users"]
