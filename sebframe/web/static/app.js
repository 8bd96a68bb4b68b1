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
    if (form.matches("form[data-no-submit]")) {  // e.g. a read-only setting: Enter in its field does nothing
      event.preventDefault();
      return;
    }
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
  // "{id}" in an action's template is the row's id (URL-encoded); "{row:name}" is the row's data-name
  // attribute as it is (the server encodes it, e.g. a query string).
  function selectRow(row) {
    document.querySelectorAll("[data-row-dialog]").forEach(function (button) {
      button.disabled = !row.dataset.dialog;
      if (row.dataset.dialog) button.removeAttribute("aria-disabled");
      button.dataset.showDialog = row.dataset.dialog || "";
    });
    document.querySelectorAll("[data-row-action]").forEach(function (action) {
      const target = action.dataset.rowAction.replace("{id}", encodeURIComponent(row.dataset.id))
        .replace(/\{row:([a-zA-Z]+)\}/g, function (_, name) { return row.dataset[name] || ""; });
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

  // A row with data-dialog opens that <dialog> (details) instead of navigating to data-href.
  function openRow(row) {
    if (row.dataset.dialogUrl && window.htmx) return window.htmx.ajax("GET", row.dataset.dialogUrl, "#dialog-slot");
    const dialog = row.dataset.dialog && document.getElementById(row.dataset.dialog);
    if (dialog && dialog.showModal) dialog.showModal(); else window.location.href = row.dataset.href;
  }

  // Keyboard: rows are focusable; Enter opens, Space selects.
  document.querySelectorAll("tr[data-href]").forEach(function (row) { row.tabIndex = 0; });
  document.addEventListener("keydown", function (event) {
    const row = event.target.closest && event.target.closest("tr[data-href]");
    if (!row || event.target !== row) return;
    if (event.key === "Enter") openRow(row);
    if (event.key === " ") { event.preventDefault(); row.click(); }
  });

  // data-show-dialog="<id>" on a link or button opens that <dialog> (the link's href is the no-script page).
  document.addEventListener("click", function (event) {
    const opener = event.target.closest && event.target.closest("[data-show-dialog]");
    if (!opener) return;
    const dialog = document.getElementById(opener.dataset.showDialog);
    if (dialog && dialog.showModal) {
      event.preventDefault();
      dialog.showModal();
    }
  });

  // When htmx replaces a list, its selected row may be gone: the row actions then point nowhere again.
  document.addEventListener("htmx:afterSwap", function () {
    if (document.querySelector("tr[data-href].selected")) return;
    document.querySelectorAll("[data-row-dialog]").forEach(function (button) {
      button.disabled = true;
      button.setAttribute("aria-disabled", "true");
    });
    document.querySelectorAll("[data-row-action]").forEach(function (action) {
      if (action.tagName === "A") action.removeAttribute("href"); else action.disabled = true;
      action.classList.add("disabled");
      action.setAttribute("aria-disabled", "true");
    });
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
  // A list filter <select data-autosubmit> filters as soon as a value is chosen.
  document.addEventListener("change", function (event) {
    const select = event.target;
    if (select.matches && select.matches("select[data-autosubmit]") && select.form) select.form.requestSubmit();
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
    if (row) openRow(row);
  });
})();

// Colours chosen by users (indicator thresholds): data-bg="rrggbb" becomes the element's background. Set through
// the CSSOM, which the Content Security Policy allows, where a style attribute in the markup would be refused.
// Painted here when a page loads and when htmx brings in markup; the monitoring table's updates by monitoring.js.
function paintBackgrounds(root) {
  const elements = root.querySelectorAll ? Array.from(root.querySelectorAll("[data-bg]")) : [];
  if (root.matches && root.matches("[data-bg]")) elements.push(root);
  elements.forEach(function (element) {
    if (/^[0-9a-fA-F]{6}$/.test(element.dataset.bg)) element.style.backgroundColor = "#" + element.dataset.bg;
  });
}
paintBackgrounds(document);
document.addEventListener("htmx:load", function (event) {
  if (event.detail.elt !== document.body) paintBackgrounds(event.detail.elt);  // the body: htmx's start, done above
});

// A <dialog data-modal> that htmx brings in (e.g. the SEB restriction details) opens as a modal; closing it
// (Escape, a [data-close-dialog] button) removes it, so opening it again loads it afresh.
document.addEventListener("htmx:load", function (event) {
  const root = event.detail.elt;
  const dialogs = root.matches && root.matches("dialog[data-modal]") ? [root]
    : Array.from(root.querySelectorAll ? root.querySelectorAll("dialog[data-modal]") : []);
  dialogs.forEach(function (dialog) {
    dialog.addEventListener("close", function () { dialog.remove(); });
    if (dialog.open) return;
    if (dialog.showModal) dialog.showModal(); else dialog.setAttribute("open", "");
  });
});
// A row action link with data-dialog-link loads its page into #dialog-slot (the href stays the no-script page).
document.addEventListener("click", function (event) {
  const link = event.target.closest && event.target.closest("a[data-dialog-link][href]");
  if (!link || !window.htmx) return;
  event.preventDefault();
  window.htmx.ajax("GET", link.getAttribute("href"), "#dialog-slot");
});
document.addEventListener("click", function (event) {
  const closer = event.target.closest && event.target.closest("[data-close-dialog]");
  const dialog = closer && closer.closest("dialog");
  if (dialog) dialog.close ? dialog.close() : dialog.remove();
});

// SEB settings editor (exam configurations and templates): a refused value comes back as 422 (or 409) with the
// field and its inline error; htmx drops error answers by default, so swap these in.
document.addEventListener("htmx:beforeSwap", function (event) {
  const status = event.detail.xhr.status;
  if (status === 422 || status === 409) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// Exams and exam templates: the supporter picker, the threshold rows and the tag field of the indicator editor.
(function () {
  "use strict";

  // A ticked search result becomes a chosen supporter (the list of chosen ones is what the form sends).
  document.addEventListener("change", function (event) {
    const box = event.target;
    if (!box.matches || !box.matches("input[data-supporter-pick]") || !box.checked) return;
    const chosen = document.getElementById("supporter-selected");
    const item = box.closest("li");
    if (!chosen || !item) return;
    box.removeAttribute("data-supporter-pick");
    chosen.appendChild(item);
  });

  // "+ Add Threshold" copies the row template; "−" removes its row.
  document.addEventListener("click", function (event) {
    const add = event.target.closest && event.target.closest("[data-add-row]");
    if (add) {
      const template = document.getElementById(add.dataset.addRow);
      const target = document.getElementById(add.dataset.addTo);
      if (template && target) target.appendChild(template.content.cloneNode(true));
      return;
    }
    const remove = event.target.closest && event.target.closest("[data-remove-row]");
    if (remove) {
      const row = remove.closest("tr");
      if (row) row.remove();
    }
  });

  // Tags only for indicator types that read them; fixed tags are shown instead of the input.
  function syncIndicatorType(select) {
    const option = select.options[select.selectedIndex];
    const tags = document.getElementById("indicator-tags");
    if (!tags || !option) return;
    const fixed = option.dataset.fixedTags || "";
    const uses = option.dataset.usesTags === "true";
    tags.hidden = !uses;
    const input = document.getElementById("f-tags");
    if (input) input.disabled = !!fixed;
    const hint = document.getElementById("fixed-tags");
    if (hint) hint.textContent = fixed ? "Fixed tags of this type: " + fixed : "";
  }
  document.querySelectorAll("select[data-indicator-type]").forEach(syncIndicatorType);
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-indicator-type]")) syncIndicatorType(event.target);
  });
})();
