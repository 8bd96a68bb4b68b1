"""XML property list reader and writer for SEB settings.

Why not :mod:`plistlib`: SEB for Windows writes .NET-style dates with fractional seconds and UTC
offsets (``2019-02-20T14:30:00.1230000+02:00``), which plistlib rejects, and SEB Server expects
its own compact layout (``<true />``, ``<string />``) on output.

Type mapping (both directions)::

    <dict>     dict[str, ...]        <integer>  int (64-bit range)
    <array>    list                  <real>     float
    <string>   str (<string/> -> "") <true/>    True, <false/> -> False
    <data>     bytes (base64)        <date>     datetime, timezone-aware, UTC

Dates keep microsecond precision; a 7th fractional digit (.NET 100 ns ticks) is truncated.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeAlias
from xml.parsers import expat

from .errors import InvalidPlistError

__all__ = [
    "PLIST_DOCTYPE",
    "PlistValue",
    "XML_HEADER",
    "format_plist_date",
    "parse_plist",
    "parse_plist_date",
    "serialize_plist",
]

PlistValue: TypeAlias = Any  # dict | list | str | int | float | bool | bytes | datetime (recursive)

# Exactly what SEB Server writes (Constants.XML_VERSION_HEADER / XML_DOCTYPE / XML_PLIST_START_V1).
XML_HEADER = '<?xml version="1.0" encoding="utf-8"?>'
PLIST_DOCTYPE = (
    '<!DOCTYPE plist PUBLIC "-//Apple Computer//DTD PLIST 1.0//EN" '
    '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">'
)
_PLIST_OPEN = '<plist version="1.0">'

# Real SEB files nest 4-5 levels; the cap keeps recursive consumers (Config Key) safe.
MAX_DEPTH = 100

_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1  # Apple plists allow unsigned 64-bit values

_INT_RE = re.compile(r"[+-]?[0-9]{1,20}")
_HEX_INT_RE = re.compile(r"[+-]?0[xX][0-9a-fA-F]{1,16}")
_REAL_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
_SPECIAL_REALS = {
    "inf": math.inf,
    "+inf": math.inf,
    "infinity": math.inf,
    "+infinity": math.inf,
    "-inf": -math.inf,
    "-infinity": -math.inf,
    "nan": math.nan,
}
_DATE_RE = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:[T ](?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]{1,20}))?)?)?"
    r"\s*(?P<tz>Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
_SCALAR_TAGS = frozenset({"key", "string", "integer", "real", "true", "false", "date", "data"})
# Characters XML 1.0 cannot carry at all (not even as character references).
_XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --------------------------------------------------------------------------------------- dates


def parse_plist_date(text: str) -> datetime:
    """Parse an ISO 8601 plist date (Apple ``...Z`` or .NET ``.1230000+02:00``) to UTC.

    A missing offset means UTC (as ``XmlConvert.ToDateTime(v, Utc)`` in SEB for Windows does).
    """
    m = _DATE_RE.fullmatch(text.strip())
    if m is None:
        raise InvalidPlistError(f"Invalid date value {text.strip()[:40]!r} in the property list.")
    frac = (m["f"] or "")[:6].ljust(6, "0")  # microseconds; extra digits are truncated
    tz = m["tz"]
    if tz is None or tz in ("Z", "z"):
        tzinfo: timezone = UTC
    else:
        digits = tz[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        tzinfo = timezone(timedelta(minutes=-minutes if tz[0] == "-" else minutes))
    try:
        value = datetime(
            int(m["y"]),
            int(m["mo"]),
            int(m["d"]),
            int(m["h"] or 0),
            int(m["mi"] or 0),
            int(m["s"] or 0),
            int(frac),
            tzinfo=tzinfo,
        )
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidPlistError(f"Invalid date value {text.strip()[:40]!r} in the property list.") from None


def format_plist_date(value: datetime) -> str:
    """Format a date the Apple way (``2019-02-20T12:30:00Z``), keeping microseconds if present.

    Naive datetimes are taken as UTC.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    v = value.astimezone(UTC)
    text = f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}"
    if v.microsecond:
        text += "." + f"{v.microsecond:06d}".rstrip("0")
    return text + "Z"


# -------------------------------------------------------------------------------------- reader


class _Frame:
    """One open element while parsing: a container being filled or a scalar collecting text."""

    __slots__ = ("tag", "value", "text", "key")

    def __init__(self, tag: str, value: Any = None) -> None:
        self.tag = tag
        self.value = value
        self.text: list[str] = []
        self.key: str | None = None  # pending <key> inside a <dict>


class _PlistBuilder:
    """Expat callbacks that turn plist XML into Python values without building a DOM."""

    def __init__(self) -> None:
        self.stack: list[_Frame] = []
        self.root_tag: str | None = None
        self.result: list[Any] = []  # values directly under <plist> (or the root value)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.root_tag is None:
            self.root_tag = tag
            if tag == "plist":
                self.stack.append(_Frame("plist"))
                return
            if tag == "key" or (tag not in _SCALAR_TAGS and tag not in ("dict", "array")):
                raise InvalidPlistError(f"The XML document is not a property list (root element <{tag}>).")
        if self.stack and self.stack[-1].tag in _SCALAR_TAGS:
            raise InvalidPlistError(f"Unexpected element <{tag}> inside <{self.stack[-1].tag}>.")
        if len(self.stack) > MAX_DEPTH:
            raise InvalidPlistError(f"The property list is nested deeper than {MAX_DEPTH} levels.")
        if tag == "dict":
            self.stack.append(_Frame(tag, {}))
        elif tag == "array":
            self.stack.append(_Frame(tag, []))
        elif tag in _SCALAR_TAGS:
            if tag == "key" and (not self.stack or self.stack[-1].tag != "dict"):
                raise InvalidPlistError("Found a <key> element outside of a <dict>.")
            self.stack.append(_Frame(tag))
        else:
            raise InvalidPlistError(f"Unknown property list element <{tag}>.")

    def end(self, tag: str) -> None:
        frame = self.stack.pop()
        if frame.tag == "plist":
            return
        if frame.tag == "dict" and frame.key is not None:
            raise InvalidPlistError(f"The key {frame.key!r} has no value.")
        if frame.tag == "key":
            parent = self.stack[-1]
            if parent.key is not None:
                raise InvalidPlistError(f"The key {parent.key!r} has no value.")
            parent.key = "".join(frame.text)
            return
        value = frame.value if frame.tag in ("dict", "array") else _scalar(frame.tag, "".join(frame.text))
        self._add(value)

    def _add(self, value: Any) -> None:
        if not self.stack or self.stack[-1].tag == "plist":
            self.result.append(value)
            return
        parent = self.stack[-1]
        if parent.tag == "array":
            parent.value.append(value)
        else:  # dict: a value must follow a <key>
            if parent.key is None:
                raise InvalidPlistError("A value inside a <dict> is not preceded by a <key>.")
            parent.value[parent.key] = value  # duplicate keys: the last one wins
            parent.key = None

    def text(self, data: str) -> None:
        if self.stack and self.stack[-1].tag in _SCALAR_TAGS:
            self.stack[-1].text.append(data)
        elif data.strip():
            raise InvalidPlistError(f"Unexpected text {data.strip()[:30]!r} in the property list.")


def _scalar(tag: str, text: str) -> Any:
    if tag == "string":
        return text
    if tag == "true":
        return True
    if tag == "false":
        return False
    if tag == "integer":
        return _parse_int(text)
    if tag == "real":
        return _parse_real(text)
    if tag == "date":
        return parse_plist_date(text)
    # data: base64, whitespace and missing padding tolerated
    compact = "".join(text.split())
    compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidPlistError("Invalid base64 content in a <data> element.") from None


def _parse_int(text: str) -> int:
    t = text.strip()
    if _INT_RE.fullmatch(t):
        value = int(t)
    elif _HEX_INT_RE.fullmatch(t):
        value = int(t, 16)
    else:
        raise InvalidPlistError(f"Invalid integer value {t[:40]!r} in the property list.")
    if not _INT_MIN <= value <= _INT_MAX:
        raise InvalidPlistError(f"Integer value {t[:40]} is out of the 64-bit range.")
    return value


def _parse_real(text: str) -> float:
    t = text.strip()
    special = _SPECIAL_REALS.get(t.lower())
    if special is not None:
        return special
    if not _REAL_RE.fullmatch(t):
        raise InvalidPlistError(f"Invalid real value {t[:40]!r} in the property list.")
    return float(t)


def _forbid_entities(*_args: object) -> None:
    # Entity declarations are never used by plists and enable expansion attacks ("billion laughs").
    raise InvalidPlistError("The XML document declares entities, which are not allowed.")


def parse_plist(data: bytes | str) -> PlistValue:
    """Parse an XML property list and return its root value.

    Tolerates a BOM, leading whitespace, CRLF line ends, a missing ``<plist>`` wrapper and
    empty-element forms (``<array/>``, ``<string />``). Raises :class:`InvalidPlistError`.
    """
    # str goes to expat as text (its encoding declaration is then irrelevant); bytes are decoded
    # by expat according to BOM/declaration.
    raw: bytes | str = (
        data.lstrip("\ufeff \t\r\n") if isinstance(data, str) else _strip_leading_space(bytes(data))
    )
    if not raw:
        raise InvalidPlistError("The property list is empty.")
    builder = _PlistBuilder()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.text
    parser.EntityDeclHandler = _forbid_entities
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        reason = expat.errors.messages.get(exc.code, "syntax error") if exc.code else "syntax error"
        raise InvalidPlistError(
            f"The data is not well-formed XML (line {exc.lineno}, column {exc.offset}: {reason})."
        ) from None
    except RecursionError:  # pragma: no cover - depth is capped above
        raise InvalidPlistError("The property list is nested too deeply.") from None
    if len(builder.result) != 1:
        if not builder.result:
            raise InvalidPlistError("The property list contains no value.")
        raise InvalidPlistError("The property list contains more than one root value.")
    return builder.result[0]


def _strip_leading_space(raw: bytes) -> bytes:
    """Drop a UTF-8 BOM and whitespace before the XML declaration (expat rejects both)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    return raw.lstrip(b" \t\r\n")


# -------------------------------------------------------------------------------------- writer


def serialize_plist(value: PlistValue, *, indent: str | None = None, sort_keys: bool = False) -> bytes:
    """Serialize ``value`` to an XML property list (UTF-8 bytes).

    ``indent=None`` gives SEB Server's compact layout (no whitespace at all, ``<true />``,
    ``<string />``, ``<array />``); a string such as ``"\\t"`` gives one element per line.
    ``None`` values are written as ``<string />``. Raises ``TypeError``/``ValueError`` for values
    a plist cannot hold.
    """
    parts: list[str] = []
    nl = "" if indent is None else "\n"
    parts.append(XML_HEADER + nl + PLIST_DOCTYPE + nl + _PLIST_OPEN + nl)
    _write(value, parts, indent, 1 if indent is not None else 0, sort_keys)
    parts.append(nl + "</plist>" + nl if indent is not None else "</plist>")
    return "".join(parts).encode("utf-8")


def _escape(text: str) -> str:
    if _XML_INVALID_RE.search(text):
        raise ValueError("Text contains characters that XML 1.0 cannot represent.")
    # \r must be a character reference, otherwise XML line-end normalisation turns it into \n.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _write(value: Any, out: list[str], indent: str | None, level: int, sort_keys: bool) -> None:
    pad = "" if indent is None else indent * (level - 1)
    nl = "" if indent is None else "\n"
    if value is None:
        out.append(pad + "<string />")
    elif isinstance(value, bool):
        out.append(pad + ("<true />" if value else "<false />"))
    elif isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise ValueError(f"Integer {value} is out of the 64-bit plist range.")
        out.append(f"{pad}<integer>{value}</integer>")
    elif isinstance(value, float):
        out.append(f"{pad}<real>{_format_real(value)}</real>")
    elif isinstance(value, str):
        out.append(f"{pad}<string>{_escape(value)}</string>" if value else pad + "<string />")
    elif isinstance(value, (bytes, bytearray, memoryview)):
        out.append(f"{pad}<data>{base64.b64encode(bytes(value)).decode('ascii')}</data>")
    elif isinstance(value, datetime):
        out.append(f"{pad}<date>{format_plist_date(value)}</date>")
    elif isinstance(value, Mapping):
        if not value:
            out.append(pad + "<dict />")
            return
        out.append(pad + "<dict>" + nl)
        items = sorted(value.items()) if sort_keys else value.items()
        for key, item in items:
            if not isinstance(key, str):
                raise TypeError(f"Property list keys must be strings, not {type(key).__name__}.")
            inner = "" if indent is None else indent * level
            out.append(f"{inner}<key>{_escape(key)}</key>{nl}")
            _write(item, out, indent, level + 1, sort_keys)
            out.append(nl)
        out.append(pad + "</dict>")
    elif isinstance(value, Sequence):
        if not value:
            out.append(pad + "<array />")
            return
        out.append(pad + "<array>" + nl)
        for item in value:
            _write(item, out, indent, level + 1, sort_keys)
            out.append(nl)
        out.append(pad + "</array>")
    else:
        raise TypeError(f"Cannot store a value of type {type(value).__name__} in a property list.")


def _format_real(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "+infinity" if value > 0 else "-infinity"
    return repr(value)  # shortest text that reads back to the same double
