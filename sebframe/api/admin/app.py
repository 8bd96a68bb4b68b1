"""Assembles the admin API from its endpoint modules."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sebframe.api.admin.endpoints import routers
from sebframe.api.admin.openapi import openapi_document
from sebframe.api.admin.routing import ApiRouter, error_response
from sebframe.core.services import Services


def build(services: Services) -> Starlette:
    router = ApiRouter.combine(*routers())

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
