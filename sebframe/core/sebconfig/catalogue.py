"""The catalogue of SEB settings an exam configuration can hold (SEB Server's setting model).

SEB Server keeps its SEB settings as rows of the table ``configuration_attribute`` (393 rows:
319 root settings and 74 columns of the five tables) and places them on the GUI tabs with the
table ``orientation``. Both are shipped as data files (``data/*.tsv``, see ``data/README.md``)
and loaded once by :func:`load_catalogue`::

    cat = load_catalogue()
    cat["allowQuit"].type          # AttributeType.CHECKBOX
    cat.children("URLFilterRules") # the four column attributes, in export order
    cat.by_view()["network"]       # root settings on the "Network" tab, in grid order

An attribute's :attr:`Attribute.value_kind` says how its value is written to a ``.seb`` plist
(SEB Server's ``AttributeValueConverterServiceImpl``: converter chosen by *name first*, then by
type); values themselves are handled in :mod:`.settings` and :mod:`.settings_io`. SEB Server's default
rows of the process tables come with it (:func:`initial_table_rows`).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from importlib import resources as importlib_resources
from typing import Any

from .config_key import seb_sort_key
from .plist import parse_plist

__all__ = [
    "VIEWS",
    "Attribute",
    "AttributeType",
    "Catalogue",
    "InlineColumn",
    "Orientation",
    "TitleOrientation",
    "ValueKind",
    "View",
    "data_file",
    "initial_table_rows",
    "load_catalogue",
]

ATTRIBUTES_FILE = "seb_server_configuration_attributes.tsv"
ORIENTATIONS_FILE = "seb_server_orientations.tsv"
INITIAL_ROW_FILES = ("initialPermittedProcesses.xml", "initialProhibitedProcesses.xml")


class AttributeType(StrEnum):
    """SEB Server's ``AttributeType`` (GUI widget and storage kind of a setting)."""

    LABEL = "LABEL"
    TEXT_FIELD = "TEXT_FIELD"
    PASSWORD_FIELD = "PASSWORD_FIELD"
    TEXT_AREA = "TEXT_AREA"
    TEXT_FIELD_LIST = "TEXT_FIELD_LIST"
    CHECKBOX = "CHECKBOX"
    SLIDER = "SLIDER"
    INTEGER = "INTEGER"
    DECIMAL = "DECIMAL"
    SINGLE_SELECTION = "SINGLE_SELECTION"
    COMBO_SELECTION = "COMBO_SELECTION"
    RADIO_SELECTION = "RADIO_SELECTION"
    MULTI_SELECTION = "MULTI_SELECTION"
    MULTI_CHECKBOX_SELECTION = "MULTI_CHECKBOX_SELECTION"
    COLOR_SELECTOR = "COLOR_SELECTOR"
    FILE_UPLOAD = "FILE_UPLOAD"
    TABLE = "TABLE"
    INLINE_TABLE = "INLINE_TABLE"
    COMPOSITE_TABLE = "COMPOSITE_TABLE"


class ValueKind(StrEnum):
    """How a stored value is written to the ``.seb`` plist (which SEB Server converter applies)."""

    BOOLEAN = "boolean"  # BooleanConverter: <true />/<false />
    INTEGER = "integer"  # IntegerConverter
    REAL = "real"  # RealNumberConverter (by name only)
    STRING = "string"  # StringConverter (passwords: SHA-256 hex)
    STRING_ARRAY = "string_array"  # ArrayOfStringConverter: "a,b" -> [a, b]
    TABLE = "table"  # TableConverter: array of dicts
    COMPOSITE_TABLE = "composite_table"  # TableConverter: one dict, omitted when empty
    INLINE_TABLE = "inline_table"  # InlineTableConverter: "name=v|name=v,..." -> array of dicts
    KIOSK_MODE = "kiosk_mode"  # KioskModeConverter: kioskMode -> createNewDesktop + killExplorerShell
    NONE = "none"  # LABEL / FILE_UPLOAD: no converter, never exported


# Converter choice by attribute name, which wins over the type (converter/*.java, SUPPORTED_ATTR_NAMES).
INTEGER_NAMES = frozenset(
    {
        "taskBarHeight",
        "allowedDisplaysMaxNumber",
        "allowMacOSVersionNumberMajor",
        "allowMacOSVersionNumberMinor",
        "allowMacOSVersionNumberPatch",
    }
)
REAL_NAMES = frozenset(
    {
        "defaultPageZoomLevel",
        "defaultTextZoomLevel",
        "screenProctoringImageDownscale",
        "batteryChargeThresholdCritical",
        "batteryChargeThresholdLow",
    }
)
STRING_ARRAY_NAMES = frozenset({"ExceptionsList"})
KIOSK_MODE_NAME = "kioskMode"

_KIND_BY_TYPE = {
    AttributeType.CHECKBOX: ValueKind.BOOLEAN,
    AttributeType.INTEGER: ValueKind.INTEGER,
    AttributeType.SLIDER: ValueKind.INTEGER,
    AttributeType.SINGLE_SELECTION: ValueKind.INTEGER,
    AttributeType.RADIO_SELECTION: ValueKind.INTEGER,
    AttributeType.TEXT_FIELD: ValueKind.STRING,
    AttributeType.TEXT_AREA: ValueKind.STRING,
    AttributeType.PASSWORD_FIELD: ValueKind.STRING,
    AttributeType.DECIMAL: ValueKind.STRING,
    AttributeType.COMBO_SELECTION: ValueKind.STRING,
    AttributeType.COLOR_SELECTOR: ValueKind.STRING,
    AttributeType.MULTI_CHECKBOX_SELECTION: ValueKind.STRING_ARRAY,
    AttributeType.MULTI_SELECTION: ValueKind.STRING_ARRAY,
    AttributeType.TEXT_FIELD_LIST: ValueKind.STRING_ARRAY,
    AttributeType.TABLE: ValueKind.TABLE,
    AttributeType.COMPOSITE_TABLE: ValueKind.COMPOSITE_TABLE,
    AttributeType.INLINE_TABLE: ValueKind.INLINE_TABLE,
}

_SELECTION_TYPES = frozenset(
    {
        AttributeType.SINGLE_SELECTION,
        AttributeType.RADIO_SELECTION,
        AttributeType.COMBO_SELECTION,
        AttributeType.MULTI_SELECTION,
        AttributeType.MULTI_CHECKBOX_SELECTION,
    }
)


class TitleOrientation(StrEnum):
    """Where the GUI puts a setting's label (SEB Server ``TitleOrientation``)."""

    NONE = "NONE"
    LEFT = "LEFT"
    LEFT_SPAN = "LEFT_SPAN"
    RIGHT = "RIGHT"
    RIGHT_SPAN = "RIGHT_SPAN"
    TOP = "TOP"


@dataclass(frozen=True)
class View:
    """A tab of the exam-configuration editor (SEB Server table ``view``, template 0)."""

    id: int
    name: str
    label: str
    columns: int
    position: int


# SEB Server order; labels follow the tabs of the SEB configuration tool.
VIEWS: tuple[View, ...] = (
    View(1, "general", "General", 4, 1),
    View(2, "user_interface", "User Interface", 12, 2),
    View(3, "browser", "Browser", 12, 3),
    View(4, "down_upload", "Down/Uploads", 12, 4),
    View(5, "exam", "Exam", 12, 5),
    View(6, "applications", "Applications", 12, 6),
    View(7, "resources", "Additional Resources", 12, 7),
    View(8, "network", "Network", 12, 8),
    View(9, "security", "Security", 12, 9),
    View(10, "registry", "Registry", 12, 10),
    View(11, "hooked_keys", "Hooked Keys", 12, 11),
    View(12, "proctoring", "Proctoring", 12, 12),
)


@dataclass(frozen=True)
class Orientation:
    """Grid placement of an attribute on a tab (SEB Server table ``orientation``, template 0)."""

    view: str
    group: str | None
    x: int
    y: int
    width: int
    height: int
    title: TitleOrientation


@dataclass(frozen=True)
class InlineColumn:
    """A column of an INLINE_TABLE (resources ``weight:name:TYPE``, e.g. ``1:active:CHECKBOX``)."""

    weight: int
    name: str
    type: AttributeType


@dataclass(frozen=True)
class Attribute:
    """One SEB setting (or one column of a table setting).

    ``name`` is SEB Server's attribute name: table columns are prefixed with the table name
    (``URLFilterRules.expression``), the columns of the composite table ``proxies`` are not.
    ``parent`` is the parent's name, ``children`` the column names in export order.
    ``resources`` is parsed by type: option strings for selections, ``(min, max)`` strings for
    SLIDER/DECIMAL, :class:`InlineColumn` tuples for INLINE_TABLE, tuples of GUI group names for
    COMPOSITE_TABLE, otherwise ``()``; ``raw_resources`` keeps the text. ``dependencies`` holds
    the parsed ``key=value`` pairs. ``default`` is ``None`` for SQL NULL.
    """

    id: int
    name: str
    type: AttributeType
    parent: str | None = None
    children: tuple[str, ...] = ()
    resources: tuple[Any, ...] = ()
    validator: str | None = None
    dependencies: tuple[tuple[str, str], ...] = ()
    default: str | None = None
    raw_resources: str | None = None
    orientation: Orientation | None = None
    label: str = ""
    description: str = ""

    @property
    def key(self) -> str:
        """The key in the ``.seb`` file (the name without a ``table.`` prefix)."""
        return _key_of(self.name)

    @property
    def is_root(self) -> bool:
        return self.parent is None

    @property
    def is_table(self) -> bool:
        return self.type in (AttributeType.TABLE, AttributeType.COMPOSITE_TABLE)

    @property
    def options(self) -> tuple[str, ...]:
        """Selectable values of a selection attribute (``()`` for other types)."""
        return self.resources if self.type in _SELECTION_TYPES else ()

    @property
    def value_range(self) -> tuple[str, str | None] | None:
        """``(min, max)`` of a SLIDER/DECIMAL attribute from its resources, else ``None``."""
        if self.type in (AttributeType.SLIDER, AttributeType.DECIMAL) and self.resources:
            return self.resources[0], (self.resources[1] if len(self.resources) > 1 else None)
        return None

    @property
    def columns(self) -> tuple[InlineColumn, ...]:
        """Columns of an INLINE_TABLE in export order (sorted by name)."""
        if self.type != AttributeType.INLINE_TABLE:
            return ()
        return tuple(sorted(self.resources, key=lambda c: seb_sort_key(c.name)))

    @property
    def value_kind(self) -> ValueKind:
        if self.name == KIOSK_MODE_NAME:
            return ValueKind.KIOSK_MODE
        if self.name in INTEGER_NAMES:
            return ValueKind.INTEGER
        if self.name in REAL_NAMES:
            return ValueKind.REAL
        if self.name in STRING_ARRAY_NAMES:
            return ValueKind.STRING_ARRAY
        return _KIND_BY_TYPE.get(self.type, ValueKind.NONE)

    def dependency(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.dependencies:
            if k == key:
                return v
        return default


class Catalogue(Mapping[str, Attribute]):
    """All attributes by name, with tree, view and default helpers. Immutable."""

    def __init__(self, attributes: Iterable[Attribute], views: Sequence[View] = VIEWS) -> None:
        self._by_name: dict[str, Attribute] = {}
        for attr in sorted(attributes, key=lambda a: a.id):
            if attr.name in self._by_name:
                raise ValueError(f"Duplicate attribute name {attr.name!r}.")
            self._by_name[attr.name] = attr
        for attr in self._by_name.values():
            if attr.parent is not None and attr.parent not in self._by_name:
                raise ValueError(f"Attribute {attr.name!r} has an unknown parent {attr.parent!r}.")
        self._views = tuple(sorted(views, key=lambda v: v.position))
        self._roots = tuple(a for a in self._by_name.values() if a.parent is None)

    # Mapping protocol ----------------------------------------------------------------------
    def __getitem__(self, name: str) -> Attribute:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    # A catalogue is a fixed object (cached by identity), not a value compared item by item.
    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<Catalogue {len(self)} attributes, {len(self._roots)} root>"

    # Queries ---------------------------------------------------------------------------------
    def attributes(self) -> tuple[Attribute, ...]:
        """All attributes, by id."""
        return tuple(self._by_name.values())

    def root_attributes(self) -> tuple[Attribute, ...]:
        """The settings of an exam configuration (no table columns), by id."""
        return self._roots

    def children(self, name: str) -> tuple[Attribute, ...]:
        """Column attributes of a table attribute, in export order (sorted by key)."""
        return tuple(self._by_name[c] for c in self._by_name[name].children)

    def child(self, table: str, key: str) -> Attribute | None:
        """The column of ``table`` whose ``.seb`` key is ``key``, or ``None``."""
        for attr in self.children(table):
            if attr.key == key:
                return attr
        return None

    def views(self) -> tuple[View, ...]:
        return self._views

    def view(self, name: str) -> View:
        for view in self._views:
            if view.name == name:
                return view
        raise KeyError(name)

    def by_view(self) -> dict[str, tuple[Attribute, ...]]:
        """Root attributes placed on each tab (in SEB Server tab order), sorted by grid row/column.

        Table columns are not listed (see :meth:`children`); settings without an orientation
        (:meth:`hidden_attributes`) appear on no tab.
        """
        result: dict[str, list[Attribute]] = {view.name: [] for view in self._views}
        for attr in self._roots:
            if attr.orientation is not None:
                result.setdefault(attr.orientation.view, []).append(attr)
        return {
            view: tuple(sorted(attrs, key=lambda a: (a.orientation.y, a.orientation.x, a.id)))  # type: ignore[union-attr]
            for view, attrs in result.items()
        }

    def hidden_attributes(self) -> tuple[Attribute, ...]:
        """Root attributes without a place in the GUI (still stored and exported)."""
        return tuple(a for a in self._roots if a.orientation is None)

    # Construction ------------------------------------------------------------------------------
    @classmethod
    def from_records(
        cls,
        attributes: Iterable[Mapping[str, Any]],
        orientations: Iterable[Mapping[str, Any]] = (),
        views: Sequence[View] = VIEWS,
    ) -> Catalogue:
        """Build a catalogue from rows shaped like SEB Server's tables.

        ``attributes``: ``id, name, type, parent_id, resources, validator, dependencies,
        default_value`` (``None`` for NULL); ``orientations``: ``config_attribute_id, view_name,
        group_id, x_position, y_position, width, height, title``.
        """
        records = [dict(r) for r in attributes]
        names = {int(r["id"]): r["name"] for r in records}
        children: dict[int, list[str]] = {}
        for r in records:
            if r.get("parent_id") is not None:
                children.setdefault(int(r["parent_id"]), []).append(r["name"])
        placed: dict[int, Orientation] = {}
        for o in orientations:
            placed[int(o["config_attribute_id"])] = Orientation(
                view=o["view_name"],
                group=o.get("group_id"),
                x=int(o["x_position"]),
                y=int(o["y_position"]),
                width=int(o["width"]),
                height=int(o["height"]),
                title=TitleOrientation(o.get("title") or "NONE"),
            )
        built: list[Attribute] = []
        for r in records:
            if r.get("parent_id") is not None and int(r["parent_id"]) not in names:
                raise ValueError(f"Attribute {r['name']!r} has an unknown parent id {r['parent_id']}.")
            attr_id = int(r["id"])
            atype = AttributeType(r["type"])
            parent_id = r.get("parent_id")
            kids = children.get(attr_id, [])
            attr = Attribute(
                id=attr_id,
                name=r["name"],
                type=atype,
                parent=names[int(parent_id)] if parent_id is not None else None,
                children=tuple(sorted(kids, key=lambda n: seb_sort_key(_key_of(n)))),
                resources=_parse_resources(atype, r.get("resources")),
                validator=r.get("validator"),
                dependencies=_parse_dependencies(r.get("dependencies")),
                default=r.get("default_value"),
                raw_resources=r.get("resources"),
                orientation=placed.get(attr_id),
            )
            built.append(_with_texts(attr))
        return cls(built, views)


def _key_of(name: str) -> str:
    # AttributeValueConverter.extractName: cut at the last '.', unless it is the first character
    dot = name.rfind(".")
    return name[dot + 1 :] if dot > 0 else name


def _parse_resources(atype: AttributeType, text: str | None) -> tuple[Any, ...]:
    if not text:
        return ()
    if atype == AttributeType.INLINE_TABLE:
        columns = []
        for spec in text.split("|"):
            weight, name, ctype = spec.split(":")
            columns.append(InlineColumn(int(weight), name, AttributeType(ctype)))
        return tuple(columns)
    if atype == AttributeType.COMPOSITE_TABLE:
        return tuple(tuple(part for part in group.split(",") if part) for group in text.split("|"))
    return tuple(part for part in text.split(",") if part)


def _parse_dependencies(text: str | None) -> tuple[tuple[str, str], ...]:
    if not text:
        return ()
    pairs = []
    for part in text.split(","):
        key, _, value = part.partition("=")
        pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


# ------------------------------------------------------------------------------ labels and texts

# Tokens that camel-case splitting would break apart, with their display form.
_PROTECTED = {
    "iOS": "iOS",
    "MacOS": "macOS",
    "macOS": "macOS",
    "IPad": "iPad",
    "JavaScript": "JavaScript",
    "WebView": "WebView",
    "VmWare": "VMware",
    "EMail": "e-mail",
    "PlugIns": "plug-ins",
    "PlugIn": "plug-in",
    "PopUp": "pop-up",
}
_PROTECTED_RE = re.compile("(" + "|".join(sorted(_PROTECTED, key=len, reverse=True)) + ")")
_WORD_RE = re.compile(r"[A-Z]\d+|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_WORD_DISPLAY = {
    "seb": "SEB",
    "wlan": "WLAN",
    "aac": "AAC",
    "dns": "DNS",
    "os": "OS",
    "url": "URL",
    "pdf": "PDF",
    "ios": "iOS",
    "id": "ID",
}
_LABEL_OVERRIDES = {
    "hashedAdminPassword": "Administrator password",
    "hashedQuitPassword": "Quit/unlock password",
}


def label_for(name: str) -> str:
    """Human label derived from a setting name: ``URLFilterEnable`` -> ``URL filter enable``."""
    key = _key_of(name)
    if key in _LABEL_OVERRIDES:
        return _LABEL_OVERRIDES[key]
    words: list[str] = []
    for chunk in _PROTECTED_RE.split(key):
        if not chunk:
            continue
        if chunk in _PROTECTED:
            words.append(_PROTECTED[chunk])
            continue
        for token in _WORD_RE.findall(chunk):
            if token.lower() in _WORD_DISPLAY:
                words.append(_WORD_DISPLAY[token.lower()])
            elif len(token) > 1 and token.isupper() or any(c.isdigit() for c in token):
                words.append(token)  # acronym (URL, HTTPS) or key name (F5)
            else:
                words.append(token.lower())
    if not words:
        return key
    if words[0] not in ("iOS", "macOS", "iPad"):
        words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


def _describe(attr: Attribute) -> str:
    t = attr.type
    if t == AttributeType.CHECKBOX:
        kind = "On/off"
    elif t == AttributeType.PASSWORD_FIELD:
        kind = "Password, exported as its SHA-256 hash"
    elif t in (AttributeType.INTEGER, AttributeType.SLIDER):
        kind = "Whole number"
        if attr.value_range:
            kind += f" from {attr.value_range[0]} to {attr.value_range[1]}"
    elif t == AttributeType.DECIMAL:
        kind = "Decimal number"
        if attr.value_range:
            kind += f" from {attr.value_range[0]} to {attr.value_range[1]}"
    elif t in (AttributeType.SINGLE_SELECTION, AttributeType.RADIO_SELECTION):
        kind = "One of " + ", ".join(attr.options)
    elif t == AttributeType.COMBO_SELECTION:
        kind = "One of " + ", ".join(attr.options) + " or another value"
    elif t in (AttributeType.MULTI_SELECTION, AttributeType.MULTI_CHECKBOX_SELECTION):
        kind = "Any of " + ", ".join(attr.options)
    elif t == AttributeType.TEXT_FIELD_LIST or attr.name in STRING_ARRAY_NAMES:
        kind = "Comma-separated list"
    elif t == AttributeType.COLOR_SELECTOR:
        kind = "Colour as #RRGGBB"
    elif t == AttributeType.TABLE:
        kind = "Table with the columns " + ", ".join(_key_of(c) for c in attr.children)
    elif t == AttributeType.COMPOSITE_TABLE:
        kind = "Group of settings"
    elif t == AttributeType.INLINE_TABLE:
        kind = "List of entries with the fields " + ", ".join(c.name for c in attr.columns)
    else:
        kind = "Text"
    text = f"SEB setting '{attr.key}'. {kind}."
    if attr.default not in (None, "") and not attr.is_table:
        text += f" Default: {attr.default}."
    return text


def _with_texts(attr: Attribute) -> Attribute:
    return replace(attr, label=label_for(attr.name), description=_describe(attr))


# ------------------------------------------------------------------------------------- loading


def data_file(name: str) -> bytes:
    """Bytes of a file in this package's ``data/`` folder."""
    return importlib_resources.files(__package__).joinpath("data", name).read_bytes()


def _read_tsv(name: str) -> list[dict[str, str | None]]:
    text = data_file(name).decode("utf-8")
    rows = []
    for row in csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE):
        rows.append({k: (None if v == "NULL" else v) for k, v in row.items()})
    return rows


@functools.cache
def load_catalogue() -> Catalogue:
    """SEB Server's setting catalogue (393 attributes), loaded once from the package data."""
    return Catalogue.from_records(_read_tsv(ATTRIBUTES_FILE), _read_tsv(ORIENTATIONS_FILE))


# -------------------------------------------------------------------------- default table rows


@functools.cache
def _initial_plists() -> tuple[dict[str, Any], ...]:
    result = []
    for name in INITIAL_ROW_FILES:
        parsed = parse_plist(data_file(name))
        if isinstance(parsed, dict):
            result.append(parsed)
    return tuple(result)


def initial_table_rows(catalogue: Catalogue | None = None) -> dict[str, list[dict[str, str | None]]]:
    """Default rows of TABLE attributes from SEB Server's ``initial*Processes.xml`` (in ``data/``).

    Each row has every column of the table: cells as the text a setting stores (``"true"``, ``"1"``, an
    empty string as the column's blank, ``None`` where its default is NULL), missing columns at their
    default; keys the catalogue does not know (``windowHandlingProcess``) are left out, as on import.
    """
    cat = catalogue if catalogue is not None else load_catalogue()
    rows: dict[str, list[dict[str, str | None]]] = {}
    for plist in _initial_plists():
        for name, raw_rows in plist.items():
            table = cat.get(name)
            if table is not None and table.type == AttributeType.TABLE:
                rows[name] = [
                    {column.key: _initial_cell(column, raw[column.key]) if column.key in raw else column.default
                     for column in cat.children(name)}
                    for raw in raw_rows
                ]
    return rows


def _initial_cell(column: Attribute, raw: Any) -> str | None:
    # SEB Server's own files hold only booleans, integers and strings (checked against the import by a test).
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, str):
        return raw if raw.strip() else (None if column.default is None else "")
    raise ValueError(f"{column.name}: unexpected {type(raw).__name__} in SEB Server's initial rows")
