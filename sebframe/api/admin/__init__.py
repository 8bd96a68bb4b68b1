"""The JSON admin API under ``/admin-api/v1``: bearer-token authenticated, same services as the UI."""

from __future__ import annotations

from starlette.applications import Starlette

from sebframe.core.services import Services


def create_admin_api(services: Services) -> Starlette:
    from sebframe.api.admin.app import build

    return build(services)
