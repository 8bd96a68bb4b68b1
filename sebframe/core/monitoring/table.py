"""The rules of the exam monitoring table (SEB Server's classic monitoring page): which connections the state
filters hide, the duplicate-user mark, the sort order, and the search popup's filters and sorting.

Pure functions over an :class:`~sebframe.core.monitoring.live.ExamSnapshot`; the web page and the stream render
what they return.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sebframe.core.db.models import ConnectionStatus
from sebframe.core.monitoring.live import NO_NAME, ConnectionState, ExamSnapshot

# SEB Server's ConnectionStatus codes: the second sort criterion.
STATUS_ORDER = {ConnectionStatus.CONNECTION_REQUESTED: 1, ConnectionStatus.READY: 2, ConnectionStatus.ACTIVE: 3,
                ConnectionStatus.CLOSED: 4, ConnectionStatus.DISABLED: 5}
# States whose connections count for the duplicate-user check (SEB Server's ``duplicateCheckStatus``).
DUPLICATE_CHECK_STATES = frozenset({ConnectionStatus.READY, ConnectionStatus.ACTIVE, ConnectionStatus.CLOSED})


class StateFilter(StrEnum):
    """The state filter switches of the monitoring page; the value is what the URL carries (``?hide=closed``)."""

    REQUESTED = "requested"
    ACTIVE = "active"  # only active connections without an incident are hidden
    CLOSED = "closed"
    CANCELED = "canceled"

    @property
    def label(self) -> str:
        return _FILTER_LABELS[self]

    @property
    def status(self) -> ConnectionStatus:
        return _FILTER_STATES[self]

    @property
    def count_key(self) -> str:
        """The key of :meth:`ExamSnapshot.counts` the switch shows."""
        return "ACTIVE_NO_INCIDENT" if self is StateFilter.ACTIVE else self.status.value


_FILTER_LABELS = {StateFilter.REQUESTED: "Connecting", StateFilter.ACTIVE: "Active without incident",
                  StateFilter.CLOSED: "Closed", StateFilter.CANCELED: "Canceled"}
_FILTER_STATES = {StateFilter.REQUESTED: ConnectionStatus.CONNECTION_REQUESTED,
                  StateFilter.ACTIVE: ConnectionStatus.ACTIVE, StateFilter.CLOSED: ConnectionStatus.CLOSED,
                  StateFilter.CANCELED: ConnectionStatus.DISABLED}


def parse_hidden(values: Iterable[str]) -> frozenset[StateFilter]:
    """The hidden states of ``?hide=…`` values (repeated or comma separated); unknown names are ignored."""
    names = {part.strip().lower() for value in values for part in value.split(",")}
    return frozenset(item for item in StateFilter if item.value in names)


@dataclass(slots=True)  # not frozen: one per connection per tick, and frozen dataclasses are slow to build
class TableRow:
    state: ConnectionState
    duplicate: bool  # another READY/ACTIVE/CLOSED connection has the same user session id

    @property
    def weight(self) -> int:
        """How bad it looks, for sorting: incidents count twice, warnings once, a missing ping most."""
        return sum(2 if cell.incident else 1 if cell.warning else 0 for cell in self.state.cells) \
            + (4 if self.state.missing else 0)


def duplicates(connections: Iterable[ConnectionState]) -> frozenset[int]:
    """Connections whose user session id is shared by several READY/ACTIVE/CLOSED connections."""
    checked = [state for state in connections
               if state.status in DUPLICATE_CHECK_STATES and state.user_session_id != NO_NAME]
    counts = Counter(state.user_session_id for state in checked)
    return frozenset(state.id for state in checked if counts[state.user_session_id] > 1)


def is_hidden(state: ConnectionState, hidden: Collection[StateFilter]) -> bool:
    """SEB Server's monitoring filter: a hidden state's connections are left out, except active ones with an
    incident (missing ping, pending notification, indicator at its incident threshold)."""
    for item in hidden:
        if state.status is item.status:
            return not (item is StateFilter.ACTIVE and state.incident)
    return False


def sort_key(row: TableRow) -> tuple[int, int, int, str]:
    """SEB Server's order: pending notification (or an established duplicate) first, then state, then the
    indicator weight (worst first), then the name."""
    state = row.state
    flagged = bool(state.notifications) or (row.duplicate and state.status is not ConnectionStatus.CLOSED)
    return (0 if flagged else 1, STATUS_ORDER[state.status], -row.weight, state.user_session_id.lower())


def table_rows(snapshot: ExamSnapshot, hidden: Collection[StateFilter] = (),
               keep: Collection[int] = ()) -> list[TableRow]:
    """The heat-map rows: filtered by the hidden states and sorted. Connections in ``keep`` (those refused or
    flagged by the location check) stay visible whatever their state, like connections with an incident."""
    doubled = duplicates(snapshot.connections)
    rows = [TableRow(state, state.id in doubled) for state in snapshot.connections
            if not (hidden and is_hidden(state, hidden) and state.id not in keep)]
    rows.sort(key=sort_key)
    return rows


# -- the search popup ----------------------------------------------------------------------------------------


SEARCH_SORTS = ("name", "status", "address", "os", "version", "ping")
MISSING = "MISSING"  # the search's status filter also offers "Missing", a flag rather than a state


@dataclass(frozen=True, slots=True)
class SearchQuery:
    name: str = ""
    address: str = ""
    os: str = ""
    status: str = ""  # a ConnectionStatus value or MISSING
    sort: str = "name"
    descending: bool = False

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> SearchQuery:
        sort = query.get("sort", "") or "name"
        descending = sort.startswith("-")
        sort = sort.lstrip("-")
        status = query.get("status", "")
        return cls(name=query.get("name", "").strip(), address=query.get("address", "").strip(),
                   os=query.get("os", "").strip(),
                   status=status if status in ConnectionStatus.__members__ or status == MISSING else "",
                   sort=sort if sort in SEARCH_SORTS else "name", descending=descending)

    def matches(self, state: ConnectionState) -> bool:
        if self.name and self.name.lower() not in state.user_session_id.lower():
            return False
        if self.address and self.address.lower() not in (state.client_address or "").lower():
            return False
        if self.os and self.os.lower() not in (state.seb_os_name or "").lower():
            return False
        if self.status == MISSING:
            return state.missing
        return not self.status or state.status.value == self.status


def search(snapshot: ExamSnapshot, query: SearchQuery) -> list[TableRow]:
    """All connections (whatever the state filters hide) that match the search, in the chosen order."""
    doubled = duplicates(snapshot.connections)
    rows = [TableRow(state, state.id in doubled) for state in snapshot.connections if query.matches(state)]
    rows.sort(key=lambda row: row.state.user_session_id.lower())  # ties in the chosen column: by name
    rows.sort(key=_SEARCH_KEYS[query.sort], reverse=query.descending)
    return rows


def _text_key(value: str | None) -> tuple[bool, str]:
    return (value is None, (value or "").lower())  # empty values last


_SEARCH_KEYS: dict[str, Callable[[TableRow], Any]] = {
    "name": lambda row: row.state.user_session_id.lower(),
    "status": lambda row: (STATUS_ORDER[row.state.status], not row.state.missing),
    "address": lambda row: _text_key(row.state.client_address),
    "os": lambda row: _text_key(row.state.seb_os_name),
    "version": lambda row: _text_key(row.state.seb_version),
    "ping": lambda row: row.state.last_ping_ms or 0,
}
