"""SEB settings values <-> ``.seb`` plist: export (XML, Config Key, the file a client downloads) and import.

Pure functions over :data:`.settings.SettingsValues`; the database service that stores exam configurations
and calls them is :mod:`.exam_configs`.

Export follows SEB Server's ``ExamConfigIO.exportPlain`` and its attribute converters
(``webservice/servicelayer/sebconfig/impl/converter/*.java``):

* every root attribute of the catalogue is written, sorted with SEB's culture-invariant collation;
  a value that is not set (``None``, or missing) is replaced by the attribute default;
* converter by attribute *name* first, then by type (:attr:`.catalogue.Attribute.value_kind`):
  CHECKBOX -> bool; INTEGER/SLIDER/SINGLE_SELECTION/RADIO_SELECTION and ``taskBarHeight``,
  ``allowedDisplaysMaxNumber``, ``allowMacOSVersionNumber*`` -> integer (unparseable -> 0);
  ``defaultPageZoomLevel``, ``defaultTextZoomLevel``, ``screenProctoringImageDownscale``,
  ``batteryChargeThreshold*`` -> real; TEXT_FIELD/TEXT_AREA/PASSWORD_FIELD/DECIMAL/COMBO_SELECTION/
  COLOR_SELECTOR -> string (whitespace-only -> ``""``); MULTI_*/TEXT_FIELD_LIST and
  ``ExceptionsList`` -> array of the ``,``-separated items; TABLE -> array of dicts (column keys
  without the ``table.`` prefix, sorted); COMPOSITE_TABLE -> one dict, omitted when it has no
  row; INLINE_TABLE -> array of dicts from ``name=value|name=value,...``;
* ``kioskMode`` (0/1/2) is written as ``createNewDesktop`` (true iff 0) and ``killExplorerShell``
  (true iff 1);
* ``hashedAdminPassword``/``hashedQuitPassword`` are written as the SHA-256 hex of the stored
  plaintext, or unchanged if they carry the imported-hash marker;
* ``originatorVersion`` is written as stored (default ``SEB_Server_0.3.0``, imported files keep
  theirs, as in SEB Server); it never enters the Config Key.

Import follows ``ExamConfigXMLParser``: known keys are mapped back to text values, keys SEB Server
ignores (:data:`IGNORED_IMPORT_KEYS`) are skipped silently, unknown keys and wrong types produce
warnings, ``createNewDesktop``/``killExplorerShell`` become ``kioskMode``, password hashes are kept
with the marker.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Mapping
from enum import Enum
from typing import Any

from .catalogue import Attribute, AttributeType, Catalogue, InlineColumn, ValueKind, load_catalogue
from .codec import decode_seb, package_xml
from .config_key import EXCLUDED_KEY, config_key, seb_sort_key
from .plist import PLIST_DOCTYPE, XML_HEADER
from .settings import (
    IMPORTED_PASSWORD_MARKER,
    SECRET_ATTRIBUTES,
    Row,
    SettingsValues,
    canonical_blank,
    format_decimal,
    format_inline_table,
    is_blank,
    parse_decimal,
    parse_java_int,
    validate_value,
)

__all__ = [
    "IGNORED_IMPORT_KEYS",
    "exam_config_file",
    "exam_config_key",
    "exam_config_xml",
    "from_plist_dict",
    "import_exam_config",
    "seb_server_config_key",
    "seb_server_json",
    "to_plist_dict",
]

# ExamConfigXMLParser.SEB_EXAM_CONFIG_KEYS_TO_IGNORE (only consulted for keys that are not
# attributes; "outsideSebEnableShutDownurlFilterRegex" is verbatim upstream, a missing comma).
IGNORED_IMPORT_KEYS = frozenset(
    {
        "sebMode",
        "sebServerFallback",
        "sebServerURL",
        "startURL",
        "startURLAllowDeepLink",
        "startURLAppendQueryParameter",
        "examConfigKeyContainedKeys",
        "allowWLAN",
        "insideSebEnableEnableNetworkConnectionSelector",
        "ignoreQuitPassword",
        "oskBehavior",
        "outsideSebEnableChangeAPassword",
        "outsideSebEnableEaseOfAccess",
        "outsideSebEnableLockThisComputer",
        "outsideSebEnableLogOff",
        "outsideSebEnableShutDownurlFilterRegex",
        "outsideSebEnableStartTaskManager",
        "outsideSebEnableSwitchUser",
        "outsideSebEnableVmWareClientShade",
        "outsideSebEnableShutDown",
        "enableURLContentFilter",
        "enableURLFilter",
        "prohibitedProcesses.windowHandlingProcess",
        "permittedProcesses.windowHandlingProcess",
        "backgroundOpenSEBConfig",
        "urlFilterRegex",
        "urlFilterTrustedContent",
        "blacklistURLFilter",
        "whitelistURLFilter",
        "URLFilterIgnoreList",
    }
)

CREATE_NEW_DESKTOP = "createNewDesktop"
KILL_EXPLORER_SHELL = "killExplorerShell"


def _cat(catalogue: Catalogue | None) -> Catalogue:
    return catalogue if catalogue is not None else load_catalogue()


# ---------------------------------------------------------------------------------------- export


def _hash_secret(text: str) -> str:
    if text.endswith(IMPORTED_PASSWORD_MARKER):
        return text.replace(IMPORTED_PASSWORD_MARKER, "")  # StringConverter.convertSecret
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _export_real(attribute_name: str, text: str | None) -> float:
    value = parse_decimal(text) if text is not None else None
    if value is None:
        return 0.0  # RealNumberConverter logs and writes 0
    if attribute_name == "screenProctoringImageDownscale" and value > 2.0:
        value = value / 10.0 + 1.0  # legacy data (SEBSERV-527)
    return float(format_decimal(value))  # exactly what a reader gets back from the file


def _export_scalar(name: str, kind: ValueKind, text: str | None) -> Any:
    """Typed plist value of a stored text (``text`` already defaulted)."""
    if kind == ValueKind.BOOLEAN:
        return not is_blank(text) and text.strip().lower() == "true"  # type: ignore[union-attr]
    if kind == ValueKind.INTEGER:
        value = parse_java_int(text) if text is not None else None
        return 0 if value is None else value  # IntegerConverter logs and writes 0
    if kind == ValueKind.REAL:
        return _export_real(name, text)
    if kind == ValueKind.STRING:
        if is_blank(text):
            return ""
        return _hash_secret(text) if name in SECRET_ATTRIBUTES else text  # type: ignore[arg-type]
    if kind == ValueKind.STRING_ARRAY:
        return [] if is_blank(text) else [item for item in text.split(",") if item]  # type: ignore[union-attr]
    raise ValueError(f"Cannot export a value of kind {kind.value} for {name!r}.")


def _inline_kind(column: InlineColumn) -> ValueKind:
    probe = Attribute(id=-1, name=column.name, type=column.type)
    return probe.value_kind if probe.value_kind != ValueKind.KIOSK_MODE else ValueKind.INTEGER


def _export_inline(attribute: Attribute, text: str | None) -> list[dict[str, Any]]:
    """InlineTableConverter: rows ``,``, columns ``|`` (in sorted column order), ``name=value``."""
    if is_blank(text):
        return []
    columns = attribute.columns
    rows = []
    for row_text in (r for r in text.split(",") if r):  # type: ignore[union-attr]
        cells = [c for c in row_text.split("|") if c]
        row: dict[str, Any] = {}
        for column, cell in zip(columns, cells, strict=False):
            parts = [p for p in cell.split("=") if p]
            name = parts[0] if parts else column.name
            value = parts[1] if len(parts) > 1 else None
            # inline columns have no default (StringUtils.EMPTY): blank -> false / ""
            row[name] = _export_scalar(name, _inline_kind(column), value if value is not None else "")
        for column in columns[len(cells) :]:  # SEB Server would fail here; write the blank value
            row[column.name] = _export_scalar(column.name, _inline_kind(column), "")
        rows.append(row)
    return rows


def _export_value(cat: Catalogue, attribute: Attribute, value: Any) -> Any:
    kind = attribute.value_kind
    if kind in (ValueKind.TABLE, ValueKind.COMPOSITE_TABLE):
        rows = value if isinstance(value, list) else []
        children = cat.children(attribute.name)
        exported = []
        for row in rows:
            row = row if isinstance(row, Mapping) else {}
            exported.append({child.key: _export_value(cat, child, row.get(child.key)) for child in children})
        if kind == ValueKind.COMPOSITE_TABLE:
            return exported[0] if exported else None
        return exported
    text = value if value is not None else attribute.default
    if kind == ValueKind.INLINE_TABLE:
        return _export_inline(attribute, text)
    return _export_scalar(attribute.key, kind, text)


def _root_entries(cat: Catalogue) -> list[tuple[str, Attribute]]:
    """(plist key, attribute) of all exported root keys in SEB order (kioskMode expanded)."""
    entries: list[tuple[str, Attribute]] = []
    for attr in cat.root_attributes():
        kind = attr.value_kind
        if kind == ValueKind.NONE:
            continue
        if kind == ValueKind.KIOSK_MODE:
            entries.append((CREATE_NEW_DESKTOP, attr))
            entries.append((KILL_EXPLORER_SHELL, attr))
        else:
            entries.append((attr.key, attr))
    entries.sort(key=lambda e: seb_sort_key(e[0]))
    return entries


_ENTRIES: weakref.WeakKeyDictionary[Catalogue, tuple[tuple[str, Attribute], ...]] = weakref.WeakKeyDictionary()


def _entries_cached(cat: Catalogue) -> tuple[tuple[str, Attribute], ...]:
    entries = _ENTRIES.get(cat)
    if entries is None:
        entries = _ENTRIES[cat] = tuple(_root_entries(cat))
    return entries


def to_plist_dict(values: Mapping[str, Any], catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The settings dict SEB Server exports for ``values`` (keys in export order).

    Types are those of the exported plist (bool, int, float, str, list, dict), so
    ``parse_plist(exam_config_xml(values)) == to_plist_dict(values)``. Reals are already rounded
    to what the file holds. Unknown keys in ``values`` are ignored.
    """
    cat = _cat(catalogue)
    result: dict[str, Any] = {}
    for key, attr in _entries_cached(cat):
        value = values.get(attr.name)
        if key == CREATE_NEW_DESKTOP:
            result[key] = value is None or value == "0"  # KioskModeConverter (no default fallback)
        elif key == KILL_EXPLORER_SHELL:
            result[key] = value == "1"
        else:
            exported = _export_value(cat, attr, value)
            if exported is None and attr.value_kind == ValueKind.COMPOSITE_TABLE:
                continue  # empty composite table: nothing written
            result[key] = exported
    return result


# ---- SEB Server XML


def _escape_xml10(text: str) -> str:
    """``StringEscapeUtils.escapeXml10``, plus ``\\r`` as ``&#13;``.

    SEB Server writes ``\\r`` raw, which XML readers turn into ``\\n``; escaping it keeps what a
    SEB client reads identical to :func:`to_plist_dict` (validated values never contain ``\\r``).
    """
    out = []
    for c in text:
        o = ord(c)
        if c == "&":
            out.append("&amp;")
        elif c == "<":
            out.append("&lt;")
        elif c == ">":
            out.append("&gt;")
        elif c == '"':
            out.append("&quot;")
        elif c == "'":
            out.append("&apos;")
        elif c == "\r":
            out.append("&#13;")
        elif (o < 0x20 and c not in "\t\n") or 0xD800 <= o <= 0xDFFF or o in (0xFFFE, 0xFFFF):
            continue  # not representable in XML 1.0: dropped
        elif 0x7F <= o <= 0x84 or 0x86 <= o <= 0x9F:
            out.append(f"&#{o};")
        else:
            out.append(c)
    return "".join(out)


def _xml(value: Any, out: list[str], arrays: frozenset[str], key: str = "") -> None:
    """Write one value the way SEB Server's converters do; ``arrays`` = keys of string lists."""
    if isinstance(value, bool):
        out.append("<true />" if value else "<false />")
    elif isinstance(value, int):
        out.append(f"<integer>{value}</integer>")
    elif isinstance(value, float):
        out.append(f"<real>{format_decimal(value)}</real>")
    elif isinstance(value, str):
        out.append(f"<string>{_escape_xml10(value)}</string>" if value else "<string />")
    elif isinstance(value, dict):
        out.append("<dict>")
        for name, item in value.items():
            out.append(f"<key>{name}</key>")
            _xml(item, out, arrays, name)
        out.append("</dict>")
    elif isinstance(value, list):
        if key in arrays:  # ArrayOfStringConverter: empty is <array></array>
            out.append("<array>" + "".join(f"<string>{_escape_xml10(s)}</string>" for s in value) + "</array>")
        elif not value:  # Table/InlineTableConverter: empty is <array />
            out.append("<array />")
        else:
            out.append("<array>")
            for item in value:
                _xml(item, out, arrays)
            out.append("</array>")
    else:  # pragma: no cover - to_plist_dict produces only the types above
        raise TypeError(f"Unexpected value type {type(value).__name__}.")


def _string_array_keys(cat: Catalogue) -> frozenset[str]:
    return frozenset(a.key for a in cat.attributes() if a.value_kind == ValueKind.STRING_ARRAY)


def exam_config_xml(values: Mapping[str, Any], catalogue: Catalogue | None = None) -> bytes:
    """The plain XML SEB Server exports (``ExamConfigIO.exportPlain``): no whitespace at all.

    ``<?xml ...?><!DOCTYPE ...><plist version="1.0"><dict><key>...</key><true />...</dict></plist>``
    with ``<true />``/``<false />``, ``<string />`` for empty strings, ``<array />`` for empty
    tables and ``<array></array>`` for empty string lists, reals as ``0.##############``.
    """
    cat = _cat(catalogue)
    out = [XML_HEADER, PLIST_DOCTYPE, '<plist version="1.0">']
    _xml(to_plist_dict(values, cat), out, _string_array_keys(cat))
    out.append("</plist>")
    return "".join(out).encode("utf-8")


def exam_config_key(values: Mapping[str, Any], catalogue: Catalogue | None = None) -> str:
    """Config Key of the exported configuration, as a SEB client computes it from the file.

    This follows the **SEB client** serialisation (SEB for Windows' ``Json.cs``, implemented in
    :func:`.config_key.config_key`) applied to exactly what :func:`exam_config_xml` writes, so
    ``exam_config_key(v) == config_key(parse_plist(exam_config_xml(v)))``: the key an LMS must
    expect from SEB. SEB Server's own ``generateConfigKey`` (:func:`seb_server_config_key`)
    agrees for ordinary values but differs when a real needs an exponent in .NET's G15 format
    (e.g. ``0.00001``: SEB Server ``0.00001``, SEB ``1E-05``) and when ``proxies`` has no row
    (SEB Server leaves a dangling ``,``).
    """
    return config_key(to_plist_dict(values, catalogue))


def seb_server_json(values: Mapping[str, Any], catalogue: Catalogue | None = None) -> str:
    """SEB Server's JSON export (``ExamConfigIO.exportPlain(JSON)``), whose SHA-256 is its Config Key.

    Root ``originatorVersion`` dropped, no escaping, reals as ``0.##############``, the separator
    after an empty composite table still written (as upstream).
    """
    cat = _cat(catalogue)
    exported = to_plist_dict(values, cat)
    parts = []
    for key, _attr in _entries_cached(cat):
        if key == EXCLUDED_KEY:
            continue
        if key not in exported:  # empty composite table
            parts.append("")
            continue
        parts.append(f'"{key}":' + _json(exported[key]))
    return "{" + ",".join(parts) + "}"


def _json(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_decimal(value)
    if isinstance(value, str):
        return f'"{value}"'  # deliberately unescaped, like SEB Server
    if isinstance(value, dict):
        return "{" + ",".join(f'"{k}":{_json(v)}' for k, v in value.items()) + "}"
    return "[" + ",".join(_json(item) for item in value) + "]"


def seb_server_config_key(values: Mapping[str, Any], catalogue: Catalogue | None = None) -> str:
    """Config Key as SEB Server computes it (``sha256Hex`` of :func:`seb_server_json`)."""
    return hashlib.sha256(seb_server_json(values, catalogue).encode("utf-8")).hexdigest()


def exam_config_file(
    values: Mapping[str, Any], *, password: str | None = None, catalogue: Catalogue | None = None
) -> bytes:
    """The file a SEB client downloads (``ExamConfigServiceImpl.exportForExam``).

    Without password: the plain XML (no gzip, no prefix); with password:
    ``"pswd" || RNCryptor(password, gzip(xml))`` without outer gzip.
    """
    return package_xml(exam_config_xml(values, catalogue), password=password, compress=False, plain_prefix=False)


# ---------------------------------------------------------------------------------------- import

_KIND_NAMES = {
    ValueKind.BOOLEAN: "a boolean",
    ValueKind.INTEGER: "an integer",
    ValueKind.KIOSK_MODE: "an integer",
    ValueKind.REAL: "a number",
    ValueKind.STRING: "a string",
    ValueKind.STRING_ARRAY: "an array of strings",
    ValueKind.INLINE_TABLE: "an array of dictionaries",
    ValueKind.TABLE: "an array of dictionaries",
    ValueKind.COMPOSITE_TABLE: "a dictionary",
}


def _plist_type(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "real", str: "string", list: "array", dict: "dictionary"}
    for py, name in names.items():
        if type(value) is py:
            return name
    return {"bytes": "data", "datetime": "date"}.get(type(value).__name__, type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Importer:
    def __init__(self, cat: Catalogue) -> None:
        self.cat = cat
        self.warnings: list[str] = []
        self._reported: set[str] = set()

    def warn(self, message: str) -> None:
        if message not in self._reported:
            self._reported.add(message)
            self.warnings.append(message)

    # scalars ---------------------------------------------------------------------------------
    def scalar(self, attr: Attribute, raw: Any, path: str) -> str | None:
        kind = attr.value_kind
        text = self._typed_text(attr, kind, raw, path)
        if text is _MISMATCH:
            coerced = _as_text(raw)
            if coerced is not None:
                try:
                    result = validate_value(attr, coerced)
                except ValueError:
                    pass
                else:
                    self.warn(f"{path}: expected {_KIND_NAMES[kind]}, got {_plist_type(raw)} {_short(raw)}; converted.")
                    return result
            self.warn(
                f"{path}: expected {_KIND_NAMES[kind]}, got {_plist_type(raw)} {_short(raw)}; "
                f"using the default {attr.default!r}."
            )
            return attr.default
        try:
            return validate_value(attr, text)
        except ValueError as exc:
            # Right plist type but outside what the GUI allows (e.g. an unknown option): keep it,
            # it exports exactly as imported.
            self.warn(f"{path}: {exc} Kept as imported.")
            return text

    def _typed_text(self, attr: Attribute, kind: ValueKind, raw: Any, path: str) -> str | None | _Mismatch:
        if kind == ValueKind.BOOLEAN:
            return ("true" if raw else "false") if isinstance(raw, bool) else _MISMATCH
        if kind in (ValueKind.INTEGER, ValueKind.KIOSK_MODE):
            return str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else _MISMATCH
        if kind == ValueKind.REAL:
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                try:
                    return format_decimal(float(raw))
                except ValueError:
                    return _MISMATCH
            return _MISMATCH
        if kind == ValueKind.STRING:
            if not isinstance(raw, str):
                return _MISMATCH
            if attr.key in SECRET_ATTRIBUTES:  # ExamConfigXMLParser: imported hashes keep a marker
                return canonical_blank(attr) if is_blank(raw) else raw + IMPORTED_PASSWORD_MARKER
            return raw
        if kind == ValueKind.STRING_ARRAY:
            if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
                return _MISMATCH
            for item in raw:
                if "," in item:
                    self.warn(f"{path}: the entry {item!r} contains ',' and will be split in two on export.")
            return ",".join(raw)
        if kind == ValueKind.INLINE_TABLE:
            if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
                return _MISMATCH
            return self.inline(attr, raw, path)
        return _MISMATCH

    def inline(self, attr: Attribute, raw_rows: list[dict[str, Any]], path: str) -> str | None:
        columns = {c.name: c for c in attr.columns}
        rows = []
        for index, raw in enumerate(raw_rows):
            row: dict[str, Any] = {}
            for name, value in raw.items():
                column = columns.get(name)
                if column is None:
                    self.warn(f"{path}: unknown entry key {name!r} ignored.")
                    continue
                if column.type == AttributeType.CHECKBOX:
                    row[name] = value if isinstance(value, bool) else str(value).strip().lower() == "true"
                else:
                    row[name] = value if isinstance(value, str) else ("" if value is None else str(value))
            try:
                format_inline_table(attr, [row])
            except ValueError as exc:
                self.warn(f"{path}[{index}]: {exc} Entry dropped.")
                continue
            rows.append(row)
        return format_inline_table(attr, rows)

    # tables ----------------------------------------------------------------------------------
    def row(self, table: Attribute, raw: Mapping[str, Any], path: str) -> Row:
        row: Row = {}
        for key, value in raw.items():
            child = self.cat.child(table.name, key)
            if child is None:
                if f"{table.name}.{key}" not in IGNORED_IMPORT_KEYS:
                    self.warn(f"{table.name}.{key}: unknown setting ignored.")
                continue
            row[child.key] = self.scalar(child, value, f"{path}.{key}")
        return {child.key: row.get(child.key, child.default) for child in self.cat.children(table.name)}

    def table(self, attr: Attribute, raw: Any) -> list[Row]:
        if attr.type == AttributeType.COMPOSITE_TABLE:
            if isinstance(raw, dict):
                return [self.row(attr, raw, attr.name)]
            self.warn(f"{attr.name}: expected a dictionary, got {_plist_type(raw)}; ignored.")
            return []
        if not isinstance(raw, list):
            self.warn(f"{attr.name}: expected an array of dictionaries, got {_plist_type(raw)}; ignored.")
            return []
        rows = []
        for index, item in enumerate(raw):
            if isinstance(item, dict):
                rows.append(self.row(attr, item, f"{attr.name}[{index}]"))
            else:
                self.warn(f"{attr.name}[{index}]: expected a dictionary, got {_plist_type(item)}; ignored.")
        return rows


class _Mismatch(Enum):
    """The raw value is not of the attribute's plist type (a one-member enum, so the type checker narrows)."""

    MISMATCH = "mismatch"


_MISMATCH = _Mismatch.MISMATCH


def _as_text(raw: Any) -> str | None:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (int, str)):
        return str(raw)
    if isinstance(raw, float):
        return repr(raw)
    return None


def from_plist_dict(
    settings: Mapping[str, Any], catalogue: Catalogue | None = None
) -> tuple[SettingsValues, list[str]]:
    """Map a decoded ``.seb`` settings dict to :data:`SettingsValues`, with warnings.

    * known root keys are converted to canonical text (wrong plist types: converted if possible,
      else the default, with a warning; values of the right type outside the GUI's options are
      kept, with a warning);
    * ``createNewDesktop`` + ``killExplorerShell`` -> ``kioskMode`` (0 if a new desktop, 1 if the
      shell is killed, else 2; both keys are needed, as in SEB Server);
    * imported ``hashedAdminPassword``/``hashedQuitPassword`` keep the imported-hash marker;
    * keys in :data:`IGNORED_IMPORT_KEYS` are skipped silently, other unknown keys (also unknown
      table columns) give one warning each;
    * settings missing from the file get their default value, missing tables no rows (SEB
      Server would keep the default rows of a new configuration; a file without the key has no
      entries, and an absent ``proxies`` is exported as absent again).
    """
    cat = _cat(catalogue)
    importer = _Importer(cat)
    values: SettingsValues = {}
    kiosk: dict[str, bool] = {}
    for key, raw in settings.items():
        attr = cat.get(key)
        if attr is not None and attr.is_root and attr.value_kind != ValueKind.NONE:
            values[key] = importer.table(attr, raw) if attr.is_table else importer.scalar(attr, raw, key)
        elif key in (CREATE_NEW_DESKTOP, KILL_EXPLORER_SHELL):
            if isinstance(raw, bool):
                kiosk[key] = raw
            else:
                kiosk[key] = str(raw).strip().lower() == "true"
                importer.warn(f"{key}: expected a boolean, got {_plist_type(raw)} {_short(raw)}.")
        elif key not in IGNORED_IMPORT_KEYS:
            importer.warn(f"{key}: unknown setting ignored.")
    if kiosk and "kioskMode" in cat:
        if len(kiosk) == 2:
            values["kioskMode"] = "0" if kiosk[CREATE_NEW_DESKTOP] else "1" if kiosk[KILL_EXPLORER_SHELL] else "2"
        else:
            missing = KILL_EXPLORER_SHELL if CREATE_NEW_DESKTOP in kiosk else CREATE_NEW_DESKTOP
            importer.warn(f"kioskMode: {missing} is missing, so the kiosk mode is left at its default.")
    result: SettingsValues = {}
    for attr in cat.root_attributes():
        if attr.name in values:
            result[attr.name] = values[attr.name]
        elif attr.is_table:
            result[attr.name] = []
        elif attr.value_kind != ValueKind.NONE:
            result[attr.name] = attr.default
    return result, importer.warnings


def import_exam_config(
    data: bytes, *, password: str | None = None, catalogue: Catalogue | None = None
) -> tuple[SettingsValues, list[str]]:
    """Decode a ``.seb`` file (any packaging, see :func:`.codec.decode_seb`) and import it."""
    return from_plist_dict(decode_seb(data, password=password).settings, catalogue)
