from __future__ import annotations

import math

import pytest
from sebframe_indicators import plugin

from sebframe.testing import registry_with
from sebframe.types import ClientEventView


def event(kind: str, text: str = "", number: float | None = None, at: int = 0) -> ClientEventView:
    return ClientEventView(type=kind, text=text, numeric_value=number, server_time_ms=at)


@pytest.fixture
def types():  # type: ignore[no-untyped-def]
    return registry_with(plugin).indicator_types()


def fold(computation, events):  # type: ignore[no-untyped-def]
    value = computation.initial_value()
    for item in events:
        value = computation.on_event(value, item)
    return value


def test_all_seb_server_types_are_registered(types) -> None:  # type: ignore[no-untyped-def]
    assert list(types) == ["BATTERY_STATUS", "ERROR_COUNT", "INFO_COUNT", "LAST_PING", "WARN_COUNT", "WLAN_STATUS"]
    assert types["BATTERY_STATUS"].inverse and types["WLAN_STATUS"].inverse
    assert not types["LAST_PING"].inverse and types["LAST_PING"].show_only_when_active
    assert [t.value for t in types["LAST_PING"].default_thresholds] == [5000, 10000, 15000]


def test_last_ping_is_server_time_since_the_last_ping(types) -> None:  # type: ignore[no-untyped-def]
    ping = types["LAST_PING"].create(())
    value = fold(ping, [event("ERROR_LOG", "ignored")])
    assert ping.current_value(value, last_ping_ms=10_000, now_ms=13_500) == 3500
    assert ping.current_value(value, last_ping_ms=10_000, now_ms=9_000) == 0  # clock skew never negative
    assert math.isnan(ping.current_value(value, last_ping_ms=None, now_ms=1))


@pytest.mark.parametrize(("name", "kind"), [("ERROR_COUNT", "ERROR_LOG"), ("WARN_COUNT", "WARN_LOG"),
                                            ("INFO_COUNT", "INFO_LOG")])
def test_log_counters_count_their_type(types, name: str, kind: str) -> None:  # type: ignore[no-untyped-def]
    counter = types[name].create(())
    events = [event(kind, "a"), event("DEBUG_LOG", "b"), event(kind, "c"), event("ERROR_LOG" if kind != "ERROR_LOG"
                                                                                   else "WARN_LOG", "d")]
    assert counter.current_value(fold(counter, events), None, 0) == 2


def test_tagged_counter_counts_only_tagged_events(types) -> None:  # type: ignore[no-untyped-def]
    counter = types["ERROR_COUNT"].create(["proctoring", "<net>", " "])
    events = [event("ERROR_LOG", "<proctoring> camera lost"), event("ERROR_LOG", "<net> timeout"),
              event("ERROR_LOG", "untagged"), event("ERROR_LOG", "x <proctoring> not at start")]
    assert fold(counter, events) == 2


@pytest.mark.parametrize(("name", "tag"), [("BATTERY_STATUS", "<battery>"), ("WLAN_STATUS", "<wlan>")])
def test_latest_number_of_the_fixed_tag(types, name: str, tag: str) -> None:  # type: ignore[no-untyped-def]
    status = types[name].create(["ignored"])
    assert math.isnan(status.initial_value())
    events = [event("INFO_LOG", f"{tag} level", 80), event("INFO_LOG", "<other>", 5),
              event("WARN_LOG", f"{tag} wrong type", 1), event("INFO_LOG", f"{tag} level", 42)]
    assert fold(status, events) == 42
    assert math.isnan(fold(status, [*events, event("INFO_LOG", f"{tag} not connected", None)]))
