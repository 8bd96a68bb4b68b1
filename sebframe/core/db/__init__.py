"""Persistence: typed SQLAlchemy models, the async engine and Alembic migrations."""

from sebframe.core.db.base import Base, UTCDateTime, utc_now
from sebframe.core.db.engine import Database

__all__ = ["Base", "Database", "UTCDateTime", "utc_now"]
