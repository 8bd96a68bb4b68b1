"""Assembles the admin API from its endpoint modules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sebframe.api.admin.openapi import openapi_document
from sebframe.api.admin.routing import ApiRouter, error_response, parse_body
from sebframe.api.admin.schemas import Me, TokenCreated, TokenRequest
from sebframe.core.accounts.actor import Actor
from sebframe.core.services import Services

router = ApiRouter()


@router.get("/me", summary="The user the token belongs to", tag="auth", response_model=Me)
async def get_me(request: Request, actor: Actor) -> dict[str, Any]:
    return Me.of(actor).model_dump()


@router.post("/tokens", summary="Issue another token for yourself", tag="auth", request_model=TokenRequest,
             response_model=TokenCreated, status_code=201)
async def create_token(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, TokenRequest)
    services: Services = request.app.state.services
    expires = timedelta(days=data.expires_in_days) if data.expires_in_days else None
    plain, token = await services.auth.create_token(actor.username, name=data.name, expires_in=expires)
    return TokenCreated.of(plain, token).model_dump(mode="json")


def build(services: Services) -> Starlette:
    from sebframe.api.admin import endpoints  # noqa: F401  registers the resource endpoints on ``router``

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(openapi_document(router))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        # Starlette's own errors (no such route, wrong method) answer in the API's error format too.
        status: int = getattr(exc, "status_code", 500)
        headers = dict(getattr(exc, "headers", None) or {})
        if status == 404:
            return error_response(404, "not_found", f"no admin API endpoint at {request.url.path}")
        if status == 405:
            return error_response(405, "method_not_allowed", f"{request.method} is not allowed here",
                                  headers=headers)
        return error_response(status, "error", str(getattr(exc, "detail", "error")), headers=headers)

    app = Starlette(
        routes=[Route("/openapi.json", openapi), *router.routes()],
        exception_handlers={HTTPException: http_error},
    )
    app.state.services = services
    return app
