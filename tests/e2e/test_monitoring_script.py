"""The monitoring page's script (static/monitoring.js) applying the stream's events in Chromium, without a server:
the events come from the server's own diff (``RowsDiff``) and are handed to the script as htmx's SSE extension
does. Rows on screen change at once; rows out of sight get their indicator values when they come into view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sebframe.core.monitoring.cells import Cell
from sebframe.web.views.monitoring_diff import RowsDiff
from sebframe.web.views.monitoring_rows import RowParts, RowView, row_parts, rows_html
from sebframe.web.views.monitoring_table import notification_label

pytestmark = pytest.mark.browser

SCRIPT = (Path(__file__).parents[2] / "sebframe" / "web" / "static" / "monitoring.js").read_text()
ROWS = 300  # far more than fit on the 600-pixel screen
RED = Cell("5", "ed1c24", True, True, True)
ZERO = Cell("0", "ffffff", False, False, False)

# Each row as shown: key, then per cell its class, background (data-bg, painted by the script) and text.
ROW_SHAPE = """row => [row.dataset.key, Array.from(row.cells).map(
    cell => [cell.className, cell.dataset.bg || "", cell.textContent])]"""
# Indicator cells whose painted background is not the colour they carry.
UNPAINTED = """() => Array.from(document.querySelectorAll("#heatmap-rows [data-bg]")).filter(cell => {
    const probe = document.createElement("i");
    probe.style.backgroundColor = "#" + cell.dataset.bg;
    return cell.style.backgroundColor !== probe.style.backgroundColor;
}).length"""
SHAPE = f"(selector) => Array.from(document.querySelectorAll(selector)).map({ROW_SHAPE})"
# The same of a row as the server writes it, parsed by the same browser.
WRITTEN_SHAPE = f"""([html, key]) => {{
    const template = document.createElement("template");
    template.innerHTML = "<table><tbody>" + html + "</tbody></table>";
    return [template.content.querySelector(`tr[data-key="${{key}}"]`)].map({ROW_SHAPE});
}}"""


def rows_at(tick: int, keys: range = range(1, ROWS + 1)) -> list[RowParts]:
    views = [RowView(key, f"user{key:03d}", "", (), "SEB 3.8 / Windows / 10.0.0.1", "", "Active", "ok",
                     (Cell(str((key * 7 + tick * 100) % 900), "ffffff", False, False, False),
                      RED if tick and key % 50 == 0 else ZERO)) for key in keys]
    return row_parts(views, exam_id=1, back="/monitoring/1", may_confirm=True, label=notification_label)


def page_with(page: Any, parts: list[RowParts]) -> None:
    page.set_viewport_size({"width": 1000, "height": 600})
    page.set_content(f"""<html><body><div id="monitoring"><span id="live-status"></span>
        <table><tbody id="heatmap-rows">{rows_html(parts, columns=6, total=len(parts))}</tbody></table></div>
        <script>{SCRIPT}</script></body></html>""")


def send(page: Any, event: tuple[str, str] | None) -> None:
    assert event is not None
    page.evaluate("""([type, data]) => document.getElementById("heatmap-rows").dispatchEvent(
        new CustomEvent("htmx:sseBeforeMessage", {detail: {type, data}, cancelable: true}))""", list(event))
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))")


def shape(page: Any, selector: str) -> Any:
    return page.evaluate(SHAPE, selector)


def expected(page: Any, parts: list[RowParts], key: int) -> Any:
    return page.evaluate(WRITTEN_SHAPE, [str(rows_html(parts, columns=6, total=len(parts))), key])


def test_rows_on_screen_change_at_once_and_rows_out_of_sight_when_they_come_into_view(browser_page) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    diff = RowsDiff(first_indicator=4)
    page_with(page, rows_at(0))
    send(page, diff.update(rows_at(1), lambda: rows_html(rows_at(1), columns=6, total=ROWS)))  # a new stream
    latest = rows_at(2)
    change = diff.update(latest, lambda: "")
    assert change is not None and change[0] == "patch"
    send(page, change)

    assert shape(page, 'tr[data-key="1"]') == expected(page, latest, 1)  # on screen
    last = f'tr[data-key="{ROWS}"]'
    assert shape(page, last) != expected(page, latest, ROWS)  # out of sight: still as before
    page.locator(last).scroll_into_view_if_needed()
    page.wait_for_function("""([selector, text]) => document.querySelector(selector).cells[4].textContent === text""",
                           arg=[last, latest[-1].values[0].text])
    assert shape(page, last) == expected(page, latest, ROWS)  # the red Errors cell too
    assert page.evaluate(UNPAINTED) == 0 and page.locator("#heatmap-rows [data-bg]").count() > 0


def test_rows_that_come_go_and_move_follow_the_order_with_ticked_rows_still_ticked(browser_page) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    diff = RowsDiff(first_indicator=4)
    first = rows_at(0, range(1, 6))
    page_with(page, first)
    send(page, diff.update(first, lambda: rows_html(first, columns=6, total=5)))
    page.check('tr[data-key="3"] input[name=connection]')
    moved = [*rows_at(1, range(6, 7)), *reversed(rows_at(1, range(2, 5)))]  # 1 and 5 went, 6 came, the rest turned
    send(page, diff.update(moved, lambda: ""))
    assert shape(page, "#heatmap-rows tr") == [row for key in (6, 4, 3, 2) for row in expected(page, moved, key)]
    assert page.is_checked('tr[data-key="3"] input[name=connection]')
    send(page, diff.update([], lambda: rows_html([], columns=6, total=5)))
    assert page.inner_text("#heatmap-rows") == "All connections are hidden by the state filters."
