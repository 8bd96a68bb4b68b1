"""The monitoring stream's diff: the whole body once, then only what changed (``web/views/monitoring_diff``)."""

from __future__ import annotations

import json

from sebframe.core.monitoring.cells import Cell
from sebframe.web.views.monitoring_diff import RowsDiff
from sebframe.web.views.monitoring_rows import RowParts, RowView, row_parts, rows_html
from sebframe.web.views.monitoring_table import notification_label, sse_event

WHITE = Cell("0", "ffffff", False, False, False)


def view(key: int, name: str = "", *, ping: str = "500", errors: Cell = WHITE, status: str = "Active") -> RowView:
    return RowView(key, name or f"user{key}", "", (), "SEB 3.7 / Windows / 10.0.0.1", "", status, "ok",
                   (Cell(ping, "ffffff", False, False, False), errors))


def parts(*views: RowView) -> list[RowParts]:
    return row_parts(list(views), exam_id=7, back="/monitoring/7", may_confirm=True, label=notification_label)


def update(diff: RowsDiff, rows: list[RowParts], total: int | None = None) -> tuple[str, str] | None:
    return diff.update(rows, lambda: rows_html(rows, columns=6, total=len(rows) if total is None else total))


def patch_of(change: tuple[str, str] | None) -> dict[str, object]:
    assert change is not None and change[0] == "patch", change
    return json.loads(change[1])


def test_a_new_stream_starts_with_the_whole_body_then_sends_nothing_while_nothing_changed() -> None:
    diff = RowsDiff(first_indicator=4)
    rows = parts(view(1), view(2))
    assert update(diff, rows) == ("rows", rows_html(rows, columns=6, total=2))
    assert update(diff, parts(view(1), view(2))) is None


def test_a_changed_indicator_cell_is_sent_as_values_with_its_index_in_the_row() -> None:
    diff = RowsDiff(first_indicator=4)
    update(diff, parts(view(1), view(2)))
    red = Cell("3", "ed1c24", True, True, True)
    assert patch_of(update(diff, parts(view(1, ping="900"), view(2, errors=red)))) == {
        "cells": [[1, 4, "900", "", 0], [2, 5, "3", "ed1c24", 1]]}  # the table's white: no background


def test_a_row_whose_fixed_cells_changed_is_sent_whole() -> None:
    diff = RowsDiff(first_indicator=4)
    update(diff, parts(view(1), view(2)))
    now = parts(view(1, status="Closed", ping="--"), view(2))
    assert patch_of(update(diff, now)) == {"rows": [[1, now[0].markup]]}


def test_rows_that_come_go_or_move_send_the_order() -> None:
    diff = RowsDiff(first_indicator=4)
    update(diff, parts(view(1), view(2), view(3)))
    now = parts(view(4), view(3), view(1))
    assert patch_of(update(diff, now)) == {"order": [4, 3, 1], "rows": [[4, now[0].markup]]}


def test_no_rows_is_a_whole_body_with_its_explaining_row_and_rows_after_it_are_whole_again() -> None:
    diff = RowsDiff(first_indicator=4)
    update(diff, parts(view(1)))
    hidden = update(diff, [], total=1)
    assert hidden is not None and hidden[0] == "rows" and "All connections are hidden" in hidden[1]
    assert update(diff, [], total=1) is None
    assert update(diff, [], total=0) == ("rows", rows_html([], columns=6, total=0))
    back = parts(view(1))
    assert update(diff, back) == ("rows", rows_html(back, columns=6, total=1))
    assert update(diff, parts(view(1, ping="700"))) == ("patch", '{"cells":[[1,4,"700","",0]]}')


def test_a_client_chosen_name_stays_inside_one_data_line() -> None:
    diff = RowsDiff(first_indicator=4)
    update(diff, parts(view(1)))
    change = update(diff, parts(view(1, name="eve\r\nevent: filters\u2028data: <b>x</b>")))
    assert change is not None
    event = sse_event(*change)
    assert event.count("\n") == 3 and event.startswith("event: patch\ndata: {")  # one data field
    markup = patch_of(change)["rows"][0][1]  # type: ignore[index]
    assert "&lt;b&gt;x&lt;/b&gt;" in markup and "<b>" not in markup

