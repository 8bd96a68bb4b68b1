"""All mapped tables; importing this package registers them on ``Base.metadata`` (Alembic needs that)."""

from sebframe.core.db.models.accounts import (
    ActivityLogEntry,
    ApiToken,
    Institution,
    LoginFailure,
    UserAccount,
    UserRoleGrant,
    WebSession,
)
from sebframe.core.db.models.exams import (
    Exam,
    ExamConfigurationMapping,
    ExamSupporter,
    ExamTemplate,
    Indicator,
    LmsSetup,
)
from sebframe.core.db.models.location import (
    ConnectionLocation,
    ExamLocationPolicy,
    ExamLocationProfile,
    Location,
    LocationAuditRecord,
    LocationException,
    LocationOverride,
    LocationProfile,
    LocationProfileVersion,
)
from sebframe.core.db.models.sebconfig import (
    Certificate,
    ConnectionConfiguration,
    ExamConfiguration,
    ExamConfigurationRevision,
)
from sebframe.core.db.models.session import (
    ClientConnection,
    ClientEvent,
    ClientInstruction,
    ClientNotification,
    ExamApiToken,
    SessionLease,
)

__all__ = [
    "ActivityLogEntry",
    "ApiToken",
    "Certificate",
    "ClientConnection",
    "ClientEvent",
    "ClientInstruction",
    "ClientNotification",
    "ConnectionConfiguration",
    "ConnectionLocation",
    "Exam",
    "ExamApiToken",
    "ExamConfiguration",
    "ExamConfigurationMapping",
    "ExamConfigurationRevision",
    "ExamLocationPolicy",
    "ExamLocationProfile",
    "ExamSupporter",
    "ExamTemplate",
    "Indicator",
    "Institution",
    "LmsSetup",
    "Location",
    "LocationAuditRecord",
    "LocationException",
    "LocationOverride",
    "LocationProfile",
    "LocationProfileVersion",
    "LoginFailure",
    "SessionLease",
    "UserAccount",
    "UserRoleGrant",
    "WebSession",
]
