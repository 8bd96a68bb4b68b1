// Exam monitoring: the live heat map and the instructions (templates/monitoring/*.html).
//
// The server's stream (htmx's SSE extension delivers it) starts with the whole table body ("rows"), then sends
// only what changed ("patch", see web/views/monitoring_diff.py): indicator cells as values, changed rows as
// markup, the order of the rows when it changed. Nothing is swapped wholesale: ticked checkboxes, a button under
// the mouse and the scroll position stay as they are, and rows move when the order changes.
(function () {
  "use strict";

  const body = document.getElementById("heatmap-rows");

  function boxes() {
    return body ? Array.prototype.slice.call(body.querySelectorAll("input[name=connection]")) : [];
  }

  // Indicator values of rows out of sight wait until the row comes into view. Any changed cell makes the browser
  // lay out the whole table again, about 150 ms with 5,000 rows, and the ping cell of every row changes every
  // second; the rows on screen are a few dozen.
  const inSight = new Set();  // keys of the rows on screen or close to it
  const waiting = new Map();  // key -> Map(cell index -> [text, background, dark]) not applied yet
  const sight = body && "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      const key = entry.target.dataset.key;
      if (!entry.isIntersecting) {
        inSight.delete(key);
        return;
      }
      inSight.add(key);
      const changes = waiting.get(key);
      if (!changes) return;
      waiting.delete(key);
      changes.forEach(function (value, index) {
        const cell = entry.target.cells[index];
        if (cell) setCell(cell, value[0], value[1], value[2]);
      });
    });
  }, { rootMargin: "400px 0px" }) : null;

  function watch(row) {
    if (sight && row.dataset.key) sight.observe(row);
  }

  function unwatch(row) {
    if (!row.dataset.key) return;
    if (sight) sight.unobserve(row);
    inSight.delete(row.dataset.key);
    waiting.delete(row.dataset.key);
  }

  // An indicator cell's colour: the server writes it as data-bg="rrggbb" (the Content Security Policy refuses style
  // attributes); it is set through the CSSOM, the same way app.js paints the page's first rows, so a cell painted
  // here and one painted there are equal nodes.
  function paint(cell) {
    cell.style.backgroundColor = "#" + cell.dataset.bg;
  }

  // Rows as the server writes them, parsed at once (one parse for many rows is much cheaper than one each), painted.
  function parseRows(markup) {
    const template = document.createElement("template");
    template.innerHTML = markup;
    Array.prototype.forEach.call(template.content.querySelectorAll("[data-bg]"), paint);
    return Array.prototype.slice.call(template.content.children);
  }

  // The cell is replaced when it differs (isEqualNode compares attributes and content without writing markup);
  // a ticked checkbox in it stays ticked.
  function patchCell(row, cell, fresh) {
    if (cell.isEqualNode(fresh)) return;
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

  function rowsByKey() {
    const rows = new Map();
    Array.prototype.forEach.call(body.children, function (row) {
      if (row.dataset.key) rows.set(row.dataset.key, row);
    });
    return rows;
  }

  // Puts the rows of ``keys`` in this order and removes every other row.
  function arrange(keys, rows) {
    let position = 0;
    keys.forEach(function (key) {
      const node = rows.get(String(key));
      if (!node) return;
      if (body.children[position] !== node) body.insertBefore(node, body.children[position] || null);
      position += 1;
    });
    while (body.children.length > position) {
      unwatch(body.lastElementChild);
      body.lastElementChild.remove();
    }
  }

  // Rows parsed from the server's markup take the place of the rows with their keys: kept and patched where
  // they are, new ones placed by the order. The markup is the row as it is now: changes waiting for it are void.
  function mergeRows(rows, fresh) {
    fresh.forEach(function (node) {
      const key = node.dataset.key || "";  // no key: the explaining row when no connection is shown
      const old = rows.get(key);
      waiting.delete(key);
      const kept = old ? patchRow(old, node) : node;
      if (old && kept !== old) {
        unwatch(old);
        old.replaceWith(kept);
      }
      if (kept !== old) watch(kept);
      rows.set(key, kept);
    });
  }

  // "rows": the whole body, at the start of each stream (the page's first, or after a reconnect).
  function replaceRows(html) {
    const rows = rowsByKey();
    const fresh = parseRows(html);
    mergeRows(rows, fresh);
    arrange(fresh.map(function (node) { return node.dataset.key || ""; }), rows);
  }

  // One indicator cell: text, background (empty: the table's own) and white text, as the server writes them.
  function setCell(cell, text, background, dark) {
    const node = cell.firstChild;
    if (node && node.nodeType === Node.TEXT_NODE && !node.nextSibling) {
      if (node.data !== text) node.data = text;
    } else {
      cell.textContent = text;
    }
    const className = dark ? "cell dark" : "cell";
    if (cell.className !== className) cell.className = className;
    if ((cell.dataset.bg || "") !== background) {
      if (background) {
        cell.dataset.bg = background;
        paint(cell);
      } else {
        delete cell.dataset.bg;
        cell.removeAttribute("style");
      }
    }
  }

  // "patch": what changed since the last event. Whether rows came, went or were replaced (the selection may have
  // changed with them).
  function applyPatch(patch) {
    const rows = rowsByKey();
    if (patch.rows) mergeRows(rows, parseRows(patch.rows.map(function (entry) { return entry[1]; }).join("")));
    if (patch.cells) {
      patch.cells.forEach(function (change) {
        const key = String(change[0]);
        const row = rows.get(key);
        if (!row) return;
        if (sight && !inSight.has(key)) {
          let changes = waiting.get(key);
          if (!changes) waiting.set(key, changes = new Map());
          changes.set(change[1], change.slice(2));  // the latest value of each cell
          return;
        }
        const cell = row.cells[change[1]];
        if (cell) setCell(cell, change[2], change[3], change[4]);
      });
    }
    if (patch.order) arrange(patch.order, rows);
    return Boolean(patch.rows || patch.order);
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
    Array.prototype.forEach.call(body.children, watch);
    body.addEventListener("htmx:sseBeforeMessage", function (event) {
      event.preventDefault();  // not htmx's swap: the rows are patched
      if (event.detail.type !== "patch") {
        replaceRows(event.detail.data);
        syncSelection();
      } else if (applyPatch(JSON.parse(event.detail.data))) {
        syncSelection();
      }
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
