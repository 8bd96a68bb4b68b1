"""One way to list entities: filters, sorting by whitelisted columns, and pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, SQLColumnExpression, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from sebframe.core.errors import ValidationFailed

T = TypeVar("T")

MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class ListParams:
    page: int = 1
    size: int = 20
    sort: str | None = None
    descending: bool = False
    filters: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, query: Mapping[str, str], filter_names: Sequence[str]) -> ListParams:
        """Read ``page``, ``size``, ``sort`` (``-name`` for descending) and the named filters."""
        try:
            page = int(query.get("page") or 1)
            size = int(query.get("size") or 20)
        except ValueError:
            raise ValidationFailed({"page": "page and size must be whole numbers"}) from None
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            raise ValidationFailed({"page": f"page must be ≥ 1 and size between 1 and {MAX_PAGE_SIZE}"})
        sort = query.get("sort") or None
        descending = False
        if sort and sort.startswith("-"):
            sort, descending = sort[1:], True
        filters = {name: query[name].strip() for name in filter_names if query.get(name, "").strip()}
        return cls(page=page, size=size, sort=sort, descending=descending, filters=filters)

    def sort_param(self, column: str) -> str:
        """The ``sort`` value a column header links to: toggles direction on the sorted column."""
        if self.sort == column and not self.descending:
            return f"-{column}"
        return column


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    def to_json(self, items: list[Any]) -> dict[str, Any]:
        return {"items": items, "total": self.total, "page": self.page, "size": self.size, "pages": self.pages}


# A SELECT of any columns, and a column, ORM attribute or SQL expression (what list queries sort and filter by).
AnySelect = Select[*tuple[Any, ...]]
Column = SQLColumnExpression[Any]


async def fetch_page(
    session: AsyncSession,
    statement: AnySelect,
    params: ListParams,
    sortable: Mapping[str, Column],
    default_sort: Sequence[Column],
) -> Page[Any]:
    """Count and fetch one page of ``statement`` (which selects one ORM entity)."""
    if params.sort is not None and params.sort not in sortable:
        raise ValidationFailed({"sort": f"cannot sort by {params.sort!r}; choose one of {', '.join(sortable)}"})
    total = (await session.execute(select(func.count()).select_from(statement.order_by(None).subquery()))).scalar_one()
    if params.sort is not None:
        column = sortable[params.sort]
        statement = statement.order_by(column.desc() if params.descending else column.asc(), *default_sort)
    else:
        statement = statement.order_by(*default_sort)
    statement = statement.offset((params.page - 1) * params.size).limit(params.size)
    items = list((await session.execute(statement)).scalars().all())
    return Page(items=items, total=total, page=params.page, size=params.size)


def contains(column: Column, text: str) -> ColumnElement[bool]:
    """Case-insensitive substring filter that treats % and _ literally on every database."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")
