"""All mapped tables; importing this package registers them on ``Base.metadata`` (Alembic needs that)."""

from sebframe.core.db.models.accounts import (
    ActivityLogEntry,
    ApiToken,
    Institution,
    LoginFailure,
    UserAccount,
    UserRoleGrant,
)

__all__ = ["ActivityLogEntry", "ApiToken", "Institution", "LoginFailure", "UserAccount", "UserRoleGrant"]
