"""Client log events as SEB sends them to ``/exam-api/v1/seblog``: lenient parsing, SEB Server's types.

One JSON object per request. Unknown properties are ignored; an unparseable body is dropped silently
(the client gets 204 either way and never retries a log line). Invalid UTF-8 and lone surrogates in the text
become U+FFFD: the line is kept, readable, and storable by every database.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import StrEnum

from sebframe.core.session.text import client_text

MAX_TEXT = 512  # SEB Server truncates event texts to this length


class EventType(StrEnum):
    UNKNOWN = "UNKNOWN"
    DEBUG_LOG = "DEBUG_LOG"
    INFO_LOG = "INFO_LOG"
    WARN_LOG = "WARN_LOG"
    ERROR_LOG = "ERROR_LOG"
    NOTIFICATION = "NOTIFICATION"
    NOTIFICATION_CONFIRMED = "NOTIFICATION_CONFIRMED"


# A numeric "type" is mapped by ordinal, as Jackson does on SEB Server (not by SEB Server's ids).
_BY_ORDINAL = tuple(EventType)
_BY_NAME = {member.value: member for member in EventType}

NOTIFICATION_TAGS = {"<raisehand>": "raisehand", "<lockscreen>": "lockscreen"}


@dataclass(slots=True)
class ClientLogEvent:
    type: EventType
    client_time_ms: int
    numeric_value: float | None
    text: str


def clean_text(text: str) -> str:
    """Storable (:func:`client_text`) and truncated to SEB Server's length."""
    return client_text(text)[:MAX_TEXT]


def parse_event(body: bytes) -> ClientLogEvent | None:
    try:
        data = _json(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    event_type = _event_type(data.get("type"))
    if event_type is None:
        return None
    text = data.get("text")
    return ClientLogEvent(
        type=event_type,
        client_time_ms=_integer(data.get("timestamp")),
        numeric_value=_number(data.get("numericValue")),
        text=clean_text(text) if isinstance(text, str) else "",
    )


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except UnicodeDecodeError:  # not UTF-8 throughout: keep the event, with U+FFFD for the broken bytes
        return json.loads(body.decode("utf-8", "replace"))


def notification_kind(text: str) -> tuple[str, str] | None:
    """``("raisehand", "I need help")`` for ``<raisehand> I need help``; None for an untagged text."""
    for tag, kind in NOTIFICATION_TAGS.items():
        if text.startswith(tag):
            return kind, text[len(tag):].strip()
    return None


def _event_type(value: object) -> EventType | None:
    if isinstance(value, str):
        return _BY_NAME.get(value.strip().upper(), EventType.UNKNOWN)
    if isinstance(value, int) and not isinstance(value, bool):
        return _BY_ORDINAL[value] if 0 <= value < len(_BY_ORDINAL) else None
    return EventType.UNKNOWN if value is None else None


def _integer(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value if -(2**63) < value < 2**63 else 0
    if isinstance(value, float) and math.isfinite(value):
        return int(value) if abs(value) < 2**63 else 0
    if isinstance(value, str):
        try:
            return _integer(int(value.strip()))
        except ValueError:
            return 0
    return 0


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) and abs(number) < 1e15 else None
