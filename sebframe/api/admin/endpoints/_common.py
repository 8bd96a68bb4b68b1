"""What the resource endpoints share: declared list queries and output helpers.

Query strings become the services' ``ListParams``, or ``ValidationFailed`` (422) with one message per
parameter, before a service (and so the database) sees them. Bodies are parsed by ``routing.parse_json``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request

from sebframe.api.admin.routing import MAX_ID, QueryParam, parse_body, parse_json
from sebframe.core.errors import ValidationFailed
from sebframe.core.paging import MAX_PAGE_SIZE, ListParams
from sebframe.core.services import Services

__all__ = ["Filter", "ListQuery", "check_query", "out", "parse_body", "parse_json", "services_of"]

# Page numbers beyond this cannot hold rows, and an offset this size still fits every database.
MAX_PAGE = 10**6


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def out(model: BaseModel) -> dict[str, Any]:
    """A response model as JSON-ready data (datetimes as ISO 8601 in UTC)."""
    return model.model_dump(mode="json")


# -- query strings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """A list filter: ``text`` matches a part case-insensitively; the others must parse exactly."""

    name: str
    kind: str = "text"  # text | boolean | integer | choice | datetime
    choices: tuple[str, ...] = ()
    description: str = ""

    def schema(self) -> dict[str, Any]:
        if self.kind == "boolean":
            return {"type": "boolean"}
        if self.kind == "integer":
            return {"type": "integer", "minimum": 0, "maximum": MAX_ID}
        if self.kind == "choice":
            return {"type": "string", "enum": list(self.choices)}
        if self.kind == "datetime":
            return {"type": "string", "format": "date-time"}
        return {"type": "string"}

    def parse(self, raw: str) -> str:
        """The filter value the service expects, or ``ValidationFailed``."""
        if self.kind == "boolean":
            if raw.lower() not in ("true", "false"):
                raise ValidationFailed({self.name: "use true or false"})
            return raw.lower()
        if self.kind == "integer":
            if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_ID:
                raise ValidationFailed({self.name: "must be a whole number (an id)"})
            return str(int(raw))
        if self.kind == "choice":
            if raw not in self.choices:
                raise ValidationFailed({self.name: f"choose one of {', '.join(self.choices)}"})
            return raw
        if self.kind == "datetime":
            return _iso_utc(self.name, raw)
        return raw


def _iso_utc(name: str, raw: str) -> str:
    message = "use an ISO 8601 date or time like 2026-11-22 or 2026-11-22T14:30:00Z (UTC unless an offset)"
    try:
        value = datetime.fromisoformat(raw)
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationFailed({name: message}) from None
    return value.isoformat()


@dataclass(frozen=True)
class ListQuery:
    """The query string of a list endpoint, declared once for parsing and for the OpenAPI document."""

    filters: tuple[Filter, ...]
    sortable: tuple[str, ...]
    default_sort: str = ""

    def query_params(self) -> tuple[QueryParam, ...]:
        sort_help = f"one of {', '.join(self.sortable)}; prefix with '-' for descending"
        if self.default_sort:
            sort_help += f" (default: {self.default_sort})"
        sort_values = [*self.sortable, *(f"-{column}" for column in self.sortable)]
        paging = (
            QueryParam("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}),
            QueryParam("size", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 20}),
            QueryParam("sort", {"type": "string", "enum": sort_values}, sort_help),
        )
        return paging + tuple(QueryParam(f.name, f.schema(), f.description) for f in self.filters)

    def parse(self, request: Request) -> ListParams:
        query = request.query_params
        check_query(query, {"page", "size", "sort", *(f.name for f in self.filters)})
        params = ListParams.from_query(query, [f.name for f in self.filters])
        if params.page > MAX_PAGE:
            raise ValidationFailed({"page": f"page must be at most {MAX_PAGE}"})
        by_name = {f.name: f for f in self.filters}
        filters = {name: by_name[name].parse(value) for name, value in params.filters.items()}
        return dataclasses.replace(params, filters=filters)


def check_query(query: Mapping[str, str], allowed: Iterable[str]) -> None:
    """Refuse unknown parameters (a typo would otherwise silently list everything) and NUL characters."""
    allowed = set(allowed)
    errors = {name: "unknown query parameter" for name in query if name not in allowed}
    for name, value in query.items():
        if "\x00" in value:
            errors[name] = "must not contain NUL characters"
    if errors:
        raise ValidationFailed(errors)
