"""Property tests: canonical text round-trips, the compiled matcher agrees with rule-by-rule evaluation, the
parser never crashes, and our address parsing and formatting agree with ``ipaddress``."""

from __future__ import annotations

import dataclasses
import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sebframe.core.location.notation import format_address, parse_spec
from sebframe.core.location.rules import Action, Rule, compile_profile, lint_rules, naive_match, parse_profile

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Addresses crowd a few small neighbourhoods so that rules overlap and nest; a share is anywhere at all.
V4 = st.one_of(
    st.builds(lambda third, last: 10 << 24 | third << 8 | last, st.integers(0, 3), st.integers(0, 255)),
    st.integers(0, 2**32 - 1),
)
V6 = st.one_of(
    st.builds(lambda high, low: 0x20010DB8 << 96 | high << 16 | low, st.integers(0, 3), st.integers(0, 0xFFFF)),
    st.integers(0, 2**128 - 1),
)


def v4(number: int) -> str:
    return format_address(4, number)


def v6(number: int, style: int = 0) -> str:
    """Three spellings of one IPv6 address: compressed, exploded, upper case."""
    address = ipaddress.IPv6Address(number)
    return (address.compressed, address.exploded, address.compressed.upper())[style % 3]


@st.composite
def v4_specs(draw: st.DrawFn) -> str:
    base = draw(V4)
    octets = [base >> shift & 0xFF for shift in (24, 16, 8, 0)]
    kind = draw(st.sampled_from(["address", "cidr", "partial", "range", "moodle", "wildcard"]))
    if kind == "address":
        return v4(base)
    if kind == "cidr":
        return f"{v4(base)}/{draw(st.integers(0, 32) | st.integers(16, 32))}"  # host bits may be set (W101)
    if kind == "partial":
        count = draw(st.integers(1, 3))
        return ".".join(map(str, octets[:count])) + draw(st.sampled_from(["", "."]))
    if kind == "range":
        end = draw(st.integers(base, min(base + 600, 2**32 - 1)) | st.integers(base, 2**32 - 1))
        return f"{v4(base)}-{v4(end)}"
    if kind == "moodle":
        return f"{v4(base)}-{draw(st.integers(octets[3], 255))}"
    stars = draw(st.integers(1, 15))  # which octets are "*", at least one
    return ".".join("*" if stars >> i & 1 else str(octet) for i, octet in enumerate(octets))


@st.composite
def v6_specs(draw: st.DrawFn) -> str:
    base, style = draw(V6), draw(st.integers(0, 2))
    kind = draw(st.sampled_from(["address", "cidr", "range", "moodle", "wildcard", "mapped"]))
    if kind == "address":
        return v6(base, style)
    if kind == "cidr":
        return f"{v6(base, style)}/{draw(st.integers(0, 128) | st.integers(100, 128))}"
    if kind == "range":
        end = draw(st.integers(base, min(base + 70000, 2**128 - 1)) | st.integers(base, 2**128 - 1))
        return f"{v6(base, style)}-{v6(end, style)}"
    if kind == "moodle":
        return f"{ipaddress.IPv6Address(base).exploded}-{draw(st.integers(base & 0xFFFF, 0xFFFF)):x}"
    if kind == "mapped":
        return "::ffff:" + v4(draw(V4)) + draw(st.sampled_from(["", "/128", "/120", "/104", "/96"]))
    groups = [f"{base >> (112 - 16 * i) & 0xFFFF:x}" for i in range(8)]
    stars = draw(st.integers(1, 255))
    pattern = ["*" if stars >> i & 1 else group for i, group in enumerate(groups)]
    zeros = [i for i, group in enumerate(pattern) if group == "0"]
    if zeros and draw(st.booleans()):  # write one zero group (and its zero neighbours) as "::"
        start = end = zeros[0]
        while end + 1 < 8 and pattern[end + 1] == "0":
            end += 1
        return ":".join(pattern[:start]) + "::" + ":".join(pattern[end + 1 :])
    return ":".join(pattern)


SPECS = st.one_of(v4_specs(), v6_specs(), st.sampled_from(["*", "*.*.*.*", "0.0.0.0/0", "::/0", "*:*:*:*:*:*:*:*"]))
LABELS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda text: text.isprintable() and text == text.strip())


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def profile_lines(draw: st.DrawFn) -> str:
    action = draw(st.sampled_from(["ALLOW", "BLOCK", "allow", "Block"]))
    parts = [action, draw(SPECS)]
    for name in ("room", "seat", "label"):
        value = draw(st.none() | LABELS)
        if value is not None:
            parts.append(f"{draw(st.sampled_from([name, name.upper()]))}={quoted(value)}")
    comment = draw(st.none() | LABELS)
    line = draw(st.sampled_from([" ", "  ", "\t"])).join(parts)
    return line + (f" # {comment}" if comment is not None else "")


@st.composite
def profiles(draw: st.DrawFn) -> str:
    lines = draw(st.lists(profile_lines() | st.sampled_from(["", "# a comment", "   "]), max_size=40))
    return draw(st.sampled_from(["", "\ufeff"])) + draw(st.sampled_from(["\n", "\r\n"])).join(lines)


@SETTINGS
@given(profiles())
def test_canonical_text_round_trips(text: str) -> None:
    parsed = parse_profile(text)
    assert parsed.ok, parsed.errors
    canonical = parsed.canonical_text()
    again = parse_profile(canonical)
    assert again.ok, again.errors
    assert [dataclasses.replace(rule, line=0) for rule in again.rules] == [
        dataclasses.replace(rule, line=0) for rule in parsed.rules]
    assert again.canonical_text() == canonical
    # The canonical spec is already canonical, and the same set as what was written
    for rule in parsed.rules:
        spec, _ = parse_spec(rule.spec)
        assert (spec.text, spec.size) == (rule.spec, rule.size)


@st.composite
def rule_sets(draw: st.DrawFn) -> list[Rule]:
    """Up to 40 rules; in some sets line numbers repeat (position then breaks ties, as with merged texts)."""
    rules = []
    repeat_lines = draw(st.booleans())
    for line in range(1, draw(st.integers(0, 40)) + 1):
        spec, _ = parse_spec(draw(SPECS))
        number = draw(st.integers(1, line)) if repeat_lines else line
        rules.append(Rule(number, draw(st.sampled_from(Action)), spec.text, spec.size))
    return rules


@st.composite
def addresses_near(draw: st.DrawFn, rules: list[Rule]) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Addresses on and around the rules' boundaries (first, last, one beyond each), plus random ones."""
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for rule in rules:
        spec = rule._set
        if spec.version == 0:
            continue
        top = 2**32 - 1 if spec.version == 4 else 2**128 - 1
        candidates = [spec.first, spec.last, spec.first - 1, spec.last + 1, spec.value ^ (spec.mask & -spec.mask)]
        make = ipaddress.IPv4Address if spec.version == 4 else ipaddress.IPv6Address
        found += [make(number % (top + 1)) for number in draw(st.lists(st.sampled_from(candidates), max_size=3))]
    found += [ipaddress.IPv4Address(number) for number in draw(st.lists(V4, max_size=10))]
    found += [ipaddress.IPv6Address(number) for number in draw(st.lists(V6, max_size=10))]
    return found


@SETTINGS
@given(st.data())
def test_compiled_match_agrees_with_naive_match(data: st.DataObject) -> None:
    rules = data.draw(rule_sets())
    profile = compile_profile(rules)
    # With distinct lines, also: a rule the linter says never decides (W102, W107) decides none of these
    lines = [rule.line for rule in rules]
    flagged = set()
    if len(set(lines)) == len(lines):
        flagged = {issue.line for issue in lint_rules(rules) if issue.code in ("W102", "W107")}
    for address in data.draw(addresses_near(rules)):
        rule = profile.match(address)
        assert rule is naive_match(rules, address), address
        assert rule is None or rule.line not in flagged, (rule, address)


@SETTINGS
@given(st.text(st.sampled_from("ALOWBKlowck *.:/-0123456789abcdef%#=\"\\\r\n\t\ufeff\u00a0\uff11xyz,;[]+"),
               max_size=200))
def test_parser_never_raises(text: str) -> None:
    parsed = parse_profile(text)
    assert len(parsed.issues) >= len(parsed.errors)
    compile_profile(parsed.rules)


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**128 - 1))
def test_addresses_agree_with_ipaddress(number4: int, number6: int) -> None:
    assert format_address(4, number4) == str(ipaddress.IPv4Address(number4))
    address6 = ipaddress.IPv6Address(number6)
    if address6.ipv4_mapped is None:  # str() of mapped addresses differs between Python releases
        assert format_address(6, number6) == str(address6)
        for text in (address6.compressed, address6.exploded):
            spec, _ = parse_spec(text)
            assert (spec.version, spec.first, spec.size) == (6, number6, 1)
    else:
        spec, _ = parse_spec(address6.exploded)
        assert (spec.version, spec.first) == (4, number6 & (2**32 - 1))
