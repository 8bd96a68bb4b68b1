// Small behaviours of the admin UI; htmx does the partial updates.
(function () {
  "use strict";

  // Warn before leaving a form in edit mode with unsaved changes (seed: "Forms").
  let dirty = false;
  document.addEventListener("input", function (event) {
    if (event.target.closest("form[data-warn-unsaved]")) dirty = true;
  });
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.matches("form[data-warn-unsaved]")) dirty = false;
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Lists: a click selects a row (its actions become active), a double click opens it.
  document.addEventListener("click", function (event) {
    const row = event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a, button, input, select")) return;
    const table = row.closest("table");
    table.querySelectorAll("tr.selected").forEach(function (other) { other.classList.remove("selected"); });
    row.classList.add("selected");
    selectRow(row);
  });

  // Does the row have the flags an action asks for ("active", "!active editable", ...)?
  function rowMatches(row, when) {
    if (!when) return true;
    const flags = (row.dataset.flags || "").split(/\s+/);
    return when.split(/\s+/).every(function (flag) {
      return flag.charAt(0) === "!" ? flags.indexOf(flag.slice(1)) < 0 : flags.indexOf(flag) >= 0;
    });
  }

  // Point the row actions of the action pane at the selected row; show only those that apply to it.
  function selectRow(row) {
    document.querySelectorAll("[data-row-action]").forEach(function (action) {
      const target = action.dataset.rowAction.replace("{id}", encodeURIComponent(row.dataset.id));
      const holder = action.tagName === "BUTTON" ? action.closest("form") : action;
      const usable = rowMatches(row, action.dataset.rowWhen);
      holder.hidden = !usable && !!action.dataset.rowWhen;
      if (action.tagName === "A") {
        if (usable) action.href = target; else action.removeAttribute("href");
      } else {
        holder.action = target;
        action.disabled = !usable;
      }
      action.classList.toggle("disabled", !usable);
      if (usable) action.removeAttribute("aria-disabled"); else action.setAttribute("aria-disabled", "true");
    });
  }

  // Keyboard: rows are focusable; Enter opens, Space selects.
  document.querySelectorAll("tr[data-href]").forEach(function (row) { row.tabIndex = 0; });
  document.addEventListener("keydown", function (event) {
    const row = event.target.closest && event.target.closest("tr[data-href]");
    if (!row || event.target !== row) return;
    if (event.key === "Enter") window.location.href = row.dataset.href;
    if (event.key === " ") { event.preventDefault(); row.click(); }
  });

  // Logo upload: show the chosen image before saving.
  document.addEventListener("change", function (event) {
    const input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-logo-preview]")) return;
    const preview = input.parentElement.querySelector("img.logo-preview.new");
    if (!preview) return;
    const file = input.files && input.files[0];
    if (file && /^image\/(png|jpeg)$/.test(file.type)) {
      preview.src = URL.createObjectURL(file);
      preview.hidden = false;
    } else {
      preview.hidden = true;
      preview.removeAttribute("src");
    }
  });
  // A checkbox with data-toggles="<id>" shows that element only while it is checked (e.g. the fallback fields).
  function syncToggle(box) {
    const target = document.getElementById(box.dataset.toggles);
    if (target) target.hidden = !box.checked;
  }
  document.querySelectorAll("input[type=checkbox][data-toggles]").forEach(syncToggle);
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[type=checkbox][data-toggles]")) syncToggle(event.target);
  });

  document.addEventListener("dblclick", function (event) {
    const row = event.target.closest("tr[data-href]");
    if (row) window.location.href = row.dataset.href;
  });
})();

// SEB settings editor (exam configurations and templates): a refused value comes back as 422 (or 409) with the
// field and its inline error; htmx drops error answers by default, so swap these in.
document.addEventListener("htmx:beforeSwap", function (event) {
  const status = event.detail.xhr.status;
  if (status === 422 || status === 409) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
