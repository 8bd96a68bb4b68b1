"""Declaring admin API endpoints once: routing, bearer authentication, error bodies and OpenAPI from one place."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor
from sebframe.core.errors import AuthenticationFailed, SebframeError, TooManyAttempts, ValidationFailed
from sebframe.core.services import Services

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 1024 * 1024

Handler = Callable[..., Awaitable[Any]]


def error_response(status: int, error: str, message: str, field_errors: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": error, "message": message}
    if field_errors:
        body["field_errors"] = field_errors
    return JSONResponse(body, status_code=status, headers=headers)


_ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
                413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_failed",
                429: "too_many_requests"}


def error_for(exc: SebframeError) -> JSONResponse:
    fields = exc.field_errors if isinstance(exc, ValidationFailed) else None
    headers = {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, TooManyAttempts) else None
    return error_response(exc.status_code, _ERROR_CODES.get(exc.status_code, "error"), exc.message, fields, headers)


class BadRequest(SebframeError):
    status_code = 400


class PayloadTooLarge(SebframeError):
    status_code = 413


async def json_body(request: Request) -> Any:
    """The request's JSON document; too large, not JSON or not UTF-8 is a 4xx with a message."""
    content_type = request.headers.get("content-type", "")
    if content_type and "json" not in content_type:
        raise BadRequest("send the body as application/json")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"the body is larger than {MAX_JSON_BYTES // 1024} KiB")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_JSON_BYTES:
            raise PayloadTooLarge(f"the body is larger than {MAX_JSON_BYTES // 1024} KiB")
    if not body:
        raise BadRequest("the request body is empty; send a JSON object")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None


@dataclass
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    request_model: type[BaseModel] | None = None
    response_model: type[BaseModel] | None = None
    response_is_page: bool = False
    status_code: int = 200
    public: bool = False
    query: tuple[str, ...] = ()
    raw_body: str | None = None  # media type of a non-JSON body (e.g. an image upload)


@dataclass
class ApiRouter:
    endpoints: list[Endpoint] = field(default_factory=list)

    def add(self, method: str, path: str, *, summary: str, tag: str, **options: Any) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self.endpoints.append(Endpoint(method, path, handler, summary, tag, **options))
            return handler

        return decorator

    def get(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.add("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.add("POST", path, **options)

    def put(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.add("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.add("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.add("DELETE", path, **options)

    def routes(self) -> list[Route]:
        by_path: dict[str, dict[str, Endpoint]] = {}
        for endpoint in self.endpoints:
            by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint
        return [Route(path, _dispatcher(methods), methods=list(methods)) for path, methods in by_path.items()]


def _dispatcher(methods: dict[str, Endpoint]) -> Callable[[Request], Awaitable[Response]]:
    async def dispatch(request: Request) -> Response:
        endpoint = methods.get(request.method) or (methods.get("GET") if request.method == "HEAD" else None)
        if endpoint is None:
            return error_response(405, "method_not_allowed", f"{request.method} is not allowed here")
        try:
            actor = None if endpoint.public else await bearer_actor(request)
            args: list[Any] = [request] if endpoint.public else [request, actor]
            result = await endpoint.handler(*args)
        except SebframeError as exc:
            return error_for(exc)
        if isinstance(result, Response):
            return result
        return JSONResponse(result, status_code=endpoint.status_code)

    return dispatch


async def bearer_actor(request: Request) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("send an admin API token as 'Authorization: Bearer <token>'")
    services: Services = request.app.state.services
    actor = await services.auth.actor_for_token(token.strip())
    if actor is None:
        raise AuthenticationFailed("the token is unknown, expired or revoked")
    return actor
