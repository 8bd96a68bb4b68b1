"""Resource endpoints of the admin API; importing this package registers them on the shared router."""

from sebframe.api.admin.endpoints import (
    activity,
    certificates,
    connection_configs,
    exam_configs,
    institutions,
    plugins,
    users,
)

__all__ = ["activity", "certificates", "connection_configs", "exam_configs", "institutions", "plugins", "users"]
