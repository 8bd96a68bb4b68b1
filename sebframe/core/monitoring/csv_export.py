"""CSV as the monitoring exports write it: RFC 4180 quoting and CRLF, a UTF-8 byte order mark so spreadsheet
programs read umlauts, and no formulas smuggled in by what SEB clients send (machine names, log texts)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(text: str | None) -> str:
    """Client-controlled text, made inert for spreadsheets: a leading ``'`` before a formula character."""
    value = text or ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_text(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)  # quotes commas, quotes and line breaks; CRLF line ends
    return buffer.getvalue()
