"""The SEB settings editor shared by exam configurations and configuration templates.

Builds what the templates render from the catalogue: the 12 tabs, their groups in SEB Server's grid
order, one :class:`Field` per setting (widget, label, tooltip, value, options) and the table editors.
Every field is its own small form that htmx posts on change; the answer is the field again, with an
inline error when the value was refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sebframe.core.sebconfig import Attribute, AttributeType, Catalogue, View, is_imported_password
from sebframe.core.sebconfig.catalogue import label_for

# Option texts of the selections SEB's configuration tool names (others show their value).
OPTION_LABELS: dict[str, dict[str, str]] = {
    "browserViewMode": {"0": "Use browser window", "1": "Use full screen mode"},
    "mainBrowserWindowPositioning": {"0": "Left", "1": "Center", "2": "Right"},
    "newBrowserWindowByLinkPositioning": {"0": "Left", "1": "Center", "2": "Right"},
    "zoomMode": {"0": "Zoom page", "1": "Zoom text only"},
    "newBrowserWindowByLinkPolicy": {"0": "get generally blocked", "1": "open in same window",
                                     "2": "open in new window"},
    "browserUserAgentWinDesktopMode": {"0": "Use default (SEB) user agent", "1": "Custom"},
    "browserUserAgentWinTouchMode": {"0": "Use default (SEB) user agent", "1": "Use iPad user agent",
                                     "2": "Custom"},
    "browserUserAgentMac": {"0": "Use default (SEB) user agent", "1": "Custom"},
    "chooseFileToUploadPolicy": {"0": "manually with file requester",
                                 "1": "by attempting to upload the same file downloaded before",
                                 "2": "by only allowing to upload the same file downloaded before"},
    "proxySettingsPolicy": {"0": "Use system proxy settings", "1": "Use SEB proxy settings"},
    "sebServicePolicy": {"0": "Allow to run SEB without service", "1": "Display warning when service is not running",
                         "2": "Allow to use SEB only with service"},
    "kioskMode": {"0": "Create new desktop", "1": "Disable explorer shell", "2": "None (for debugging only)"},
    "logLevel": {"0": "Error", "1": "Warning", "2": "Info", "3": "Debug", "4": "Verbose"},
    "clipboardPolicy": {"0": "Allow", "1": "Block", "2": "Isolated"},
    "URLFilterRules.action": {"0": "block", "1": "allow"},
    "permittedProcesses.os": {"0": "macOS", "1": "Windows"},
    "prohibitedProcesses.os": {"0": "macOS", "1": "Windows"},
}

GROUP_LABELS = {
    "audio": "Audio Control", "browserViewMode": "Browser View Mode", "spellcheck": "Spell Checking",
    "taskbar": "Taskbar / Dock", "winsize": "Main Browser Window", "wintoolbar": "Browser Window Toolbar",
    "zoom": "Enable Zoom", "zoomMode": "Zoom Mode", "additionalWindow": "Additional Windows",
    "browserSecurity": "Browser Security", "examWindow": "Exam Window", "mediaPlaybackCapture":
    "Media Playback and Capture", "newBrowserWindow": "Links Requesting a New Window",
    "newwinsize": "New Browser Window Size and Position", "userAgentDesktop": "User Agent (Desktop Mode)",
    "userAgentMac": "User Agent (macOS)", "userAgentTouch": "User Agent (Touch Optimized Mode)",
    "backToStart": "Back to Start Button", "examSession": "Reconfiguring Exam Session",
    "queryParams": "Query Parameters", "quitLink": "Link to Quit SEB after Exam",
    "sessionHandling": "Session Handling", "proxies": "Proxies", "urlFilter": "URL Filter",
    "clipboardPolicy": "Clipboard", "kioskMode": "Kiosk Mode", "logging": "Logging",
    "macSettings": "macOS Specific Settings", "sebService": "SEB Service", "registry": "Windows Registry",
    "functionKeys": "Function Keys", "specialKeys": "Special Keys", "ai_faces_angle": "Face Angle",
    "ai_faces_number": "Number of Faces", "metadata": "Metadata", "screenshot": "Screenshots",
    "active": "Proxy Protocols",
}

# Table columns shown in a row's summary line (the others are in the row's details).
_SUMMARY_COLUMNS = ("active", "os", "executable", "title", "description", "expression", "extension")
_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


def group_label(group: str | None) -> str:
    if not group:
        return ""
    base, _, condition = group.partition("[")
    if base in GROUP_LABELS:
        return GROUP_LABELS[base]
    if base:
        return label_for(base.replace("_", " ").title().replace(" ", ""))
    return condition.rstrip("]").split("|")[-1].replace("ScreenProctoring", "Screen Proctoring").title()


def option_label(name: str, value: str) -> str:
    return OPTION_LABELS.get(name, {}).get(value, value)


def dom_id(path: str) -> str:
    return "s-" + _SAFE_ID.sub("_", path)


@dataclass
class Field:
    """One setting (or table cell) as the editor renders it. Password values are never put here."""

    path: str  # "allowQuit", "URLFilterRules.0.expression"
    url: str
    label: str
    tooltip: str
    widget: str  # checkbox, text, number, select, radio, textarea, password, combo, color, multi
    value: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    selected: frozenset[str] = frozenset()
    error: str = ""
    readonly: bool = False
    password_state: str = ""  # "", "set", "imported"
    hint: str = ""
    col_start: int = 0
    col_span: int = 1
    title_top: bool = False
    hidden: bool = False  # a template's setting detached from the exam configurations' view
    minimum: str = ""
    maximum: str = ""

    @property
    def dom_id(self) -> str:
        return dom_id(self.path)

    @property
    def checked(self) -> bool:
        return self.value == "true"


@dataclass
class RowView:
    index: int
    summary: str
    cells: list[Field]
    delete_url: str


@dataclass
class TableView:
    name: str
    label: str
    tooltip: str
    add_url: str
    columns: list[str]
    rows: list[RowView]
    compact: bool  # a plain table of cells; otherwise one expandable block per row
    readonly: bool
    composite: bool = False
    open_row: int | None = None
    error: str = ""

    @property
    def dom_id(self) -> str:
        return "t-" + _SAFE_ID.sub("_", self.name)

    @property
    def can_add(self) -> bool:
        return not self.readonly and not (self.composite and self.rows)


@dataclass
class Block:
    """A titled group (or one ungrouped setting) placed on a tab."""

    label: str
    span: int
    fields: list[Field | TableView]
    columns: int
    start: int = 0  # explicit first grid column (0: wherever it fits)

    @property
    def grid_classes(self) -> str:
        """Its place on the tab's 12-column grid, as classes of app.css (the CSP allows no style attributes)."""
        return f"gc-start-{self.start} gc-span-{self.span}" if self.start else f"gc-span-{self.span}"


@dataclass
class Tab:
    name: str
    label: str
    blocks: list[Block]
    count: int


class Editor:
    """Turns the catalogue and a configuration's values into tabs, fields and tables."""

    def __init__(self, catalogue: Catalogue, base_url: str, *, readonly: bool, hidden: Iterable[str] = (),
                 show_hidden: bool = False) -> None:
        self.catalogue = catalogue
        self.base_url = base_url  # ".../{id}/settings"
        self.readonly = readonly
        self.hidden = frozenset(hidden)
        self.show_hidden = show_hidden  # templates show detached settings (marked), exam configurations not

    def tabs(self) -> list[tuple[View, int]]:
        by_view = self.catalogue.by_view()
        return [(view, len(self._visible(by_view.get(view.name, ())))) for view in self.catalogue.views()]

    def _visible(self, attributes: Iterable[Attribute]) -> list[Attribute]:
        return [a for a in attributes if self.show_hidden or a.name not in self.hidden]

    def tab(self, name: str, values: Mapping[str, Any]) -> Tab:
        view = self.catalogue.view(name)
        attributes = self._visible(self.catalogue.by_view().get(name, ()))
        groups: dict[str | None, list[Attribute]] = {}
        order: list[str | None | Attribute] = []
        for attr in attributes:
            group = attr.orientation.group if attr.orientation else None
            if group is None:
                order.append(attr)
            elif group not in groups:
                groups[group] = [attr]
                order.append(group)
            else:
                groups[group].append(attr)
        blocks = []
        for entry in order:
            members = [entry] if isinstance(entry, Attribute) else groups[entry]
            label = "" if isinstance(entry, Attribute) else group_label(entry)
            blocks.append(self._block(view, label, members, values))
        return Tab(view.name, view.label, blocks, len(attributes))

    def _block(self, view: View, label: str, members: Sequence[Attribute], values: Mapping[str, Any]) -> Block:
        placed = [m.orientation for m in members if m.orientation is not None]
        low = min(o.x for o in placed)
        high = max(o.x + o.width for o in placed)
        extent = max(1, high - low)
        span = max(4, min(12, round(extent * 12 / view.columns)))
        start = 0
        if view.columns < 12:  # the narrow "General" tab: one setting under the other, as in SEB Server
            span, start = 6, 1
        items: list[Field | TableView] = []
        for attr in members:
            item = self.item(attr, values.get(attr.name))
            if isinstance(item, Field) and attr.orientation is not None:
                item.col_start = attr.orientation.x - low + 1
                item.col_span = max(1, min(attr.orientation.width, extent - item.col_start + 1))
                item.title_top = attr.orientation.title.value == "TOP"
            items.append(item)
        return Block(label, span, items, extent, start)

    def item(self, attr: Attribute, value: Any, *, error: str = "", raw: str | None = None) -> Field | TableView:
        if attr.is_table:
            return self.table(attr, value if isinstance(value, list) else [])
        return self.field(attr, value, f"{self.base_url}/{attr.name}", attr.name, error=error, raw=raw)

    def field(self, attr: Attribute, value: Any, url: str, path: str, *, error: str = "",
              raw: str | None = None) -> Field:
        shown = raw if raw is not None else value
        text = "" if shown is None else str(shown)
        f = Field(path=path, url=url, label=attr.label, tooltip=attr.description, widget=_widget(attr),
                  value=text, error=error, readonly=self.readonly, hidden=attr.name in self.hidden)
        if f.widget == "password":
            f.value = ""
            f.password_state = "imported" if is_imported_password(value) else "set" if value else ""
        elif f.widget in ("select", "radio", "combo"):
            f.options = [(option, option_label(attr.name, option)) for option in attr.options]
            if f.widget != "combo" and text and text not in attr.options:
                f.options.append((text, text))  # an imported value outside the options stays selectable
        elif f.widget == "multi":
            f.options = [(option, option) for option in attr.options]
            f.selected = frozenset(item for item in text.split(",") if item)
        elif f.widget == "number" and attr.value_range:
            f.minimum, f.maximum = attr.value_range[0], attr.value_range[1] or ""
        if attr.type == AttributeType.INLINE_TABLE:
            columns = ", ".join(c.name for c in attr.columns)
            f.hint = f"Entries separated by ',', fields by '|', as name=value ({columns})."
        elif attr.type == AttributeType.TEXT_FIELD_LIST or f.widget == "multi":
            f.hint = "Several values separated by ','."
        return f

    def table(self, attr: Attribute, rows: Sequence[Mapping[str, Any]], *, open_row: int | None = None,
              error: str = "") -> TableView:
        children = self.catalogue.children(attr.name)
        composite = attr.type == AttributeType.COMPOSITE_TABLE
        if composite:
            children = tuple(sorted(children, key=_proxy_order))
        compact = not composite and len(children) <= 4
        base = f"{self.base_url}/{attr.name}/rows"
        views = []
        for index, row in enumerate(rows):
            cells = [self.cell(attr, child, index, row.get(child.key)) for child in children]
            summary = " · ".join(
                option_label(f"{attr.name}.{k}", str(row.get(k))) if k != "active"
                else ("active" if row.get(k) == "true" else "inactive")
                for k in _SUMMARY_COLUMNS if row.get(k) not in (None, "")
            )
            views.append(RowView(index, summary or f"Entry {index + 1}", cells, f"{base}/{index}/delete"))
        return TableView(
            name=attr.name, label=attr.label, tooltip=attr.description, add_url=base,
            columns=[label_for(child.key) for child in children], rows=views, compact=compact,
            readonly=self.readonly, composite=composite, open_row=open_row, error=error,
        )


    def cell(self, table: Attribute, column: Attribute, index: int, value: Any, *, error: str = "",
             raw: str | None = None) -> Field:
        """One cell of a table row (posted to ``.../rows/{index}/{column}``)."""
        f = self.field(column, value, f"{self.base_url}/{table.name}/rows/{index}/{column.key}",
                       f"{table.name}.{index}.{column.key}", error=error, raw=raw)
        f.label = label_for(column.key)
        return f


_PROXY_PROTOCOLS = ("AutoDiscovery", "AutoConfiguration", "HTTPS", "HTTP", "FTP", "SOCKS", "RTSP")
_PROXY_PARTS = ("Enabled", "Enable", "URL", "JavaScript", "Proxy", "Port", "RequiresPassword", "Username", "Password",
                "Passive")


def _proxy_order(column: Attribute) -> tuple[int, int, str]:
    """Proxy settings by protocol (enable, host, port, credentials), the general ones last."""
    key = column.key
    for index, protocol in enumerate(_PROXY_PROTOCOLS):
        if key.startswith(protocol):
            part = key[len(protocol):]
            return index, _PROXY_PARTS.index(part) if part in _PROXY_PARTS else 99, key
    return len(_PROXY_PROTOCOLS), 0, key


def _widget(attr: Attribute) -> str:
    t = attr.type
    if t == AttributeType.CHECKBOX:
        return "checkbox"
    if t == AttributeType.PASSWORD_FIELD:
        return "password"
    if t in (AttributeType.TEXT_AREA, AttributeType.INLINE_TABLE):
        return "textarea"
    if t == AttributeType.SINGLE_SELECTION:
        return "select"
    if t == AttributeType.RADIO_SELECTION:
        return "radio"
    if t == AttributeType.COMBO_SELECTION:
        return "combo"
    if t in (AttributeType.MULTI_SELECTION, AttributeType.MULTI_CHECKBOX_SELECTION):
        return "multi"
    if t == AttributeType.COLOR_SELECTOR:
        return "color"
    if t == AttributeType.SLIDER:
        return "number"
    return "text"


def submitted_value(attr: Attribute, form_values: Sequence[str]) -> str | None:
    """The value a field form posted: checkboxes send a hidden "false" then "true" when ticked, multi
    selections one entry per ticked option."""
    if attr.type == AttributeType.CHECKBOX:
        return "true" if "true" in form_values else "false"
    if attr.type in (AttributeType.MULTI_SELECTION, AttributeType.MULTI_CHECKBOX_SELECTION):
        return ",".join(v for v in form_values if v)
    return form_values[-1] if form_values else ""
