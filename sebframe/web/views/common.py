"""Helpers shared by the list and form screens (institutions, user accounts, activity log)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from sebframe.core.errors import NotFound, ValidationFailed
from sebframe.core.paging import ListParams, Page

T = TypeVar("T")

STATUS_OPTIONS = [("true", "Active"), ("false", "Inactive")]


def list_params(request: Request, filter_names: Sequence[str]) -> tuple[ListParams, dict[str, str]]:
    """The list parameters of the query string; bad paging input falls back to page 1 with a message."""
    try:
        return ListParams.from_query(request.query_params, filter_names), {}
    except ValidationFailed as exc:
        query = {key: value for key, value in request.query_params.items() if key not in ("page", "size")}
        return ListParams.from_query(query, filter_names), field_errors(exc)


async def fetch_list(
    fetch: Callable[[ListParams], Awaitable[Page[T]]], params: ListParams, errors: dict[str, str]
) -> tuple[Page[T], int]:
    """One page for a list screen; a filter or sort the service refuses shows an empty list with the message."""
    try:
        return await fetch(params), 200
    except ValidationFailed as exc:
        errors.update(field_errors(exc))
        return Page(items=[], total=0, page=params.page, size=params.size), 422


def field_errors(exc: ValidationFailed) -> dict[str, str]:
    """Per-field messages keyed by the form field (``roles.0`` → ``roles``)."""
    errors: dict[str, str] = {}
    for key, message in exc.field_errors.items():
        errors.setdefault(key.split(".")[0], message)
    return errors


def path_id(request: Request, name: str = "id") -> int:
    value = request.path_params[name]
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except ValueError:
        raise NotFound("not found") from None


def safe_next(value: Any, default: str) -> str:
    """A local path to return to after an action (never another site)."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def current_path(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def without_passwords(values: Mapping[str, Any]) -> dict[str, Any]:
    """Form values to show again after a failed save: passwords are never echoed."""
    return {key: value for key, value in values.items() if "password" not in key}


def image_response(image: tuple[bytes, str] | None, *, cache_control: str) -> Response:
    """An institution logo (bytes, MIME type) as a response, or 404 when there is none."""
    if image is None:
        return Response(status_code=404)
    data, mime = image
    headers = {"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type=mime, headers=headers)
