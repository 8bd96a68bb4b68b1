"""Registers the indicator types. Import-light: only descriptors, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from sebframe import hookimpl
from sebframe.types import IndicatorType, Threshold
from sebframe_indicators.computations import LastPing, LatestNumber, LogCount, wrap_tags

BATTERY_TAG = "<battery>"
WLAN_TAG = "<wlan>"

# SEB Server's default ping indicator thresholds (ms): warning, then two incident levels.
DEFAULT_PING_THRESHOLDS = (Threshold(5000, "ffc20e"), Threshold(10000, "ff7e00"), Threshold(15000, "ed1c24"))


def _log_count(event_type: str) -> Callable[[Sequence[str]], LogCount]:
    def create(tags: Sequence[str]) -> LogCount:
        return LogCount(event_type, wrap_tags(tags))

    return create


@hookimpl
def sebframe_indicator_types() -> Iterator[IndicatorType]:
    yield IndicatorType(
        name="LAST_PING", display_name="Last Ping Time", create=lambda tags: LastPing(),
        show_only_when_active=True, default_thresholds=DEFAULT_PING_THRESHOLDS,
    )
    yield IndicatorType(name="ERROR_COUNT", display_name="Error-Log Counter", create=_log_count("ERROR_LOG"),
                        uses_tags=True)
    yield IndicatorType(name="WARN_COUNT", display_name="Warning-Log Counter", create=_log_count("WARN_LOG"),
                        uses_tags=True)
    yield IndicatorType(name="INFO_COUNT", display_name="Info-Log Counter", create=_log_count("INFO_LOG"),
                        uses_tags=True)
    yield IndicatorType(
        name="BATTERY_STATUS", display_name="Battery Status", create=lambda tags: LatestNumber(BATTERY_TAG),
        inverse=True, uses_tags=True, fixed_tags=(BATTERY_TAG,), show_only_when_active=True,
    )
    yield IndicatorType(
        name="WLAN_STATUS", display_name="WiFi Status", create=lambda tags: LatestNumber(WLAN_TAG),
        inverse=True, uses_tags=True, fixed_tags=(WLAN_TAG,), show_only_when_active=True,
    )
