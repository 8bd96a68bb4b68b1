"""Persistence: typed SQLAlchemy models, the async engine and Alembic migrations."""

from sebframe.core.db.base import MAX_ID, Base, UTCDateTime, is_valid_id, table_of, utc_now
from sebframe.core.db.engine import Database

__all__ = ["MAX_ID", "Base", "Database", "UTCDateTime", "is_valid_id", "table_of", "utc_now"]
