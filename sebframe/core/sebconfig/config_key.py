"""SEB Config Key: lowercase hex SHA-256 of the settings serialized as "SEB-JSON".

SEB-JSON follows SEB for Windows (``Json.cs`` / ``DataProcessor.CalculateConfigurationKey``),
which reproduces the upstream Windows, macOS and Moodle test vectors:

* dict keys sorted culture-invariant and case-insensitively (``allowWlan`` before ``allowWLAN``);
* at every dict level the key ``originatorVersion`` (any case) and entries whose value is an
  empty dict are dropped; empty dicts *inside arrays* are kept as ``{}``;
* no whitespace and **no escaping** of strings at all (backslashes and quotes stay as they are);
* reals as .NET ``G15`` (``1E-05``, ``-0`` -> ``0``), data as quoted Base64, dates *unquoted*
  as ``2019-02-20T12:30:00.1230000Z``.

SEB for Windows keeps a dangling comma (``{"a":1,}``) when the last sorted key is dropped; that is
reproduced only with ``win_trailing_comma=True``, the default emits valid JSON.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "EXCLUDED_KEY",
    "config_key",
    "format_real",
    "seb_json",
    "seb_sort_key",
]

EXCLUDED_KEY = "originatorVersion"

# ICU/CLDR root collation order of ASCII punctuation and symbols; all sort before digits and
# letters (Java Collator(Locale.ROOT), .NET InvariantCulture for the names SEB uses).
_SYMBOL_ORDER = "\t\n\x0b\x0c\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$"
_SYMBOL_RANK = {c: i for i, c in enumerate(_SYMBOL_ORDER)}


def seb_sort_key(key: str) -> tuple[tuple[tuple[int, int, str], ...], tuple[int, ...], str]:
    """Sort key giving SEB's culture-invariant, case-insensitive order of setting names.

    Primary: symbols < digits < letters, letters compared case-insensitively. Tie-break: at the
    first letter that differs only in case, lowercase comes first (``allowWlan`` < ``allowWLAN``).
    Exact for ASCII names; other characters are ordered approximately. The name itself is the
    final tie-break so the order is total.
    """
    primary: list[tuple[int, int, str]] = []
    for c in key:
        if c.isdigit():
            primary.append((1, 0, c))
        elif c.isalpha():
            primary.append((2, 0, c.lower()))
        else:
            primary.append((0, _SYMBOL_RANK.get(c, len(_SYMBOL_RANK)), c))
    return tuple(primary), tuple(1 if c.isupper() else 0 for c in key), key


def format_real(value: float) -> str:
    """Format a double like .NET ``double.ToString(InvariantCulture)`` (15 significant digits)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"  # also -0.0
    return f"{value:.15G}"


def _format_date(value: datetime) -> str:
    # .NET DateTime.ToString("o") of a UTC value: always 7 fractional digits.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    v = value.astimezone(UTC)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}"
        f".{v.microsecond:06d}0Z"
    )


def _write(value: Any, out: list[str], win_trailing_comma: bool) -> None:
    if value is None:
        out.append('""')  # <string/> is null in SEB for Windows and serializes as ""
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(format_real(value))
    elif isinstance(value, str):
        out.append('"' + value + '"')  # deliberately unescaped, like SEB
    elif isinstance(value, (bytes, bytearray, memoryview)):
        out.append('"' + base64.b64encode(bytes(value)).decode("ascii") + '"')
    elif isinstance(value, datetime):
        out.append(_format_date(value))
    elif isinstance(value, Mapping):
        _write_dict(value, out, win_trailing_comma)
    elif isinstance(value, Sequence):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out, win_trailing_comma)
        out.append("]")
    else:
        raise TypeError(f"Cannot compute a Config Key over a value of type {type(value).__name__}.")


def _skipped(key: str, value: Any) -> bool:
    return key.lower() == EXCLUDED_KEY.lower() or (isinstance(value, Mapping) and not value)


def _write_dict(value: Mapping[str, Any], out: list[str], win_trailing_comma: bool) -> None:
    keys = sorted(value, key=seb_sort_key)
    out.append("{")
    if win_trailing_comma:
        last = keys[-1] if keys else None
        for key in keys:
            if _skipped(key, value[key]):
                continue
            out.append('"' + key + '":')
            _write(value[key], out, win_trailing_comma)
            if key != last:
                out.append(",")
    else:
        first = True
        for key in keys:
            if _skipped(key, value[key]):
                continue
            if not first:
                out.append(",")
            first = False
            out.append('"' + key + '":')
            _write(value[key], out, win_trailing_comma)
    out.append("}")


def seb_json(settings: Mapping[str, Any], *, win_trailing_comma: bool = False) -> str:
    """Serialize settings to the SEB-JSON text whose SHA-256 is the Config Key."""
    out: list[str] = []
    _write_dict(settings, out, win_trailing_comma)
    return "".join(out)


def config_key(settings: Mapping[str, Any], *, win_trailing_comma: bool = False) -> str:
    """Config Key of the given (decrypted) settings: 64 lowercase hex characters."""
    text = seb_json(settings, win_trailing_comma=win_trailing_comma)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
