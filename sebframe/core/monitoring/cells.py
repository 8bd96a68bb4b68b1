"""How a monitoring table shows an indicator value: text, colour, warning and incident (SEB Server's rules).

Warning is the first threshold, incident the last (ascending for normal types, descending for inverse ones
such as battery and WLAN). The cell takes the colour of the highest threshold the value reached (inverse: the
lowest threshold above the value), else the indicator's default colour.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

NO_VALUE = "--"


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    color: str  # hex RGB without '#'
    dark: bool  # the colour needs white text
    warning: bool
    incident: bool


def indicator_cell(value: float, thresholds: tuple[tuple[float, str], ...], *, inverse: bool, default_color: str,
                   active: bool, show_only_when_active: bool) -> Cell:
    if not active:  # closed or canceled connections: default colour; ping, battery, WLAN blanked
        text = NO_VALUE if show_only_when_active or math.isnan(value) else _text(value)
        return Cell(text, default_color, is_dark(default_color), False, False)
    if math.isnan(value):
        return Cell(NO_VALUE, default_color, is_dark(default_color), False, False)
    color = default_color
    warning = incident = False
    if thresholds:
        values = [threshold for threshold, _ in thresholds]
        if inverse:
            incident, warning = value <= values[0], value <= values[-1]
            above = [index for index, threshold in enumerate(values) if threshold > value]
            if above:
                color = thresholds[above[0]][1]
        else:
            incident, warning = value >= values[-1], value >= values[0]
            reached = [index for index, threshold in enumerate(values) if threshold <= value]
            if reached:
                color = thresholds[reached[-1]][1]
    return Cell(_text(value), color, is_dark(color), warning, incident)


@functools.lru_cache(maxsize=1024)  # few colours, asked for every cell of every connection
def is_dark(color: str) -> bool:
    """Whether black text would be hard to read on this background (perceived brightness)."""
    try:
        red, green, blue = (int(color[index:index + 2], 16) for index in (0, 2, 4))
    except ValueError:
        return False
    return 0.299 * red + 0.587 * green + 0.114 * blue < 128


def _text(value: float) -> str:
    return str(int(value)) if math.isfinite(value) else NO_VALUE
