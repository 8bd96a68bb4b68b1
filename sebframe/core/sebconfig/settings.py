"""Values of an exam configuration, stored the way SEB Server stores them.

SEB Server keeps one text value (or NULL) per root attribute and, for table attributes, one text
value per cell (``list_index`` = row). Here that is one JSON-serialisable mapping
(:data:`SettingsValues`), e.g.::

    {
        "allowQuit": "true",
        "hashedQuitPassword": None,
        "URLFilterRules": [{"action": "1", "active": "true", "expression": "example.org", "regex": "false"}],
        "proxies": [{"HTTPEnable": "false", "HTTPPort": "80", ...}],
        "permittedProcesses": [{"arguments": "active=true|argument=--kiosk", ...}],
        ...
    }

* scalar settings: ``str`` or ``None`` (``None`` = not set: the export uses the default);
* TABLE settings: a list of rows, each row a dict column key (without the ``table.`` prefix)
  -> ``str | None``; COMPOSITE_TABLE (``proxies``): a list of at most one row;
* INLINE_TABLE cells (``permittedProcesses.arguments``): SEB Server's text form
  ``name=value|name=value,name=value|...`` (``,`` rows, ``|`` columns, ``=`` name/value);
* password settings (``hashedAdminPassword``, ``hashedQuitPassword``): the plaintext, exported as
  its SHA-256 hex; a hash imported from a ``.seb`` file carries the suffix
  :data:`IMPORTED_PASSWORD_MARKER` and is exported unchanged (as SEB Server does). The storage
  layer should encrypt these two values at rest.

Canonical form (what :func:`validate_value` returns and :func:`.settings_io.from_plist_dict`
produces): booleans ``"true"``/``"false"``, integers without sign noise, decimals formatted like
SEB Server's export (``"1"``, ``"0.25"``), blank text as ``None`` when the attribute's default is
NULL and ``""`` otherwise, complete table rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any, TypeAlias

from .catalogue import Attribute, AttributeType, Catalogue, InlineColumn, ValueKind, initial_table_rows, load_catalogue
from .config_key import seb_sort_key

__all__ = [
    "IMPORTED_PASSWORD_MARKER",
    "SECRET_ATTRIBUTES",
    "Change",
    "Row",
    "SettingsValidationError",
    "SettingsValues",
    "canonical_blank",
    "default_row",
    "default_values",
    "diff",
    "format_decimal",
    "format_inline_table",
    "is_blank",
    "is_imported_password",
    "mark_imported_password",
    "parse_inline_table",
    "validate_row",
    "validate_value",
    "validate_values",
]

Row: TypeAlias = dict[str, str | None]
SettingsValues: TypeAlias = dict[str, Any]  # name -> str | None | list[Row]

# Constants.IMPORTED_PASSWORD_MARKER / ExamConfigXMLParser.SECRET_ATTRIBUTES
IMPORTED_PASSWORD_MARKER = "_IMPORTED_PASSWORD"
SECRET_ATTRIBUTES = frozenset({"hashedQuitPassword", "hashedAdminPassword"})
EXIT_KEY_NAMES = ("exitKey1", "exitKey2", "exitKey3")

# Characters XML 1.0 cannot carry (SEB Server's escapeXml10 would silently drop them).
_INVALID_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_INT_RE = re.compile(r"[+-]?[0-9]+")
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_COLOR_RE = re.compile(r"#[0-9A-Fa-f]{6}")
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
# Java's Character.isWhitespace is false for the no-break spaces; StringUtils.isBlank follows it.
_NOT_JAVA_SPACE = frozenset("\u00a0\u2007\u202f")
_DECIMAL_CONTEXT = Context(prec=500)
_DECIMAL_STEP = Decimal(1).scaleb(-14)


class SettingsValidationError(ValueError):
    """Several values are invalid; ``errors`` maps a value path (``exitKey2``,
    ``URLFilterRules[0].expression``) to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        lines = [f"{path}: {message}" for path, message in self.errors.items()]
        super().__init__("Invalid settings:\n" + "\n".join(lines))


# --------------------------------------------------------------------------------- small helpers


def is_blank(text: str | None) -> bool:
    """``StringUtils.isBlank``: ``None``, empty or only whitespace."""
    return text is None or all(c.isspace() and c not in _NOT_JAVA_SPACE for c in text)


def canonical_blank(attribute: Attribute) -> str | None:
    """How an empty value of ``attribute`` is stored: ``None`` if its default is NULL, else ``""``."""
    return None if attribute.default is None else ""


def mark_imported_password(password_hash: str) -> str:
    """Store an already hashed password so the export writes it unchanged."""
    return password_hash + IMPORTED_PASSWORD_MARKER


def is_imported_password(value: str | None) -> bool:
    return value is not None and value.endswith(IMPORTED_PASSWORD_MARKER)


def format_decimal(value: float) -> str:
    """Format a number like SEB Server's export (``DecimalFormat("0.##############")``).

    At most 14 fraction digits (half-even), no exponent, no trailing zeros: ``1.0 -> "1"``,
    ``0.25 -> "0.25"``, ``1e-05 -> "0.00001"``.
    """
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{value!r} is not a finite number.")
    quantized = Decimal(repr(float(value))).quantize(_DECIMAL_STEP, rounding=ROUND_HALF_EVEN, context=_DECIMAL_CONTEXT)
    text = format(quantized, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def parse_java_int(text: str) -> int | None:
    """``Integer.parseInt``: optional sign and digits, 32-bit; ``None`` if not parseable."""
    if not _INT_RE.fullmatch(text):
        return None
    value = int(text)
    return value if _INT32_MIN <= value <= _INT32_MAX else None


def parse_decimal(text: str) -> float | None:
    """A finite decimal number (``1``, ``0.5``, ``.5``, ``1e-3``); ``None`` if not parseable."""
    t = text.strip()
    if not _DECIMAL_RE.fullmatch(t):
        return None
    value = float(t)
    return value if math.isfinite(value) else None


def _who(attribute: Attribute) -> str:
    return f"{attribute.label} ({attribute.name})"


# ------------------------------------------------------------------------------------ validation


def validate_value(attribute: Attribute, text: str | bool | int | float | None) -> str | None:
    """Check a value for ``attribute`` and return its canonical stored text.

    ``None`` means "reset to the default" and returns ``attribute.default``. Python ``bool``,
    ``int`` and ``float`` are accepted for convenience. Raises ``ValueError`` with a message
    naming the setting for wrong types (integers, decimals), options out of range, malformed
    colours, versions or argument lists, and text that cannot be stored in a ``.seb`` file.
    Table settings have rows, not a text value: use :func:`validate_row`.
    """
    if text is None:
        return attribute.default
    if isinstance(text, bool):
        text = "true" if text else "false"
    elif isinstance(text, int):
        text = str(text)
    elif isinstance(text, float):
        text = format_decimal(text) if math.isfinite(text) else repr(text)
    elif not isinstance(text, str):
        raise ValueError(f"{_who(attribute)}: expected text, got {type(text).__name__}.")
    kind = attribute.value_kind
    if kind in (ValueKind.TABLE, ValueKind.COMPOSITE_TABLE):
        raise ValueError(f"{_who(attribute)} is a table; its value is a list of rows (see validate_row).")
    if kind == ValueKind.NONE:
        raise ValueError(f"{_who(attribute)}: attributes of type {attribute.type.value} hold no value.")
    if _INVALID_CHARS_RE.search(text):
        raise ValueError(f"{_who(attribute)}: the text contains control characters a SEB file cannot hold.")
    text = text.replace("\r\n", "\n").replace("\r", "\n")

    if kind == ValueKind.BOOLEAN:
        flag = text.strip().lower()
        if flag not in ("true", "false"):
            raise ValueError(f"{_who(attribute)}: expected true or false, got {text!r}.")
        return flag
    if kind in (ValueKind.INTEGER, ValueKind.KIOSK_MODE):
        return _validate_integer(attribute, text)
    if kind == ValueKind.REAL:
        return _validate_real(attribute, text)
    if kind == ValueKind.STRING:
        return _validate_string(attribute, text)
    if kind == ValueKind.STRING_ARRAY:
        return _validate_string_list(attribute, text)
    # INLINE_TABLE
    return format_inline_table(attribute, parse_inline_table(attribute, text))


def _require(attribute: Attribute, text: str, what: str) -> str:
    t = text.strip()
    if not t:
        raise ValueError(f"{_who(attribute)}: a value is required ({what}).")
    return t


def _is_selection(attribute: Attribute) -> bool:
    return attribute.type in (AttributeType.SINGLE_SELECTION, AttributeType.RADIO_SELECTION) and bool(attribute.options)


def _choose_option(attribute: Attribute, t: str) -> str:
    if t in attribute.options:
        return t
    number = parse_decimal(t)
    if number is not None:
        for option in attribute.options:
            if parse_decimal(option) == number:
                return option
    raise ValueError(f"{_who(attribute)}: {t!r} is not one of the options {', '.join(attribute.options)}.")


def _validate_integer(attribute: Attribute, text: str) -> str:
    t = _require(attribute, text, "a whole number")
    if _is_selection(attribute):
        return _choose_option(attribute, t)
    value = parse_java_int(t)
    if value is None:
        if _INT_RE.fullmatch(t):
            raise ValueError(f"{_who(attribute)}: {t} is out of the range of a 32-bit whole number.")
        raise ValueError(f"{_who(attribute)}: expected a whole number, got {t!r}.")
    bounds = attribute.value_range
    if bounds is not None:
        low = parse_decimal(bounds[0])
        high = parse_decimal(bounds[1]) if bounds[1] is not None else None
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{_who(attribute)}: {value} is outside the range {bounds[0]} to {bounds[1]}.")
    return str(value)


def _check_decimal(attribute: Attribute, t: str) -> float:
    value = parse_decimal(t)
    if value is None:
        raise ValueError(f"{_who(attribute)}: expected a decimal number such as 1.5, got {t!r}.")
    bounds = attribute.value_range
    if bounds is not None:
        # Intended meaning of the resources "min,max" (SEB Server's DecimalTypeValidator compares
        # the other way round, which rejects every value inside the range).
        low = parse_decimal(bounds[0])
        high = parse_decimal(bounds[1]) if bounds[1] is not None else None
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{_who(attribute)}: {t} is outside the range {bounds[0]} to {bounds[1]}.")
    return value


def _validate_real(attribute: Attribute, text: str) -> str:
    t = _require(attribute, text, "a number")
    if attribute.options:
        return _choose_option(attribute, t)
    value = _check_decimal(attribute, t)
    return format_decimal(0.0 if value == 0 else value)


def _validate_string(attribute: Attribute, text: str) -> str | None:
    if attribute.type == AttributeType.DECIMAL:  # only without a real converter (not in SEB Server's list)
        t = _require(attribute, text, "a number")
        _check_decimal(attribute, t)
        return t
    if attribute.type == AttributeType.COMBO_SELECTION or attribute.validator in (
        "IntegerTypeValidator",
        "WindowsSizeValidator",
    ):
        t = _require(attribute, text, "a number" if attribute.validator else "a value")
        if attribute.validator == "IntegerTypeValidator" and parse_java_int(t) is None:
            raise ValueError(f"{_who(attribute)}: expected a whole number, got {t!r}.")
        if attribute.validator == "WindowsSizeValidator" and parse_java_int(t.removesuffix("%")) is None:
            raise ValueError(f"{_who(attribute)}: expected a size in pixels (800) or percent (50%), got {t!r}.")
        return t
    if attribute.type == AttributeType.COLOR_SELECTOR:
        t = text.strip()
        if not t:
            return canonical_blank(attribute)
        if not _COLOR_RE.fullmatch(t):
            raise ValueError(f"{_who(attribute)}: expected a colour like #FF0000, got {t!r}.")
        return t
    if is_blank(text):
        return canonical_blank(attribute)
    return text


def _validate_string_list(attribute: Attribute, text: str) -> str | None:
    items = [item for item in text.split(",") if item]  # StringUtils.split drops empty tokens
    if attribute.type in (AttributeType.MULTI_SELECTION, AttributeType.MULTI_CHECKBOX_SELECTION):
        items = [item.strip() for item in items if item.strip()]
        unknown = [item for item in items if item not in attribute.options]
        if unknown:
            raise ValueError(
                f"{_who(attribute)}: {', '.join(repr(u) for u in unknown)} not among the options "
                f"{', '.join(attribute.options)}."
            )
    if attribute.validator == "SEBVersionValidator":
        items = [item.strip() for item in items if item.strip()]
        bad = [item for item in items if not is_seb_version(item)]
        if bad:
            raise ValueError(
                f"{_who(attribute)}: {', '.join(repr(b) for b in bad)} is not a SEB version such as "
                "Win.3.1, Mac.3.0.1.AE or iOS.3.0.min."
            )
    joined = ",".join(items)
    return canonical_blank(attribute) if is_blank(joined) else joined


def is_seb_version(text: str) -> bool:
    """SEB Server's ``AllowedSEBVersion`` format: ``OS.major.minor[.patch][.AE][.min]``."""
    parts = [p for p in text.split(".") if p]
    if len(parts) < 3 or len(parts) > 6 or parts[0].lower() not in ("win", "mac", "ios"):
        return False
    if parse_java_int(parts[1]) is None or parse_java_int(parts[2]) is None:
        return False
    flags: set[str] = set()
    for index, part in enumerate(parts[3:], start=3):
        if index == 3 and parse_java_int(part) is not None:
            continue
        flag = "AE" if part == "AE" else "min" if part.lower() in ("min", "minimal") else None
        if flag is None or flag in flags:
            return False
        flags.add(flag)
    return True


# -------------------------------------------------------------------------------- inline tables


def parse_inline_table(attribute: Attribute, text: str | None) -> list[dict[str, str]]:
    """Parse an INLINE_TABLE value (``active=true|argument=-x,active=false|argument=``) to rows.

    Every row gets every column (missing: ``"false"`` for checkboxes, ``""`` otherwise, which is
    what SEB Server exports for them). Raises ``ValueError`` for unknown columns or bad values.
    """
    if attribute.type != AttributeType.INLINE_TABLE:
        raise ValueError(f"{_who(attribute)} is not an inline table.")
    if text is None or is_blank(text):
        return []
    columns = {c.name: c for c in attribute.columns}
    rows: list[dict[str, str]] = []
    for row_text in text.split(","):
        if not row_text:
            continue
        row: dict[str, str] = {}
        for cell in row_text.split("|"):
            if not cell:
                continue
            name, _, value = cell.partition("=")
            column = columns.get(name)
            if column is None:
                raise ValueError(f"{_who(attribute)}: unknown column {name!r} (expected {', '.join(columns)}).")
            row[name] = _inline_cell(attribute, column, value)
        for name, column in columns.items():
            row.setdefault(name, "false" if column.type == AttributeType.CHECKBOX else "")
        rows.append(row)
    return rows


def _inline_cell(attribute: Attribute, column: InlineColumn, value: str) -> str:
    if column.type == AttributeType.CHECKBOX:
        flag = value.strip().lower() or "false"
        if flag not in ("true", "false"):
            raise ValueError(f"{_who(attribute)}: column {column.name!r} expects true or false, got {value!r}.")
        return flag
    if any(sep in value for sep in ",|="):
        raise ValueError(
            f"{_who(attribute)}: {value!r} contains ',', '|' or '=', which SEB Server's storage format "
            "cannot represent."
        )
    if _INVALID_CHARS_RE.search(value) or "\n" in value or "\r" in value:
        raise ValueError(f"{_who(attribute)}: {value!r} contains control characters.")
    return "" if is_blank(value) else value  # exported as "" anyway


def format_inline_table(attribute: Attribute, rows: Sequence[Mapping[str, Any]]) -> str | None:
    """Inverse of :func:`parse_inline_table`: columns in export order; no rows -> blank."""
    columns = attribute.columns
    parts = []
    for row in rows:
        unknown = set(row) - {c.name for c in columns}
        if unknown:
            raise ValueError(f"{_who(attribute)}: unknown column(s) {', '.join(sorted(unknown))}.")
        cells = []
        for column in columns:
            raw = row.get(column.name)
            if isinstance(raw, bool):
                raw = "true" if raw else "false"
            value = "" if raw is None else str(raw)
            cells.append(f"{column.name}={_inline_cell(attribute, column, value)}")
        parts.append("|".join(cells))
    return ",".join(parts) if parts else canonical_blank(attribute)


# ------------------------------------------------------------------------------- rows, defaults


def default_row(table: str, catalogue: Catalogue | None = None) -> Row:
    """A new row of ``table`` with every column at its default."""
    cat = catalogue if catalogue is not None else load_catalogue()
    return {child.key: child.default for child in cat.children(table)}


def validate_row(table: Attribute, row: Mapping[str, Any], catalogue: Catalogue | None = None) -> Row:
    """Validate one table row: known column keys only, missing columns get their default.

    Returns the canonical row (keys in export order). Raises ``ValueError``.
    """
    cat = catalogue if catalogue is not None else load_catalogue()
    if not table.is_table:
        raise ValueError(f"{_who(table)} is not a table.")
    if not isinstance(row, Mapping):
        raise ValueError(f"{_who(table)}: a row must be a mapping of column to value.")
    children = cat.children(table.name)
    keys = {child.key for child in children}
    unknown = [k for k in row if k not in keys]
    if unknown:
        raise ValueError(f"{_who(table)}: unknown column(s) {', '.join(map(repr, unknown))}.")
    return {child.key: validate_value(child, row.get(child.key)) for child in children}


def default_values(catalogue: Catalogue | None = None) -> SettingsValues:
    """Values of a new exam configuration created without a template (SEB Server ``v0``).

    Scalars: the attribute defaults. ``proxies``: one row of column defaults (its columns are
    marked ``createDefaultValue=true``). ``prohibitedProcesses``/``permittedProcesses``: the rows
    of SEB Server's ``initialProhibitedProcesses.xml`` (38 entries) and
    ``initialPermittedProcesses.xml`` (empty upstream), shipped in ``data/``. Other tables: empty.
    """
    cat = catalogue if catalogue is not None else load_catalogue()
    initial = initial_table_rows(cat)
    values: SettingsValues = {}
    for attr in cat.root_attributes():
        if attr.type == AttributeType.TABLE:
            values[attr.name] = [dict(row) for row in initial.get(attr.name, [])]
        elif attr.type == AttributeType.COMPOSITE_TABLE:
            creates = any(child.dependency("createDefaultValue") == "true" for child in cat.children(attr.name))
            values[attr.name] = [default_row(attr.name, cat)] if creates else []
        else:
            values[attr.name] = attr.default
    return values


def validate_values(values: Mapping[str, Any], catalogue: Catalogue | None = None) -> SettingsValues:
    """Validate a whole configuration and return it complete and canonical.

    Missing scalar settings get their default, missing tables are empty. Also checks what
    single values cannot: unknown settings, table shapes (``proxies`` has at most one row) and
    that the three exit keys differ. Raises :class:`SettingsValidationError` listing all problems.
    """
    cat = catalogue if catalogue is not None else load_catalogue()
    errors: dict[str, str] = {}
    result: SettingsValues = {}
    for name in values:
        attr = cat.get(name)
        if attr is None or not attr.is_root:
            errors[name] = "unknown setting"
    for attr in cat.root_attributes():
        name = attr.name
        if not attr.is_table:
            try:
                result[name] = validate_value(attr, values.get(name, attr.default))
            except ValueError as exc:
                errors[name] = str(exc)
            continue
        rows = values.get(name) or []
        if not isinstance(rows, Sequence) or isinstance(rows, str):
            errors[name] = f"{_who(attr)}: expected a list of rows."
            continue
        if attr.type == AttributeType.COMPOSITE_TABLE and len(rows) > 1:
            errors[name] = f"{_who(attr)}: holds at most one row, got {len(rows)}."
        checked = []
        for index, row in enumerate(rows):
            try:
                checked.append(validate_row(attr, row, cat))
            except ValueError as exc:
                errors[f"{name}[{index}]"] = str(exc)
        result[name] = checked
    keys = [(n, result.get(n)) for n in EXIT_KEY_NAMES if n in cat and n not in errors]
    seen: dict[str | None, str] = {}
    for name, value in keys:
        if value in seen:
            errors[name] = f"{_who(cat[name])}: must differ from {seen[value]} (the exit sequence needs 3 keys)."
        else:
            seen[value] = name
    if errors:
        raise SettingsValidationError(errors)
    return result


# ------------------------------------------------------------------------------------------ diff


@dataclass(frozen=True)
class Change:
    """One difference between two revisions.

    Scalars: ``name`` with ``old``/``new`` text. Table cells: ``row`` and ``column`` are set.
    Whole rows added/removed: ``row`` set, ``column`` ``None``, ``old``/``new`` the row dict.
    A value missing on one side is reported as ``None``.
    """

    name: str
    old: Any
    new: Any
    row: int | None = None
    column: str | None = None

    @property
    def path(self) -> str:
        text = self.name
        if self.row is not None:
            text += f"[{self.row}]"
        if self.column is not None:
            text += f".{self.column}"
        return text


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Differences between two :data:`SettingsValues`, ordered by setting name (SEB order)."""
    changes: list[Change] = []
    for name in sorted(set(old) | set(new), key=seb_sort_key):
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        if isinstance(a, list) or isinstance(b, list):
            rows_a = a if isinstance(a, list) else []
            rows_b = b if isinstance(b, list) else []
            for index in range(max(len(rows_a), len(rows_b))):
                if index >= len(rows_a):
                    changes.append(Change(name, None, rows_b[index], row=index))
                elif index >= len(rows_b):
                    changes.append(Change(name, rows_a[index], None, row=index))
                else:
                    ra, rb = rows_a[index], rows_b[index]
                    for column in sorted(set(ra) | set(rb), key=seb_sort_key):
                        if ra.get(column) != rb.get(column):
                            changes.append(Change(name, ra.get(column), rb.get(column), row=index, column=column))
        else:
            changes.append(Change(name, a, b))
    return changes
