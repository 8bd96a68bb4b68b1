"""The JSON admin API under ``/admin-api/v1``: bearer-token authenticated, same services as the UI."""

from __future__ import annotations

from sebframe.api.admin.app import build as create_admin_api

__all__ = ["create_admin_api"]
