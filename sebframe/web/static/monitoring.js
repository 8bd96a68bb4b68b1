// Exam monitoring: the live heat map and the instructions (templates/monitoring/*.html).
//
// The server sends the whole table body every second (htmx's SSE extension delivers it). Instead of letting
// htmx replace the body, the rows are matched by their data-key and only cells that changed are replaced:
// ticked checkboxes, a button under the mouse and the scroll position stay as they are, and rows move when
// the order changes.
(function () {
  "use strict";

  const body = document.getElementById("heatmap-rows");

  function boxes() {
    return body ? Array.prototype.slice.call(body.querySelectorAll("input[name=connection]")) : [];
  }

  // The cell is replaced when its markup differs; a ticked checkbox in it stays ticked.
  function patchCell(row, cell, fresh) {
    if (cell.outerHTML === fresh.outerHTML) return;
    const box = cell.querySelector("input[type=checkbox]");
    const freshBox = fresh.querySelector("input[type=checkbox]");
    if (box && freshBox) freshBox.checked = box.checked;
    row.replaceChild(fresh, cell);
  }

  // The row to keep in the table: the old one patched, or the new one when the columns changed.
  function patchRow(row, fresh) {
    const cells = Array.prototype.slice.call(row.cells);
    const freshCells = Array.prototype.slice.call(fresh.cells);
    if (cells.length !== freshCells.length) {
      const box = row.querySelector("input[name=connection]");
      const freshBox = fresh.querySelector("input[name=connection]");
      if (box && freshBox) freshBox.checked = box.checked;
      return fresh;
    }
    if (row.className !== fresh.className) row.className = fresh.className;
    for (let index = 0; index < cells.length; index += 1) patchCell(row, cells[index], freshCells[index]);
    return row;
  }

  // The rows' markup as last applied, by data-key: a row whose markup did not change is not parsed again.
  // With thousands of rows only a few change per tick; parsing and comparing all of them every second made
  // the browser fall behind the stream.
  const applied = new Map();

  // The server writes one <tr> ... </tr> per row; text from clients is escaped, so "<tr" and "</tr>" only
  // ever delimit rows.
  function rowMarkups(html) {
    const rows = [];
    let start = html.indexOf("<tr");
    while (start !== -1) {
      const end = html.indexOf("</tr>", start);
      if (end === -1) break;
      rows.push(html.slice(start, end + 5));
      start = html.indexOf("<tr", end + 5);
    }
    return rows;
  }

  function keyOf(markup) {
    const found = /^<tr data-key="(\d+)"/.exec(markup);
    return found ? found[1] : null;
  }

  function parseRow(markup) {
    const template = document.createElement("template");
    template.innerHTML = markup;
    return template.content.firstElementChild;
  }

  function updateRows(html) {
    const existing = new Map();
    Array.prototype.forEach.call(body.children, function (row) {
      if (row.dataset.key) existing.set(row.dataset.key, row);
    });
    const seen = new Map();
    let position = 0;
    rowMarkups(html).forEach(function (markup) {
      const key = keyOf(markup);
      const old = key ? existing.get(key) : undefined;
      let node;
      if (old && applied.get(key) === markup) {
        node = old;  // unchanged since the last tick
      } else {
        node = parseRow(markup);
        if (old) node = patchRow(old, node);
      }
      if (key) {
        existing.delete(key);
        seen.set(key, markup);
      }
      if (old && node !== old) old.remove();
      if (body.children[position] !== node) body.insertBefore(node, body.children[position] || null);
      position += 1;
    });
    while (body.children.length > position) body.lastElementChild.remove();
    applied.clear();
    seen.forEach(function (markup, key) { applied.set(key, markup); });
  }

  // "n selected"; the actions on the selection are usable only with a selection.
  function syncSelection() {
    const all = boxes();
    const ticked = all.filter(function (box) { return box.checked; }).length;
    const counter = document.getElementById("selection-count");
    if (counter) counter.textContent = ticked ? ticked + " selected" : "No connection selected";
    document.querySelectorAll("[data-needs-selection]").forEach(function (button) { button.disabled = !ticked; });
    const every = document.getElementById("select-all");
    if (every) {
      every.checked = ticked > 0 && ticked === all.length;
      every.indeterminate = ticked > 0 && ticked < all.length;
    }
  }

  function setLive(text, failed) {
    const status = document.getElementById("live-status");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("failed", !!failed);
  }

  if (body) {
    body.addEventListener("htmx:sseBeforeMessage", function (event) {
      event.preventDefault();  // not htmx's swap: the rows are patched
      updateRows(event.detail.data);
      syncSelection();
      setLive("Live · " + new Date().toLocaleTimeString());
    });
    const live = document.getElementById("monitoring");
    live.addEventListener("htmx:sseOpen", function () { setLive("Live"); });
    live.addEventListener("htmx:sseError", function () { setLive("Connection lost, reconnecting…", true); });
    syncSelection();
  }

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target.id === "select-all") {
      boxes().forEach(function (box) { box.checked = target.checked; });
      syncSelection();
    } else if (target.name === "connection" && body && body.contains(target)) {
      syncSelection();
    }
  });

  // A click on a row (not on a link, button or the checkbox) ticks it; a double click opens the details.
  document.addEventListener("click", function (event) {
    const row = event.target.closest && event.target.closest("#heatmap-rows tr[data-key]");
    if (!row || event.target.closest("a, button, input, form, label")) return;
    const box = row.querySelector("input[name=connection]");
    if (!box) return;
    box.checked = !box.checked;
    syncSelection();
  });
  document.addEventListener("dblclick", function (event) {
    const row = event.target.closest && event.target.closest("tr[data-key], tr[data-detail]");
    if (!row || event.target.closest("a, button, input, form")) return;
    const link = row.querySelector("td.name a");
    if (link) window.location.href = link.href;
  });

  // Several actions share one form: each submit button may ask for its own confirmation.
  document.addEventListener("submit", function (event) {
    const button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });
})();
