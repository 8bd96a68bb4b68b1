"""Pure indicator computations: a value folded from client events, read at a moment.

Values are floats; NaN means "no value yet" (shown as ``--``), as in SEB Server.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sebframe.types import ClientEventView

NAN = math.nan


def wrap_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """``battery`` and ``<battery>`` both become ``<battery>``; blanks are dropped."""
    wrapped = []
    for tag in tags:
        tag = tag.strip()
        if not tag:
            continue
        wrapped.append(tag if tag.startswith("<") and tag.endswith(">") else f"<{tag}>")
    return tuple(wrapped)


@dataclass(frozen=True, slots=True)
class LastPing:
    """Milliseconds since the last ping; the server clock is used, never the client's."""

    def initial_value(self) -> float:
        return 0.0

    def on_event(self, value: float, event: ClientEventView) -> float:
        return value

    def current_value(self, value: float, last_ping_ms: int | None, now_ms: int) -> float:
        if last_ping_ms is None:
            return NAN
        return float(max(0, now_ms - last_ping_ms))


@dataclass(frozen=True, slots=True)
class LogCount:
    """Counts events of one log type, or only those whose text starts with one of the tags."""

    event_type: str
    tags: tuple[str, ...] = ()

    def initial_value(self) -> float:
        return 0.0

    def on_event(self, value: float, event: ClientEventView) -> float:
        if event.type != self.event_type:
            return value
        if self.tags and not event.text.startswith(self.tags):
            return value
        return value + 1.0

    def current_value(self, value: float, last_ping_ms: int | None, now_ms: int) -> float:
        return value


@dataclass(frozen=True, slots=True)
class LatestNumber:
    """The numeric value of the latest INFO event carrying a fixed tag; an event without a number is NaN."""

    tag: str

    def initial_value(self) -> float:
        return NAN

    def on_event(self, value: float, event: ClientEventView) -> float:
        if event.type != "INFO_LOG" or not event.text.startswith(self.tag):
            return value
        return NAN if event.numeric_value is None else float(event.numeric_value)

    def current_value(self, value: float, last_ping_ms: int | None, now_ms: int) -> float:
        return value
