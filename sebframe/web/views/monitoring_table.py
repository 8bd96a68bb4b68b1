"""What the monitoring heat map shows for each connection (marks, status text, cell colours) and the HTML
fragments the page and its live stream share: the table body and the state filter switches."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment
from markupsafe import Markup

from sebframe.core.location.gate import Seat
from sebframe.core.monitoring.cells import Cell
from sebframe.core.monitoring.live import ConnectionState, ExamSnapshot, Notification
from sebframe.core.monitoring.table import StateFilter, TableRow, table_rows
from sebframe.web.views.monitoring_rows import RowParts, RowView, row_parts, rows_html

HEX_COLOR = re.compile(r"[0-9a-fA-F]{6}")
NOTIFICATION_LABELS = {"raisehand": "Raise hand", "lockscreen": "Lock screen"}


@dataclass(frozen=True)
class TableContext:
    """Everything the fragments need besides the snapshot; the same for the page and each stream tick."""

    exam_id: int
    hidden: frozenset[StateFilter]
    checks_signature_key: bool  # the exam checks app signature keys: "not yet granted" is amber
    may_supervise: bool
    # The exam has a location restriction: a Location column, and the "Blocked: location" lane. Decided when the
    # page is rendered; its stream URL carries the decision, so the stream's rows match the page's header.
    location: bool = False

    @property
    def page_url(self) -> str:
        return page_url(self.exam_id, self.hidden)

    @property
    def stream_url(self) -> str:
        query = "&".join(part for part in (hidden_query(self.hidden), "location=1" if self.location else "") if part)
        return f"/monitoring/{self.exam_id}/stream" + (f"?{query}" if query else "")


def hidden_query(hidden: Collection[StateFilter]) -> str:
    names = [item.value for item in StateFilter if item in hidden]
    return urlencode({"hide": ",".join(names)}, safe=",") if names else ""


def page_url(exam_id: int, hidden: Collection[StateFilter]) -> str:
    query = hidden_query(hidden)
    return f"/monitoring/{exam_id}" + (f"?{query}" if query else "")


def status_text(state: ConnectionState, checks_signature_key: bool) -> tuple[str, str]:
    """SEB Server's status cell: label and colour (grant denied red; not granted yet or missing amber)."""
    if not state.status.client_active:
        return state.status.label, "off"
    label, mark = state.status.label, "ok"
    if checks_signature_key and state.security_check_granted is False:
        label, mark = f"{label} - ASK Grant Denied", "denied"
    elif checks_signature_key and state.security_check_granted is None:
        label, mark = f"{label} (No ASK Grant)", "warn"
    if state.missing:
        label, mark = "Missing", "denied" if mark == "denied" else "warn"
    return label, mark


@functools.lru_cache(maxsize=1024)
def _valid_color(color: str) -> bool:
    return HEX_COLOR.fullmatch(color) is not None


def row_view(row: TableRow, checks_signature_key: bool) -> RowView:
    state = row.state
    status, status_mark = status_text(state, checks_signature_key)
    name_mark = "duplicate" if row.duplicate else "notification" if state.notifications else ""
    cells = state.cells
    if not all(_valid_color(cell.color) for cell in cells):  # an indicator colour is written into a style
        cells = tuple(cell if _valid_color(cell.color) else Cell(cell.text, "ffffff", False, cell.warning,
                                                                  cell.incident) for cell in cells)
    return RowView(state.id, state.user_session_id, name_mark, state.notifications, state.info,
                   "denied" if state.client_version_granted is False else "", status, status_mark, cells)


def notification_label(notification: Notification) -> str:
    kind = NOTIFICATION_LABELS.get(notification.type, notification.type)
    return f"{kind}: {notification.text}" if notification.text.strip() else kind


class TableFragments:
    """Renders the table body (``monitoring_rows``) and the filter switches (``monitoring/_filters.html``) of
    one exam page."""

    def __init__(self, env: Environment, context: TableContext) -> None:
        self.context = context
        self._filters = env.get_template("monitoring/_filters.html")

    @property
    def first_indicator(self) -> int:
        """The index of the first indicator cell in a row (pick, name, info, status and location come first)."""
        return 4 + self.context.location

    def rows(self, snapshot: ExamSnapshot, seats: Mapping[int, Seat] | None = None) -> list[RowParts]:
        """The rows shown; ``seats`` (``LocationGate.seats``) fill the Location column of a restricted exam, and
        its refused or violating connections stay visible whatever the state filters hide."""
        checks = self.context.checks_signature_key
        located = self.context.location
        if located and seats is None:
            seats = {}
        keep: Collection[int] = ()
        if located and seats and self.context.hidden:
            keep = frozenset(key for key, seat in seats.items() if seat.flagged)
        views = [row_view(row, checks) for row in table_rows(snapshot, self.context.hidden, keep)]
        return row_parts(views, exam_id=self.context.exam_id, back=self.context.page_url,
                         may_confirm=self.context.may_supervise, label=notification_label,
                         seats=seats if located else None)

    def body(self, parts: Sequence[RowParts], snapshot: ExamSnapshot) -> Markup:
        """The table body of these rows."""
        return rows_html(parts, columns=self.first_indicator + len(snapshot.indicators),
                         total=len(snapshot.connections))

    def render_rows(self, snapshot: ExamSnapshot, seats: Mapping[int, Seat] | None = None) -> Markup:
        return self.body(self.rows(snapshot, seats), snapshot)

    def render_filters(self, snapshot: ExamSnapshot) -> str:
        return self._filters.render(self.values(snapshot))

    def switches(self, counts: Counter[str]) -> list[dict[str, Any]]:
        switches = []
        for item in StateFilter:
            hidden = item in self.context.hidden
            toggled = self.context.hidden - {item} if hidden else self.context.hidden | {item}
            switches.append({"filter": item, "hidden": hidden, "count": counts[item.count_key],
                             "url": page_url(self.context.exam_id, toggled)})
        return switches

    def values(self, snapshot: ExamSnapshot) -> dict[str, Any]:
        """What ``_filters.html`` needs (the page template includes it)."""
        counts = snapshot.counts()
        return {"ctx": self.context, "switches": self.switches(counts), "total": len(snapshot.connections),
                "counts": counts, "missing": sum(1 for state in snapshot.connections if state.missing)}


def sse_event(name: str, data: str) -> str:
    """One server-sent event; every line of ``data`` gets its own ``data:`` field. ``splitlines`` also splits at
    a lone CR, which the browser takes as a line end too: a client-sent name cannot start a field of its own."""
    lines: Sequence[str] = data.splitlines() or [""]
    return f"event: {name}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"
