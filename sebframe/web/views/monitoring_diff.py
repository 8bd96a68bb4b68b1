"""What the monitoring page's table needs each second to catch up with the exam: the whole body once, then only
what changed.

With thousands of connections the body is megabytes of HTML, and a browser needs about a second to apply it: it
fell behind a stream that sends it every second. Most ticks change one cell per row (the time since the last
ping), so a ``patch`` carries the changed indicator cells as values (text, background, white text), whole rows
only when something else in them changed, and the order of the keys only when rows came, went or moved.

The ``patch`` event's data is one line of JSON::

    {"order": [key, ...],                      # the rows shown, in order (absent: unchanged)
     "rows": [[key, "<tr ...>...</tr>"], ...],  # new rows, and rows whose fixed cells changed
     "cells": [[key, index, text, background, dark], ...]}  # indicator cells (index among the row's cells)

A new stream (the page's first, or a reconnect) starts with a ``rows`` event: the whole body.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from sebframe.web.views.monitoring_rows import RowParts, cell_change


class RowsDiff:
    """Follows what one page was sent; ``update`` returns the event that brings it up to date, or None."""

    def __init__(self, first_indicator: int) -> None:
        self.first_indicator = first_indicator
        self._sent: dict[int, RowParts] = {}
        self._order: list[int] = []
        self._body: str | None = None  # the last whole body, while it is sent as such (no rows: its text)

    def update(self, parts: Sequence[RowParts], body: Callable[[], str]) -> tuple[str, str] | None:
        """``parts``: the rows now shown; ``body`` writes their whole table body, sent when a patch cannot say it
        (the first event, and whenever there are no rows: the body is then one explaining row without a key)."""
        if not parts or self._body is not None or not self._order:
            html = body()
            if html == self._body:
                return None
            self._body = html if not parts else None
            self._remember(parts)
            return "rows", html
        patch: dict[str, object] = {}
        order = [part.key for part in parts]
        if order != self._order:
            patch["order"] = order
        rows: list[list[object]] = []
        cells: list[list[object]] = []
        sent = self._sent
        for part in parts:
            before = sent.get(part.key)
            if before is None or before.head != part.head or len(before.cells) != len(part.cells):
                rows.append([part.key, part.markup])
            elif before.cells != part.cells:
                for index, (old, new) in enumerate(zip(before.cells, part.cells, strict=True)):
                    if old != new:
                        cells.append([part.key, self.first_indicator + index, *cell_change(part.values[index])])
        if rows:
            patch["rows"] = rows
        if cells:
            patch["cells"] = cells
        self._remember(parts)
        return ("patch", json.dumps(patch, separators=(",", ":"))) if patch else None

    def _remember(self, parts: Sequence[RowParts]) -> None:
        self._sent = {part.key: part for part in parts}
        self._order = [part.key for part in parts]
