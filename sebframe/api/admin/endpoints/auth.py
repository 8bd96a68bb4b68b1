"""The token's own user, and more tokens for that user."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from sebframe.api.admin.endpoints._common import services_of
from sebframe.api.admin.routing import ApiRouter, parse_body
from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import ApiToken

router = ApiRouter()


class Me(BaseModel):
    id: int
    username: str
    institution_id: int
    roles: list[str]
    timezone: str

    @classmethod
    def of(cls, actor: Actor) -> Me:
        return cls(id=actor.user_id, username=actor.username, institution_id=actor.institution_id,
                   roles=sorted(actor.roles), timezone=actor.timezone)


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(default="api", min_length=1, max_length=255)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650, description="null: never expires")


class TokenCreated(BaseModel):
    id: int
    name: str
    token: str
    expires_at: datetime | None

    @classmethod
    def of(cls, plain: str, token: ApiToken) -> TokenCreated:
        return cls(id=token.id, name=token.name, token=plain, expires_at=token.expires_at)


@router.get("/me", summary="The user the token belongs to", tag="auth", response_model=Me)
async def get_me(request: Request, actor: Actor) -> dict[str, Any]:
    return Me.of(actor).model_dump()


@router.post("/tokens", summary="Issue another token for yourself", tag="auth", request_model=TokenRequest,
             response_model=TokenCreated, status_code=201)
async def create_token(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, TokenRequest)
    expires = timedelta(days=data.expires_in_days) if data.expires_in_days else None
    plain, token = await services_of(request).auth.create_token(actor.username, name=data.name, expires_in=expires)
    return TokenCreated.of(plain, token).model_dump(mode="json")
