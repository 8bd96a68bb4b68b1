"""Parsing and linting of IP profiles: reference §9.1 (P1-P27) plus every notation and warning of §2.2-2.5."""

from __future__ import annotations

import ipaddress

import pytest

from sebframe.core.location.notation import NotationError, parse_spec
from sebframe.core.location.rules import (
    MAX_PROFILE_BYTES,
    MAX_RULES,
    Action,
    Issue,
    ParsedProfile,
    Rule,
    lint_rules,
    parse_profile,
)


def only_rule(text: str) -> Rule:
    parsed = parse_profile(text)
    assert parsed.ok, parsed.issues
    assert len(parsed.rules) == 1
    return parsed.rules[0]


def codes(parsed: ParsedProfile) -> list[str]:
    return [issue.code for issue in parsed.issues]


def single_error(text: str) -> Issue:
    parsed = parse_profile(text)
    assert not parsed.ok
    assert len(parsed.errors) == 1, parsed.errors
    assert parsed.rules == ()
    return parsed.errors[0]


# -- reference §9.1 ---------------------------------------------------------------------------------------------


def test_p1_single_address() -> None:
    rule = only_rule("ALLOW 192.168.1.10")
    assert (rule.action, rule.spec, rule.size, rule.line) == (Action.ALLOW, "192.168.1.10", 1, 1)


def test_p2_lower_case_spaces_comment_and_crlf() -> None:
    parsed = parse_profile("allow   10.0.0.1   # lab PC 1\r\n")
    assert parsed.ok and parsed.issues == ()
    rule, plain = parsed.rules[0], only_rule("ALLOW 10.0.0.1")
    assert (rule.action, rule.spec, rule.size) == (plain.action, plain.spec, plain.size)
    assert rule.comment == "lab PC 1"
    assert parsed.canonical_text() == "ALLOW 10.0.0.1  # lab PC 1"


REJECTIONS = [
    ("P3", "ALLOWED 10.0.0.1", "E001", "line 1: expected ALLOW or BLOCK, found 'ALLOWED'"),
    ("P4", "BLOCK", "E002", "line 1: BLOCK needs an address"),
    ("P5", "ALLOW 10.0.0.256", "E003", "line 1: octet '256' is not 0-255"),
    ("P6", "ALLOW 10.0.0.01", "E004", "line 1: leading zeros are not allowed (could be octal); write 10.0.0.1"),
    ("P7", "ALLOW 10.0.0.0/33", "E005", "line 1: /33 is not a valid IPv4 prefix (0-32)"),
    ("P8", "ALLOW 10.0.0.0/255.255.255.0", "E006",
     "line 1: '10.0.0.0/255.255.255.0' is ambiguous (range in Blackboard, netmask in Canvas). "
     "Write 10.0.0.0/24 or 10.0.0.0-10.0.0.255."),
    ("P10", "ALLOW 10.0.0.9-10.0.0.1", "E007", "line 1: range end 10.0.0.1 is below its start 10.0.0.9"),
    ("P11", "ALLOW 10.0.0.1-::1", "E008", "line 1: range '10.0.0.1-::1' mixes IPv4 and IPv6"),
    ("P12", "ALLOW 10.0.1*.1", "E009", "line 1: '1*' in '10.0.1*.1': '*' must stand for a whole octet (0-255)"),
    ("P13", "ALLOW 10.0.*", "E010", "line 1: an IPv4 wildcard needs exactly 4 groups; write 10.0.*.* or 10.0.0.0/16"),
    ("P14", "ALLOW fe80::1%eth0", "E011",
     "line 1: zone id '%eth0' is not allowed (it means nothing for a remote client); write fe80::1"),
    ("P15", "ALLOW lab.example.edu", "E012",
     "line 1: 'lab.example.edu' looks like a hostname; write addresses "
     "(a name would need DNS at check time, which is slow and spoofable)"),
    ("P16", "ALLOW 2001:db8::1::2", "E013", "line 1: '2001:db8::1::2' has more than one '::'"),
    ("P17", "ALLOW \uff110.0.0.1", "E015", "line 1: non-ASCII character U+FF11 at column 7"),
    ("P19", "ALLOW 123.121.234.12-256", "E003", "line 1: octet '256' is not 0-255"),
    ("P20", "ALLOW 123.121.234.12-234.14", "E014",
     "line 1: '123.121.234.12-234.14': the range end must be a full address or one last-group value"),
]


@pytest.mark.parametrize(("case", "text", "code", "message"), REJECTIONS, ids=[case[0] for case in REJECTIONS])
def test_rejections_have_stable_codes_and_line_messages(case: str, text: str, code: str, message: str) -> None:
    issue = single_error(text)
    assert (issue.code, issue.message, issue.line, issue.severity) == (code, message, 1, "error")


def test_p9_host_bits_are_cleared_with_w101() -> None:
    parsed = parse_profile("ALLOW 192.168.217.1/24")
    assert parsed.ok
    assert parsed.rules[0].spec == "192.168.217.0/24" and parsed.rules[0].size == 256
    assert [(issue.code, issue.message) for issue in parsed.warnings] == [
        ("W101", "line 1: host bits set: 192.168.217.1/24 is stored as 192.168.217.0/24")]


def test_p18_moodle_last_octet_range() -> None:
    rule = only_rule("ALLOW 123.121.234.12-14")
    assert (rule.spec, rule.size) == ("123.121.234.12-123.121.234.14", 3)
    covered = [last for last in range(10, 17) if rule.covers(ipaddress.ip_address(f"123.121.234.{last}"))]
    assert covered == [12, 13, 14]


@pytest.mark.parametrize("text", ["ALLOW 192.168.", "ALLOW 192.168"], ids=["P21-trailing-dot", "P21"])
def test_p21_partial_ipv4_is_an_octet_aware_prefix(text: str) -> None:
    rule = only_rule(text)
    assert (rule.spec, rule.size) == ("192.168.0.0/16", 65536)


def test_p22_comments_and_blank_lines_only() -> None:
    parsed = parse_profile("# room L1\n\n   \n\t# nothing yet\n")
    assert parsed.ok and parsed.rules == ()
    assert [(issue.line, issue.code, issue.message) for issue in parsed.issues] == [
        (0, "W106", "no ALLOW rule: every client is denied")]
    assert parsed.canonical_text() == ""


def test_p23_block_only_denies_everyone() -> None:
    parsed = parse_profile("BLOCK 10.0.0.0/8")
    assert parsed.ok and codes(parsed) == ["W106"]


def test_p24_ipv6_is_stored_lower_case_compressed() -> None:
    assert only_rule("ALLOW 2001:DB8::/32").spec == "2001:db8::/32"
    assert only_rule("ALLOW 2001:0DB8:0000:0000:0000:0000:0000:0001").spec == "2001:db8::1"


def test_p25_size_limits() -> None:
    too_large = "ALLOW 10.0.0.1  # " + "x" * MAX_PROFILE_BYTES
    parsed = parse_profile(too_large)
    assert codes(parsed) == ["E016"] and parsed.issues[0].line == 0 and parsed.rules == ()
    too_many = "\n".join(f"ALLOW 10.{i >> 8}.{i & 255}.1" for i in range(MAX_RULES + 1))
    parsed = parse_profile(too_many)
    assert [issue.code for issue in parsed.errors] == ["E016"]
    assert parsed.errors[0].message == f"the profile has {MAX_RULES + 1} rules; at most {MAX_RULES} are allowed"
    assert parse_profile(too_many.rsplit("\n", 1)[0]).ok


def test_p26_bom_is_stripped_and_errors_carry_their_line() -> None:
    # The CSV importer (``;`` separators) is a separate module; rule mode shares the BOM and line-number handling.
    parsed = parse_profile("\ufeffALLOW 10.0.0.1\r\nALLOW 10.0.0.300\r\n")
    assert [rule.spec for rule in parsed.rules] == ["10.0.0.1"]
    assert [(issue.line, issue.code) for issue in parsed.errors] == [(2, "E003")]


def test_p27_every_error_is_reported_not_only_the_first() -> None:
    text = "ALLOW 10.0.0.1\nALLOW 10.0.0.256\nBLOCK 10.0.0.5\n# comment\nALLOW 10.0.0.0/255.0.0.0\nALLOW 10.1.0.0/16"
    parsed = parse_profile(text)
    assert not parsed.ok
    assert [(issue.line, issue.code) for issue in parsed.errors] == [(2, "E003"), (5, "E006")]
    assert [rule.line for rule in parsed.rules] == [1, 3, 6]


# -- more notations (reference §2.2, §2.3) ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "spec", "size"), [
    ("*", "*", 2**32 + 2**128),
    ("*.*.*.*", "*.*.*.*", 2**32),
    ("*:*:*:*:*:*:*:*", "*:*:*:*:*:*:*:*", 2**128),
    ("0.0.0.0/0", "0.0.0.0/0", 2**32),
    ("::/0", "::/0", 2**128),
    ("10.0.0.1/32", "10.0.0.1", 1),
    ("10", "10.0.0.0/8", 2**24),
    ("10.1.2", "10.1.2.0/24", 256),
    ("1.2.3.4.", "1.2.3.4", 1),
    ("10.0.0.0-10.0.0.255", "10.0.0.0-10.0.0.255", 256),
    ("192.168.*.10", "192.168.*.10", 256),
    ("10.*.*.*", "10.*.*.*", 2**24),
    ("2001:db8::fff0-ffff", "2001:db8::fff0-2001:db8::ffff", 16),
    ("fe80::d98c-FFEE", "fe80::d98c-fe80::ffee", 0xFFEE - 0xD98C + 1),
    ("2001:db8::1-2001:db8::1:0", "2001:db8::1-2001:db8::1:0", 0x10000),
    ("2001:db8:*:*:*:*:*:*", "2001:db8:*:*:*:*:*:*", 2**96),
    ("2001:DB8:0:0:0:0:0:*", "2001:db8:0:0:0:0:0:*", 2**16),
    ("::ffff:10.0.0.0/104", "10.0.0.0/8", 2**24),
    ("::ffff:a00:1", "10.0.0.1", 1),
    ("::ffff:10.0.0.1-5", "10.0.0.1-10.0.0.5", 5),
    ("::ffff:10.0.0.1-10.0.0.9", "10.0.0.1-10.0.0.9", 9),
    ("::ffff:0:0/96", "0.0.0.0/0", 2**32),
    ("::10.0.0.1", "::a00:1", 1),  # IPv4-compatible is not unwrapped (reference §3.2 step 3)
    ("::ffff:0:0/95", "::fffe:0:0/95", 2**33),  # only partly mapped: stays IPv6
    ("::ffff:ffff:ffff-::1:0:0:0", "::ffff:ffff:ffff-::1:0:0:0", 0x1000000000000 - 0xFFFFFFFFFFFF + 1),
], ids=lambda value: value if isinstance(value, str) else None)
def test_accepted_notations_and_their_canonical_form(text: str, spec: str, size: int) -> None:
    parsed = parse_profile(f"BLOCK {text}")
    assert parsed.ok, parsed.errors
    assert (parsed.rules[0].spec, parsed.rules[0].size) == (spec, size)


def test_ipv6_wildcard_double_colon_means_zero_groups_with_w104() -> None:
    parsed = parse_profile("ALLOW 2001:db8::*")
    assert parsed.rules[0].spec == "2001:db8:0:0:0:0:0:*" and parsed.rules[0].size == 65536
    assert [(issue.code, issue.message) for issue in parsed.warnings] == [
        ("W104", "line 1: '::' in a wildcard stands for zero groups: '2001:db8::*' is 2001:db8:0:0:0:0:0:*; "
                 "for everything under 2001:db8 write 2001:db8::/32 or 2001:db8:*:*:*:*:*:*")]
    assert codes(parse_profile("ALLOW 2001:db8:*::1")) == ["W104"]


@pytest.mark.parametrize(("text", "code", "fragment"), [
    ("::ffff:10.0.*.*", "E017", "wildcards are not allowed in an embedded IPv4 address"),
    ("20*1::", "E009", "'*' must stand for a whole group (0-ffff)"),
    ("2001:db8:*", "E010", "write 2001:db8:*:*:*:*:*:* or 2001:db8::/32"),
    ("*.10", "E010", "write *.10.*.*"),
    ("1.2.*.4.5", "E010", "has 5 groups"),
    ("0x7f.0.0.1", "E003", "hexadecimal"),
    ("127.0.0.1.5", "E003", "has 5 octets"),
    ("10..1", "E003", "empty octet"),
    ("2001:db8::12345", "E003", "hextet '12345' is not 0-ffff"),
    ("2001:db8::g", "E003", "not hexadecimal"),
    ("1:2:3:4:5:6:7:8:9", "E003", "has 9 groups"),
    ("1:2:3:4:5:6:7::8", "E003", "too many groups"),
    ("1:::2", "E003", "not a valid IPv6"),
    ("baba:", "E003", "write a prefix such as baba::/16"),
    ("1.2.3.4:80", "E014", "unexpected text after address: ':80' (a port is not part of a rule)"),
    ("[::1]", "E003", "is not an address"),
    ("10.0.0.0/08", "E005", "'/08': leading zeros are not allowed in a prefix length; write /8"),
    ("10.0.0.0/", "E005", "missing prefix length"),
    ("10.0.0.0/+8", "E005", "'/+8' is not a valid IPv4 prefix (0-32)"),
    ("2001:db8::/129", "E005", "/129 is not a valid IPv6 prefix (0-128)"),
    ("10.0.0.0/99999999999999999999", "E005", "not a valid IPv4 prefix"),
    ("10.0.0.0/0.0.0.255", "E006", "Write 10.0.0.0/24 or 10.0.0.0-10.0.0.255."),
    ("10.0.0.0/10.0.0.7", "E006", "Write 10.0.0.0-10.0.0.7 for the range."),
    ("2001:db8::/ffff:ffff::", "E006", "Write 2001:db8::/32 or 2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff."),
    ("010.0.0.1-10.0.0.5", "E004", "write 10.0.0.1-10.0.0.5"),
    ("10.0.0.1-014", "E004", "write 10.0.0.1-14"),
    ("::ffff:010.0.0.1", "E004", "write ::ffff:10.0.0.1"),
    ("10.0.0.1-::ffff:10.0.0.0", "E007", "below its start"),
    ("2001:db8::ff-1", "E007", "below its start"),
    ("10.0.0.1-10.0.0.5-10.0.0.9", "E014", "unexpected text"),
    ("10.0.0.0-10.0.0.9/24", "E014", "a range cannot have a prefix length"),
    ("10.*.0.0/16", "E014", "a wildcard cannot have a prefix length"),
    ("10.0.0.*-10.0.0.9", "E014", "a wildcard cannot be part of a range"),
    ("pc17", "E012", "hostname"),
    ("my-lab.example.edu", "E012", "hostname"),
    ("10.0.0.1-abc", "E003", "octet 'abc'"),
    ("9" * 5000 + ".0.0.1", "E003", "is not 0-255"),
])
def test_more_rejections(text: str, code: str, fragment: str) -> None:
    issue = single_error(f"ALLOW {text}")
    assert issue.code == code and fragment in issue.message, issue


def test_parse_spec_directly_raises_notation_error_with_code() -> None:
    with pytest.raises(NotationError) as raised:
        parse_spec("10.0.0.256")
    assert raised.value.code == "E003" and isinstance(raised.value, ValueError)
    spec, notes = parse_spec("10.1.2.3/16")
    assert spec.text == "10.1.0.0/16" and [code for code, _ in notes] == ["W101"]


# -- lines, attributes, comments --------------------------------------------------------------------------------


def test_attributes_comments_and_canonical_text() -> None:
    parsed = parse_profile('block 10.1.0.66   ROOM="Lab 1"  seat=17 label="say \\"hi\\"" #  broken PC  \n'
                           'Allow 10.1.0.0/24 room="Hörsaal 2"#north wing\n'
                           "ALLOW 10.2.0.0/24 room=L2|10")
    assert parsed.ok and codes(parsed) == []
    block, hall, lab = parsed.rules
    assert (block.action, block.room, block.seat, block.label, block.comment) == (
        Action.BLOCK, "Lab 1", "17", 'say "hi"', "broken PC")
    assert (hall.room, hall.comment) == ("Hörsaal 2", "north wing")
    assert lab.room == "L2|10"
    assert parsed.canonical_text() == (
        'BLOCK 10.1.0.66 room="Lab 1" seat=17 label="say \\"hi\\""  # broken PC\n'
        'ALLOW 10.1.0.0/24 room="Hörsaal 2"  # north wing\n'
        "ALLOW 10.2.0.0/24 room=L2|10")
    again = parse_profile(parsed.canonical_text())
    assert [rule.text() for rule in again.rules] == [rule.text() for rule in parsed.rules]


@pytest.mark.parametrize(("text", "code", "message"), [
    ("ALLOW 10.0.0.1, 10.0.0.2", "E014", "line 1: unexpected text after address: ', 10.0.0.2' (one rule per line)"),
    ("ALLOW 1.2.3.4 5.6.7.8  # two", "E014",
     "line 1: unexpected text after address: '5.6.7.8' (one rule per line; attributes are room=, seat=, label=)"),
    ("ALLOW 1.2.3.4 room=a room=b", "E014", "line 1: attribute 'room' is given twice"),
    ("ALLOW 1.2.3.4 building=A", "E014",
     "line 1: unexpected text after address: 'building=A' (one rule per line; attributes are room=, seat=, label=)"),
    ('ALLOW 1.2.3.4 room="Lab 1', "E014", "line 1: unterminated quoted value: \"Lab 1"),
    ('ALLOW 1.2.3.4 room="Lab"1', "E014", "line 1: unexpected text after the quoted room: '1'"),
    ('ALLOW 1.2.3.4 room=La"b', "E014", "line 1: unterminated quoted value: \"b"),
    ("ALLOW 1.2.3.4 room=", "E014", "line 1: attribute 'room' has no value"),
    ('ALLOW 1.2.3.4 room="  "', "E014", "line 1: attribute 'room' has no value"),
    ("ALLOW room=L1", "E002", "line 1: ALLOW needs an address"),
    ("DENY 10.0.0.1", "E001", "line 1: expected ALLOW or BLOCK, found 'DENY' (write BLOCK)"),
    ("10.0.0.1", "E001", "line 1: expected ALLOW or BLOCK, found '10.0.0.1'"),
    ("ALLOW\u00a010.0.0.1", "E015", "line 1: non-ASCII character U+00A0 at column 6"),
    ("ALLOW 10.0.0.1 room=Hörsaal", "E015",
     "line 1: non-ASCII character U+00F6 at column 22 (put labels with such characters in quotes)"),
    ("ALLOW 10.0.0.1 room=\"a\x00b\"", "E015", "line 1: control character U+0000 at column 23"),
    ("ALLOW 10.0.0.1 # bell \x07", "E015", "line 1: control character U+0007 at column 23"),
    ("ALLOW 10.0.0.1\r\r", "E015", "line 1: control character U+000D at column 15"),
])
def test_line_syntax_errors(text: str, code: str, message: str) -> None:
    issue = single_error(text)
    assert (issue.code, issue.message) == (code, message)


def test_issue_messages_and_severity() -> None:
    assert Issue(3, "E003", "line 3: x").severity == "error"
    assert Issue(0, "W106", "x").severity == "warning"
    assert Issue(2, "I110", "line 2: x").severity == "info"
    parsed = parse_profile("ALLOW 10.1.1.*\nBLOCK *\nALLOW 10.0.0.256")
    assert [issue.code for issue in parsed.warnings] == ["I110"]
    assert [issue.code for issue in parsed.errors] == ["E003"]
    assert all(issue.message.startswith(f"line {issue.line}: ") for issue in parsed.issues)


def test_rule_constructor_validates_and_canonicalises() -> None:
    rule = Rule(4, "BLOCK", "10.1", 65536, room="Lab 1")  # type: ignore[arg-type]  # stored strings are accepted
    assert (rule.action, rule.spec, rule.version) == (Action.BLOCK, "10.1.0.0/16", 4)
    assert rule == Rule(4, Action.BLOCK, "10.1.0.0/16", 65536, room="Lab 1")
    assert Rule(1, Action.ALLOW, "*", 2**32 + 2**128).version is None
    with pytest.raises(ValueError, match="does not match"):
        Rule(1, Action.ALLOW, "10.0.0.0/8", 256)
    with pytest.raises(NotationError):
        Rule(1, Action.ALLOW, "10.0.0.0/33", 1)
    with pytest.raises(ValueError, match="printable"):
        Rule(1, Action.ALLOW, "10.0.0.1", 1, comment="two\nlines")
    with pytest.raises(ValueError, match="non-empty"):
        Rule(1, Action.ALLOW, "10.0.0.1", 1, room="")


# -- linter (reference §2.5) ------------------------------------------------------------------------------------


def test_w102_rule_covered_by_the_union_of_more_specific_rules() -> None:
    parsed = parse_profile("ALLOW 10.0.0.0/25\nALLOW 10.0.0.128/25\nBLOCK 10.0.0.0/24\nBLOCK *")
    assert [(issue.line, issue.code, issue.message) for issue in parsed.warnings] == [
        (3, "W102", "line 3: never decides: more specific rules (lines 1, 2) decide every address it covers"),
        (4, "I110", "line 4: BLOCK * is redundant: addresses no rule matches are denied anyway "
                    "(kept for Blackboard compatibility)")]


def test_w102_gapped_wildcard_shadowed_by_blocks_and_not_when_one_gap_is_left() -> None:
    blocks = "\n".join(f"BLOCK 192.168.{i}.0/24" for i in range(256))
    assert codes(parse_profile(f"ALLOW 192.168.*.10\n{blocks}"))[:1] == ["W102"]
    assert "W102" not in codes(parse_profile(f"ALLOW 192.168.*.10\n{blocks.rsplit(chr(10), 1)[0]}"))


def test_w102_interval_shadowed_by_wildcards() -> None:
    # Every address of 10.0.0.0/16 ends in some octet: the 256 smaller wildcards decide them all between them.
    wildcards = [f"BLOCK 10.0.*.{i}" for i in range(256)]
    parsed = parse_profile("\n".join(["ALLOW 10.0.0.0/16", *wildcards]))
    assert [issue.message for issue in parsed.issues if issue.line == 1] == [
        "line 1: never decides: more specific rules (lines 2, 3, 4, 5, 6) decide every address it covers"]
    assert [issue.code for issue in parse_profile("\n".join(["ALLOW 10.0.0.0/16", *wildcards[1:]])).issues] == []


def test_w103_w105_w107_w109() -> None:
    proxies = [ipaddress.ip_network("10.0.0.2/32"), ipaddress.ip_network("::ffff:192.0.2.0/120")]
    parsed = parse_profile(
        "ALLOW 10.0.0.0/8\n"  # private: no W103; contains the proxy: W105
        "ALLOW 8.0.0.0/8\n"  # public /8: W103
        "ALLOW 10.0.0.0/8  # again\n"  # W107 (and W105)
        "ALLOW 2000::/3\n"  # W103
        "ALLOW fd00::/8\n"  # unique local: no W103
        "ALLOW 192.0.2.*\n"  # inside the mapped proxy network: W105
        "BLOCK *.*.*.*\n"  # W109
        "BLOCK *:*:*:*:*:*:*:*\n"
        "ALLOW 0.0.0.0/0\n",  # W102 (line 7 blocks the same set), W103, W109 (no ALLOW covers all IPv6)
        trusted_proxies=proxies)
    assert [(issue.line, issue.code) for issue in parsed.issues] == [
        (1, "W105"), (2, "W103"), (3, "W107"), (3, "W105"), (4, "W103"), (6, "W105"),
        (9, "W102"), (9, "W103"), (9, "W109")]
    by_line = {issue.line: issue.message for issue in parsed.issues}
    assert by_line[3] == "line 3: 10.0.0.0/8 overlaps trusted proxy network 10.0.0.2/32: clients there could " \
                         "choose their address through forwarding headers"
    assert "duplicate of line 1 (ALLOW 10.0.0.0/8)" in parsed.issues[2].message
    assert "admits 16,777,216 addresses" in by_line[2]


def test_w106_is_not_raised_when_an_allow_line_only_has_an_error() -> None:
    assert codes(parse_profile("ALLOW 10.0.0.256\nBLOCK 10.0.0.1")) == ["E003"]
    assert codes(parse_profile("BLOCK 10.0.0.256\nBLOCK 10.0.0.1")) == ["W106", "E003"]


def test_lint_rules_on_rules_from_elsewhere() -> None:
    rules = [Rule(1, Action.ALLOW, "10.1.1.5", 1), Rule(2, Action.BLOCK, "10.1.1.5", 1)]
    assert [(issue.line, issue.code) for issue in lint_rules(rules)] == [(1, "W102")]
    assert [issue.code for issue in lint_rules([])] == ["W106"]
