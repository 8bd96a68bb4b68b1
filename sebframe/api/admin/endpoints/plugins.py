"""Installed plugins and the ones that failed to load, for server operators."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request

from sebframe.api.admin.endpoints._common import out, services_of
from sebframe.api.admin.routing import ApiRouter
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import Role
from sebframe.core.errors import PermissionDenied
from sebframe.core.plugins import PluginInfo

router = ApiRouter()


class PluginOut(BaseModel):
    name: str
    distribution: str | None
    version: str | None
    hooks: list[str]
    builtin: bool

    @classmethod
    def of(cls, info: PluginInfo) -> PluginOut:
        return cls(name=info.name, distribution=info.distribution, version=info.version,
                   hooks=list(info.hooks), builtin=info.builtin)


class PluginFailureOut(BaseModel):
    name: str
    stage: str = Field(description='"load", "register" or the name of the hook that failed')
    error: str


class PluginsOut(BaseModel):
    installed: list[PluginOut]
    failures: list[PluginFailureOut]


@router.get("/plugins", summary="Installed plugins and load failures (SEB Server administrators)",
            tag="plugins", response_model=PluginsOut)
async def list_plugins(request: Request, actor: Actor) -> dict[str, Any]:
    # The privilege table has no entry for plugins; versions and failure messages are server internals,
    # so only SEB Server administrators (who run the server) see them.
    if not actor.has_role(Role.SEB_SERVER_ADMIN):
        raise PermissionDenied("only a SEB Server administrator may list plugins")
    plugins = services_of(request).plugins
    return out(PluginsOut(
        installed=[PluginOut.of(info) for info in plugins.installed()],
        failures=[PluginFailureOut(name=f.name, stage=f.stage, error=f.error) for f in plugins.failures],
    ))
