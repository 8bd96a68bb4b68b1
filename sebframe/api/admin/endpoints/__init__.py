"""Resource endpoints of the admin API; importing this package registers them on the shared router."""

from sebframe.api.admin.endpoints import activity, institutions, plugins, users

__all__ = ["activity", "institutions", "plugins", "users"]
