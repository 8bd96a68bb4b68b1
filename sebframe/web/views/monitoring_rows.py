"""The heat map's rows as HTML, written in Python rather than Jinja: a template costs about 50 µs a row, and an
exam with 5,000 connections sends all its rows every second. Every value from a SEB client is escaped."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from sebframe.core.location.gate import Seat
from sebframe.core.location.schemas import LocationStatus
from sebframe.core.monitoring.cells import Cell
from sebframe.core.monitoring.live import Notification

DEFAULT_BACKGROUND = "ffffff"  # the table's own background: no colour needed
# The location status in words, after the room (an admitted connection shows only its room and seat).
# Keyed by the stored status text, which is what the LocationStatus members are.
LOCATION_NOTES: dict[str, str] = {
    LocationStatus.BLOCKED: "blocked", LocationStatus.VIOLATION: "moved outside",
    LocationStatus.WOULD_BLOCK: "would be blocked", LocationStatus.OVERRIDDEN: "override",
    LocationStatus.EXCEPTION: "exception"}
LOCATION_MARKS: dict[str, str] = {LocationStatus.BLOCKED: "denied", LocationStatus.VIOLATION: "denied",
                  LocationStatus.WOULD_BLOCK: "warn"}
NO_LOCATION = '<td class="location"></td>'


@dataclass(slots=True)  # not frozen: built for every connection every second, and frozen costs 5x
class RowView:
    """What one heat-map row shows (built by ``monitoring_table.row_view``)."""

    id: int
    name: str
    name_mark: str  # "duplicate" (red), "notification" (amber) or ""
    notifications: tuple[Notification, ...]
    info: str
    info_mark: str  # "denied" when the SEB version is not allowed
    status: str
    status_mark: str  # "ok", "warn" (amber), "denied" (red), "off" (grey: not connected)
    cells: tuple[Cell, ...]


def cell_html(cell: Cell) -> str:
    dark = " dark" if cell.dark else ""
    if cell.color.lower() == DEFAULT_BACKGROUND:
        return f'<td class="cell{dark}">{escape(cell.text)}</td>'
    # The colour as data: the page's script paints it (the Content Security Policy refuses style attributes).
    return f'<td class="cell{dark}" data-bg="{cell.color}">{escape(cell.text)}</td>'


def cell_change(cell: Cell) -> tuple[str, str, int]:
    """What the page's script sets on an indicator cell that changed: the text, the background (empty: the
    table's own) and whether the text is white. The same as ``cell_html`` writes."""
    return cell.text, "" if cell.color.lower() == DEFAULT_BACKGROUND else cell.color, int(cell.dark)


def location_html(seat: Seat | None) -> str:
    """The Location cell: room and seat; a refused or violating connection marked (red; amber: log-only trial).
    Written for every seated connection every second: the common case (admitted by a rule) comes first."""
    if seat is None:
        return NO_LOCATION
    room, place = seat.room, seat.seat
    label = (f"{room}, seat {place}" if room else f"seat {place}") if place else room
    status = seat.status
    if status == LocationStatus.ALLOWED:
        return f'<td class="location">{escape(label)}</td>'
    note = LOCATION_NOTES.get(status, "")
    mark = LOCATION_MARKS.get(status)
    if mark and not label:
        label = "unknown network"
    text = f"{label} ({note})" if note and label else note or label
    if mark:
        return f'<td class="location {mark}" title="Location check: {status}">{escape(text)}</td>'
    return f'<td class="location">{escape(text)}</td>'


def notes_html(notifications: Sequence[Notification], base: str, back: str, may_confirm: bool,
               label: Callable[[Notification], str]) -> str:
    """The pending notifications under the name: the bell, what it is, and a confirm button."""
    parts = []
    for note in notifications:
        button = (f'<form method="post" action="{base}/notifications/{note.id}/confirm" class="inline">'
                  f'<input type="hidden" name="next" value="{back}"><button type="submit" class="small" '
                  'title="Confirm the notification; the SEB client gets NOTIFICATION_CONFIRM">Confirm</button></form>'
                  ) if may_confirm else ""
        parts.append(f'<span class="note"><span class="bell" aria-hidden="true">🔔</span> '
                     f'{escape(label(note))} {button}</span>')
    return "".join(parts)


@dataclass(slots=True)
class RowParts:
    """One heat-map row as written: ``head`` is the opening ``<tr>`` with the cells before the indicators (pick,
    name, info, status, location), ``cells`` the indicator cells' markup, ``values`` the cells they show. The
    live stream compares parts with the previous tick's to send only what changed."""

    key: int
    head: str
    cells: tuple[str, ...]
    values: tuple[Cell, ...]

    @property
    def markup(self) -> str:
        return self.head + "".join(self.cells) + "</tr>"


def row_parts(rows: Sequence[RowView], *, exam_id: int, back: str, may_confirm: bool,
              label: Callable[[Notification], str], seats: Mapping[int, Seat] | None = None) -> list[RowParts]:
    """The rows' parts, keyed by the connection id for the page's script. ``seats``: the exam has a location
    restriction, each row gets its Location cell (None: no such column)."""
    base = f"/monitoring/{exam_id}"
    back_field = escape(back)
    cells: dict[int, str] = {}  # a snapshot shares equal cells: each is written once
    parts = []
    for row in rows:
        row_cells = []
        for cell in row.cells:
            html = cells.get(id(cell))
            if html is None:
                html = cells[id(cell)] = cell_html(cell)
            row_cells.append(html)
        place = location_html(seats.get(row.id)) if seats is not None else ""
        head = _head(row.id, row.name, row.name_mark, row.notifications, row.info, row.info_mark, row.status,
                     row.status_mark, place, base, back_field, may_confirm, label)
        parts.append(RowParts(row.id, head, tuple(row_cells), row.cells))
    return parts


# Remembered by everything the head shows: from one tick to the next most rows look the same (only their indicator
# cells change), and writing the head is most of the cost of a row.
@functools.lru_cache(maxsize=20_000)
def _head(key: int, name: str, name_mark: str, notifications: tuple[Notification, ...], info: str, info_mark: str,
          status: str, status_mark: str, place: str, base: str, back_field: str, may_confirm: bool,
          label: Callable[[Notification], str]) -> str:
    """A row's ``<tr>`` with its cells before the indicators."""
    shown = escape(name)
    notes = notes_html(notifications, base, back_field, may_confirm, label) if notifications else ""
    return (f'<tr data-key="{key}"><td class="pick"><input type="checkbox" name="connection" '
            f'value="{key}" form="selection" aria-label="Select {shown}"></td>'
            f'<td class="name {name_mark}"><a href="{base}/connections/{key}">{shown}</a>{notes}</td>'
            f'<td class="info {info_mark}">{escape(info)}</td>'
            f'<td class="status {status_mark}">{escape(status)}</td>{place}')


def rows_html(parts: Sequence[RowParts], *, columns: int, total: int) -> Markup:
    """The table body: one ``<tr>`` per line, or a single explaining row when there are none."""
    if not parts:
        text = "No SEB client is connected yet." if not total else "All connections are hidden by the state filters."
        return Markup(f'<tr class="empty"><td colspan="{columns}">{text}</td></tr>')
    return Markup("\n".join(part.markup for part in parts))
