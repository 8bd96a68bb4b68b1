"""The token's own user, and more tokens for that user."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request

from sebframe.api.admin.endpoints._common import services_of
from sebframe.api.admin.routing import ApiRouter, parse_body
from sebframe.api.admin.schemas import Me, TokenCreated, TokenRequest
from sebframe.core.accounts.actor import Actor

router = ApiRouter()


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
