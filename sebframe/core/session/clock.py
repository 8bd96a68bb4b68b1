"""Epoch milliseconds, the unit of every hot-path time (as SEB and SEB Server use it)."""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
