"""Matching and precedence: reference §9.2 (M1-M16) and §9.3 (E1-E9), compiled and naive alike."""

from __future__ import annotations

import ipaddress

import pytest

from sebframe.core.location.rules import (
    Action,
    CompiledProfile,
    Rule,
    compile_profile,
    naive_match,
    parse_profile,
)
from sebframe.core.net import parse_address


def compiled(text: str) -> CompiledProfile:
    parsed = parse_profile(text)
    assert parsed.ok, parsed.errors
    return compile_profile(parsed.rules)


def decide(text: str, client: str) -> str:
    """ALLOW(n) / BLOCK(n) for the deciding line n, or NO MATCH; both matchers must agree."""
    profile = compiled(text)
    address = parse_address(client)
    assert address is not None, client
    rule = profile.match(address)
    assert rule is naive_match(profile.rules, address)
    return "NO MATCH" if rule is None else f"{rule.action}({rule.line})"


MATCHING = [
    ("M1", "ALLOW 10.0.0.0/8", "::ffff:10.0.0.1", "ALLOW(1)"),
    ("M2", "ALLOW ::ffff:10.0.0.0/104", "10.0.0.1", "ALLOW(1)"),
    ("M3", "ALLOW 10.0.0.0/8", "::10.0.0.1", "NO MATCH"),
    ("M4", "ALLOW 10.0.0.0/8", "2002:a00:1::", "NO MATCH"),
    ("M5", "ALLOW 192.168.*.10", "192.168.7.10", "ALLOW(1)"),
    ("M5", "ALLOW 192.168.*.10", "192.168.7.11", "NO MATCH"),
    ("M6", "ALLOW 10.1", "10.1.200.3", "ALLOW(1)"),
    ("M6", "ALLOW 10.1", "10.10.0.1", "NO MATCH"),
    ("M7", "ALLOW 2001:db8::*", "2001:db8::5", "ALLOW(1)"),
    ("M7", "ALLOW 2001:db8::*", "2001:db8::1:5", "NO MATCH"),
    ("M8", "ALLOW 2001:db8:*::1", "2001:db8:7::1", "ALLOW(1)"),
    ("M8", "ALLOW 2001:db8:*::1", "2001:db8:0:7::1", "NO MATCH"),
    ("M9", "ALLOW fe80::/10", "fe80::1%eth0", "ALLOW(1)"),
    ("M10", "ALLOW 127.0.0.1", "::1", "NO MATCH"),
    ("M13", "ALLOW 2001:db8::fff0-ffff", "2001:db8::fffe", "ALLOW(1)"),
    ("M14", "ALLOW 10.0.0.0/24", "10.0.0.255", "ALLOW(1)"),
    ("M14", "ALLOW 10.0.0.0/24", "10.0.1.0", "NO MATCH"),
    ("M15", "ALLOW 0.0.0.0/0", "2001:db8::1", "NO MATCH"),
    ("M16", "ALLOW *", "2001:db8::1", "ALLOW(1)"),
    ("M16", "ALLOW *", "8.8.8.8", "ALLOW(1)"),
]


@pytest.mark.parametrize(("case", "profile", "client", "expected"), MATCHING,
                         ids=[f"{case}-{client}" for case, _, client, _ in MATCHING])
def test_matching(case: str, profile: str, client: str, expected: str) -> None:
    assert decide(profile, client) == expected


@pytest.mark.parametrize("client", ["testclient", "", "unknown", "10.0.0.1:5000"], ids=["M11", "M11-empty",
                                                                                         "M11-unknown", "M11-port"])
def test_m11_non_ip_client_is_unresolvable_and_nothing_crashes(client: str) -> None:
    # The UNRESOLVABLE denial itself is the caller's (decide.py); here: no address, and no exception anywhere.
    address = parse_address(client)
    assert address is None
    profile = compiled("ALLOW *")
    assert profile.match(address) is None
    assert naive_match(profile.rules, address) is None
    assert not profile.rules[0].covers(address)


def test_m12_no_peer_matches_nothing() -> None:
    profile = compiled("ALLOW *")
    assert profile.match(None) is None and naive_match(profile.rules, None) is None


EVALUATION = [
    ("E1", "ALLOW 10.1.1.*\nBLOCK *", "10.1.1.5", "ALLOW(1)"),
    ("E1", "ALLOW 10.1.1.*\nBLOCK *", "10.1.2.5", "BLOCK(2)"),
    ("E2", "ALLOW 10.1.1.*\nBLOCK 10.1.1.5", "10.1.1.5", "BLOCK(2)"),
    ("E2-reversed", "BLOCK 10.1.1.5\nALLOW 10.1.1.*", "10.1.1.5", "BLOCK(1)"),
    ("E3", "ALLOW 10.1.1.5\nBLOCK 10.1.1.5", "10.1.1.5", "BLOCK(2)"),
    ("E4", "ALLOW 10.0.0.0-10.0.0.200\nBLOCK 10.0.0.128/25", "10.0.0.100", "ALLOW(1)"),
    ("E4", "ALLOW 10.0.0.0-10.0.0.200\nBLOCK 10.0.0.128/25", "10.0.0.150", "BLOCK(2)"),
    ("E4", "ALLOW 10.0.0.0-10.0.0.200\nBLOCK 10.0.0.128/25", "10.0.0.201", "BLOCK(2)"),
    ("E5", "BLOCK 1.2.3.4\nALLOW *", "1.2.3.4", "BLOCK(1)"),
    ("E5", "BLOCK 1.2.3.4\nALLOW *", "5.6.7.8", "ALLOW(2)"),
    ("E5", "BLOCK 1.2.3.4\nALLOW *", "2001:db8::1", "ALLOW(2)"),
    ("E6", "ALLOW 10.*.*.*\nBLOCK *.*.*.*", "2001:db8::5", "NO MATCH"),
    ("E7", "ALLOW 192.168.*.10\nBLOCK 192.168.0.0/24", "192.168.0.10", "BLOCK(2)"),
]


@pytest.mark.parametrize(("case", "profile", "client", "expected"), EVALUATION,
                         ids=[f"{case}-{client}" for case, _, client, _ in EVALUATION])
def test_evaluation_and_precedence(case: str, profile: str, client: str, expected: str) -> None:
    assert decide(profile, client) == expected


def test_e3_and_e6_warnings() -> None:
    e3 = parse_profile("ALLOW 10.1.1.5\nBLOCK 10.1.1.5")
    assert [(issue.line, issue.code, issue.message) for issue in e3.warnings] == [
        (1, "W102", "line 1: never decides: line 2 (BLOCK 10.1.1.5) covers the same addresses and BLOCK wins ties")]
    e6 = parse_profile("ALLOW 10.*.*.*\nBLOCK *.*.*.*")
    assert [(issue.line, issue.code) for issue in e6.warnings] == [(2, "W109")]


def allowed_by_any(profiles: dict[str, CompiledProfile], client: str) -> str | None:
    """OR across an exam's profiles (the real combination lives in decide.py): the first profile that allows."""
    address = parse_address(client)
    for name, profile in profiles.items():
        rule = profile.match(address)
        if rule is not None and rule.action is Action.ALLOW:
            return rule.room or name
    return None


def test_e8_or_across_profiles_reports_the_allowing_room() -> None:
    profiles = {"Room A": compiled("ALLOW 10.1.0.0/24 room=A"), "Room B": compiled('ALLOW 10.2.0.0/24 room="Room B"')}
    assert allowed_by_any(profiles, "10.2.0.7") == "Room B"
    assert allowed_by_any(profiles, "10.3.0.7") is None


def test_e9_block_in_one_profile_does_not_veto_another() -> None:
    room_a = compiled("ALLOW 10.1.0.0/24\nBLOCK 10.1.0.66")
    room_b = compiled("ALLOW 10.0.0.0/8")
    assert room_a.match(ipaddress.ip_address("10.1.0.66")).action is Action.BLOCK  # type: ignore[union-attr]
    assert allowed_by_any({"Room A": room_a, "Room B": room_b}, "10.1.0.66") == "Room B"


# -- compiled structure -----------------------------------------------------------------------------------------


def test_nested_and_overlapping_intervals_pick_the_smallest() -> None:
    text = "\n".join([
        "ALLOW 10.0.0.0/8",  # 1
        "BLOCK 10.1.0.0/16",  # 2
        "ALLOW 10.1.2.0/24",  # 3
        "BLOCK 10.1.2.7",  # 4
        "ALLOW 10.1.1.250-10.1.2.5",  # 5: 12 addresses across the /24 boundary
        "ALLOW 10.1.*.99",  # 6: gapped, 256 addresses
        "BLOCK *",  # 7
    ])
    expected = {
        "10.0.0.1": "ALLOW(1)", "10.1.0.1": "BLOCK(2)", "10.1.2.1": "ALLOW(5)", "10.1.2.6": "ALLOW(3)",
        "10.1.2.7": "BLOCK(4)", "10.1.1.251": "ALLOW(5)", "10.1.1.249": "BLOCK(2)", "10.1.7.99": "ALLOW(6)",
        "10.1.2.99": "ALLOW(3)", "11.0.0.0": "BLOCK(7)", "2001:db8::1": "BLOCK(7)", "9.255.255.255": "BLOCK(7)",
    }
    assert {client: decide(text, client) for client in expected} == expected


def test_same_set_same_action_the_first_line_decides() -> None:
    assert decide("ALLOW 10.0.0.0/24 room=A\nALLOW 10.0.0.* room=B", "10.0.0.1") == "ALLOW(1)"


def test_wildcard_beats_larger_interval_and_loses_to_smaller() -> None:
    text = "ALLOW 192.168.0.0/16\nBLOCK 192.168.*.10\nALLOW 192.168.5.10"
    assert decide(text, "192.168.4.10") == "BLOCK(2)"
    assert decide(text, "192.168.5.10") == "ALLOW(3)"
    assert decide(text, "192.168.4.11") == "ALLOW(1)"


def test_family_edges() -> None:
    text = "ALLOW 255.255.255.255\nBLOCK 0.0.0.0\nALLOW ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\nBLOCK ::"
    assert [decide(text, client) for client in ("255.255.255.255", "0.0.0.0", "ffff:ffff:ffff:ffff:ffff:ffff:"
                                                "ffff:ffff", "::", "::1")] == [
        "ALLOW(1)", "BLOCK(2)", "ALLOW(3)", "BLOCK(4)", "NO MATCH"]


def test_unnormalised_mapped_client_is_treated_as_ipv4() -> None:
    profile = compiled("ALLOW 10.0.0.0/8")
    mapped = ipaddress.IPv6Address("::ffff:10.0.0.1")  # not passed through parse_address
    assert profile.match(mapped) is profile.rules[0]
    assert profile.rules[0].covers(mapped)


def test_rules_from_elsewhere_and_empty_profiles() -> None:
    rules = [Rule(7, Action.ALLOW, "10.0.0.0/8", 2**24, room="L1"), Rule(9, Action.BLOCK, "10.0.0.5", 1)]
    profile = compile_profile(rules)
    assert profile.rules == tuple(rules)
    assert profile.match(ipaddress.ip_address("10.0.0.4")) is rules[0]
    assert profile.match(ipaddress.ip_address("10.0.0.5")) is rules[1]
    empty = compile_profile([])
    assert empty.match(ipaddress.ip_address("10.0.0.4")) is None
    assert empty.match(ipaddress.ip_address("::1")) is None
