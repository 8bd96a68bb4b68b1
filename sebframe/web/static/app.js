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
    document.querySelectorAll("[data-row-action]").forEach(function (action) {
      const template = action.dataset.rowAction;
      const id = row.dataset.id;
      if (action.tagName === "A") action.href = template.replace("{id}", id);
      else action.closest("form").action = template.replace("{id}", id);
      action.removeAttribute("aria-disabled");
      action.classList.remove("disabled");
      if (action.tagName === "BUTTON") action.disabled = false;
    });
  });
  document.addEventListener("dblclick", function (event) {
    const row = event.target.closest("tr[data-href]");
    if (row) window.location.href = row.dataset.href;
  });
})();
