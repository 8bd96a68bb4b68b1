"""Connection configurations: list, create, change, (de)activate, new credentials, delete, export.

No response carries a secret: passwords show only as ``has_…`` flags, and the OAuth client secret
exists outside the server only inside the exported ``SEBServerSettings.seb`` (not even in the create
response: the export is its one use, so there is no second copy to leak).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from sebframe.api.admin.endpoints._common import Filter, ListQuery, out, parse_body, services_of
from sebframe.api.admin.routing import ApiRouter
from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import ConnectionConfiguration
from sebframe.core.sebconfig.connection_configs import (
    EXPORT_MEDIA_TYPE,
    ConnectionConfigInput,
    ConnectionConfigUpdate,
    ConnectionPurpose,
)

router = ApiRouter()

TAG = "connection-configurations"

CONNECTION_CONFIG_QUERY = ListQuery(
    filters=(
        Filter("institution_id", "integer"),
        Filter("name", description="part of the name, case-insensitive"),
        Filter("active", "boolean"),
        Filter("purpose", "choice", tuple(ConnectionPurpose)),
    ),
    sortable=("name", "created_at", "active", "purpose", "institution_id"),
    default_sort="name",
)


class ConnectionConfigCreate(ConnectionConfigInput):
    """``active: true`` saves and activates in one step."""

    active: bool = False


class ConnectionConfigOut(BaseModel):
    id: int
    institution_id: int
    name: str
    purpose: ConnectionPurpose
    active: bool
    client_id: str = Field(description="the OAuth client name SEB clients authenticate with (not a secret)")
    has_encryption_password: bool
    certificate_id: int | None
    asymmetric_only: bool
    fallback: bool
    fallback_start_url: str | None
    fallback_attempts: int
    fallback_interval_ms: int
    fallback_timeout_ms: int
    has_fallback_password: bool
    has_quit_password: bool
    ping_interval_ms: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, config: ConnectionConfiguration) -> ConnectionConfigOut:
        return cls(
            id=config.id, institution_id=config.institution_id, name=config.name,
            purpose=ConnectionPurpose(config.purpose), active=config.active, client_id=config.client_id,
            has_encryption_password=config.encryption_password_encrypted is not None,
            certificate_id=config.certificate_id, asymmetric_only=config.asymmetric_only, fallback=config.fallback,
            fallback_start_url=config.fallback_start_url, fallback_attempts=config.fallback_attempts,
            fallback_interval_ms=config.fallback_interval_ms, fallback_timeout_ms=config.fallback_timeout_ms,
            has_fallback_password=config.fallback_password_encrypted is not None,
            has_quit_password=config.quit_password_encrypted is not None,
            ping_interval_ms=config.ping_interval_ms, created_at=config.created_at, updated_at=config.updated_at,
        )


def _request_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


@router.get("/connection-configurations", summary="List the connection configurations you may see", tag=TAG,
            response_model=ConnectionConfigOut, response_is_page=True, query=CONNECTION_CONFIG_QUERY.query_params())
async def list_connection_configs(request: Request, actor: Actor) -> dict[str, Any]:
    page = await services_of(request).connection_configs.list(actor, CONNECTION_CONFIG_QUERY.parse(request))
    return page.to_json([out(ConnectionConfigOut.of(config)) for config in page.items])


@router.post("/connection-configurations",
             summary="Create a connection configuration in your institution (with new client credentials)", tag=TAG,
             request_model=ConnectionConfigCreate, response_model=ConnectionConfigOut, status_code=201)
async def create_connection_config(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, ConnectionConfigCreate)
    fields = ConnectionConfigInput.model_validate(data.model_dump(exclude={"active"}))
    config = await services_of(request).connection_configs.create(actor, fields, activate=data.active)
    return out(ConnectionConfigOut.of(config))


@router.get("/connection-configurations/{id:int}", summary="One connection configuration", tag=TAG,
            response_model=ConnectionConfigOut)
async def get_connection_config(request: Request, actor: Actor) -> dict[str, Any]:
    config = await services_of(request).connection_configs.get(actor, request.path_params["id"])
    return out(ConnectionConfigOut.of(config))


@router.patch("/connection-configurations/{id:int}",
              summary="Change the given fields; a password set to null is removed, a new one needs its confirmation",
              tag=TAG, request_model=ConnectionConfigUpdate, response_model=ConnectionConfigOut)
async def update_connection_config(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, ConnectionConfigUpdate)
    config = await services_of(request).connection_configs.update(actor, request.path_params["id"], data)
    return out(ConnectionConfigOut.of(config))


@router.post("/connection-configurations/{id:int}/activate", summary="Activate: SEB clients may connect", tag=TAG,
             response_model=ConnectionConfigOut)
async def activate_connection_config(request: Request, actor: Actor) -> dict[str, Any]:
    config = await services_of(request).connection_configs.set_active(actor, request.path_params["id"], True)
    return out(ConnectionConfigOut.of(config))


@router.post("/connection-configurations/{id:int}/deactivate",
             summary="Deactivate: SEB clients using it are refused (HTTP 401)", tag=TAG,
             response_model=ConnectionConfigOut)
async def deactivate_connection_config(request: Request, actor: Actor) -> dict[str, Any]:
    config = await services_of(request).connection_configs.set_active(actor, request.path_params["id"], False)
    return out(ConnectionConfigOut.of(config))


@router.post("/connection-configurations/{id:int}/credentials",
             summary="Generate new client credentials (files exported before stop working)", tag=TAG,
             response_model=ConnectionConfigOut)
async def regenerate_connection_config_credentials(request: Request, actor: Actor) -> dict[str, Any]:
    config = await services_of(request).connection_configs.regenerate_credentials(actor, request.path_params["id"])
    return out(ConnectionConfigOut.of(config))


@router.delete("/connection-configurations/{id:int}", summary="Delete a connection configuration", tag=TAG,
               status_code=204)
async def delete_connection_config(request: Request, actor: Actor) -> Response:
    await services_of(request).connection_configs.delete(actor, request.path_params["id"])
    return Response(status_code=204)


@router.get("/connection-configurations/{id:int}/export",
            summary="Download SEBServerSettings.seb of an active configuration (409 while inactive)", tag=TAG,
            response_media=(EXPORT_MEDIA_TYPE,))
async def export_connection_config(request: Request, actor: Actor) -> Response:
    exported = await services_of(request).connection_configs.export(actor, request.path_params["id"],
                                                                  request_url=_request_url(request))
    return Response(exported.content, media_type=exported.media_type, headers={
        "Content-Disposition": f'attachment; filename="{exported.filename}"',
        "Cache-Control": "no-store",
    })
