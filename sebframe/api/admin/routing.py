"""Declaring admin API endpoints once: routing, bearer authentication, error bodies and OpenAPI."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor
from sebframe.core.errors import AuthenticationFailed, NotFound, SebframeError, TooManyAttempts, ValidationFailed
from sebframe.core.services import Services
from sebframe.core.validation import field_errors_of, parse_input

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 1024 * 1024
# Ids are 32-bit database keys; a larger number in a path cannot name anything (and must not reach SQL).
MAX_ID = 2**31 - 1

Handler = Callable[..., Awaitable[Any]]
ModelT = TypeVar("ModelT", bound=BaseModel)


def error_response(status: int, error: str, message: str, field_errors: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None, details: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {**(details or {}), "error": error, "message": message}
    if field_errors:
        body["field_errors"] = field_errors
    return JSONResponse(body, status_code=status, headers=headers)


_ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
                413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_failed",
                429: "too_many_requests"}


# More fields of the error body for some errors, by exception type (e.g. the line-numbered issues of rejected
# IP profile rules); an endpoint module's ``ApiRouter(error_details=...)`` declares what its errors carry.
ErrorDetails = dict[type[SebframeError], Callable[[Any], dict[str, Any]]]


def error_for(exc: SebframeError, error_details: ErrorDetails | None = None) -> JSONResponse:
    fields = exc.field_errors if isinstance(exc, ValidationFailed) else None
    headers = {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, TooManyAttempts) else None
    code = _ERROR_CODES.get(exc.status_code, "error")
    details = next((describe(exc) for kind, describe in (error_details or {}).items() if isinstance(exc, kind)), None)
    return error_response(exc.status_code, code, exc.message, fields, headers, details)


class BadRequest(SebframeError):
    status_code = 400


class PayloadTooLarge(SebframeError):
    status_code = 413


class UnsupportedMediaType(SebframeError):
    status_code = 415


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it (declared or streamed) exceeds ``limit`` bytes."""
    too_large = f"the body is larger than {limit // 1024} KiB"
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(too_large)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise PayloadTooLarge(too_large)
    return bytes(body)


async def json_body(request: Request) -> Any:
    """The request's JSON document; too large, not JSON or not UTF-8 is a 4xx with a message."""
    content_type = request.headers.get("content-type", "")
    if content_type and "json" not in content_type:
        raise UnsupportedMediaType("send the body as application/json")
    body = await read_body(request, MAX_JSON_BYTES)
    if not body:
        raise BadRequest("the request body is empty; send a JSON object")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None


# JSON integers outside the signed 32-bit range name no id and fit no column of the admin API.
_INT_RANGE = range(-MAX_ID - 1, MAX_ID + 1)


async def parse_body(request: Request, model: type[ModelT]) -> ModelT:
    """The request's JSON body as ``model``, validated by ``parse_json``."""
    return parse_json(model, await json_body(request))


def parse_json(model: type[ModelT], data: Any) -> ModelT:
    """Validate a decoded JSON document strictly: an object, known fields only, JSON types only.

    Strict mode means ``"5"`` is no integer and ``"yes"`` no boolean; an integrator sending the wrong
    type gets told instead of guessed at. Date-time fields take ISO 8601 with a time zone.
    """
    if not isinstance(data, dict):
        raise ValidationFailed({}, f"expected a JSON object, got {_json_type(data)}")
    errors: dict[str, str] = {}
    for key in data:
        if key not in model.model_fields:
            errors[key] = "unknown field"
    _check_values(data, "", errors)
    if errors:
        raise ValidationFailed(errors)
    # Behind a before-validator (every input model has one) pydantic's strict JSON mode sees Python input, where
    # a string is no date-time: date-time fields are read here, the others strictly as always.
    times = _datetime_fields(model).intersection(data)
    parsed: dict[str, datetime | None] = {}
    for name in times:
        try:
            parsed[name] = moment = _DATETIME.validate_json(json.dumps(data[name]), strict=True)
        except ValidationError:
            moment = datetime.min  # naive: the same message
        if moment is not None and moment.tzinfo is None:  # a time without its zone means different things
            errors[name] = "give an ISO 8601 date and time with its time zone, e.g. 2026-11-22T09:00:00Z"
    try:
        checked = model.model_validate_json(
            json.dumps({key: value for key, value in data.items() if key not in times}), strict=True)
    except ValidationError as exc:
        for name, message in field_errors_of(exc).items():
            if name not in times:
                errors.setdefault(name, message)
    if errors:
        raise ValidationFailed(errors)
    return parse_input(model, {**data, **parsed}) if times else checked


_DATETIME = TypeAdapter(datetime | None)


@functools.cache
def _datetime_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(name for name, field in model.model_fields.items()
                     if field.annotation is datetime or datetime in get_args(field.annotation))


def _check_values(value: Any, path: str, errors: dict[str, str]) -> None:
    """Refuse what would reach the database as a driver error: NUL, lone surrogates, huge integers."""
    if isinstance(value, str):
        if "\x00" in value:
            errors.setdefault(path or "__root__", "must not contain NUL characters")
        else:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                errors.setdefault(path or "__root__", "is not valid Unicode text")
    elif isinstance(value, int) and not isinstance(value, bool):
        if value not in _INT_RANGE:
            errors.setdefault(path or "__root__", "number out of range")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_values(item, f"{path}.{key}" if path else str(key), errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_values(item, f"{path}.{index}" if path else str(index), errors)


def _json_type(data: Any) -> str:
    if isinstance(data, list):
        return "an array"
    if isinstance(data, str):
        return "a string"
    if isinstance(data, bool):
        return "a boolean"
    if isinstance(data, int | float):
        return "a number"
    return "null"


@dataclass(frozen=True)
class QueryParam:
    """A documented query parameter; ``schema`` is its JSON schema in the OpenAPI document."""

    name: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    description: str = ""


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
    query: tuple[str | QueryParam, ...] = ()
    raw_body: str | tuple[str, ...] | None = None  # media type(s) of a non-JSON body (e.g. an image upload)
    response_media: tuple[str, ...] = ()  # media types of a non-JSON success body (e.g. an image)

    def query_params(self) -> list[QueryParam]:
        return [param if isinstance(param, QueryParam) else QueryParam(param) for param in self.query]


@dataclass
class ApiRouter:
    """The endpoints of one module (declared with the decorators below); ``combine`` makes an API of several."""

    endpoints: list[Endpoint] = field(default_factory=list)
    error_details: ErrorDetails = field(default_factory=dict)

    @classmethod
    def combine(cls, *routers: ApiRouter) -> ApiRouter:
        combined = cls()
        for router in routers:
            combined.endpoints.extend(router.endpoints)
            combined.error_details.update(router.error_details)
        return combined

    def add(
        self, method: str, path: str, *, summary: str, tag: str, **options: Any
    ) -> Callable[[Handler], Handler]:
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
        return [Route(path, _dispatcher(methods, self.error_details), methods=list(methods))
                for path, methods in by_path.items()]


def _dispatcher(methods: dict[str, Endpoint], error_details: ErrorDetails) -> Callable[[Request], Awaitable[Response]]:
    async def dispatch(request: Request) -> Response:
        endpoint = methods.get(request.method) or (methods.get("GET") if request.method == "HEAD" else None)
        if endpoint is None:
            return error_response(405, "method_not_allowed", f"{request.method} is not allowed here")
        try:
            actor = None if endpoint.public else await bearer_actor(request)
            for name, value in request.path_params.items():
                if isinstance(value, int) and not 0 <= value <= MAX_ID:
                    raise NotFound(f"no {name} {value}")
            args: list[Any] = [request] if endpoint.public else [request, actor]
            result = await endpoint.handler(*args)
        except SebframeError as exc:
            return error_for(exc, error_details)
        except Exception:
            # A bug, not bad input: log it, and still answer in the API's error format.
            log.exception("admin API %s %s failed", request.method, request.url.path)
            return error_response(500, "internal_error", "the server failed on this request; see its log")
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
