"""The location audit line (reference 5.1, 5.2 and checks L1, L3, X18 of 9.4/9.7)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sebframe import __version__
from sebframe.core.location.audit_format import (
    FIELDS,
    AuditCode,
    AuditRecord,
    as_json,
    escape,
    format_line,
    parse_line,
    unescape,
)
from sebframe.core.net import CHAIN_LIMIT

MOMENT = datetime(2025, 11, 3, 8, 3, 11, 482_731, tzinfo=UTC)
TEXT_FIELDS = [field.name for field in dataclasses.fields(AuditRecord)
               if field.type == "str" and field.name not in ("fwd_chain",)]

EXAMPLE = (
    "timestamp=2025-11-03T08:03:11.482Z|app_vend=ourorg|app_name=sebserver-py|app_ver=0.9.0|evt_code=36|"
    "evt_name=location start blocked|sev=6|cat=location|outcome=failure|dhost=seb1|src_ip=198.51.100.7|"
    "peer_ip=10.0.0.2|fwd_chain=10.1.2.3, 198.51.100.7|suid=4711|suser=jdoe|session_id=c-91f2|exam_id=88|"
    "profile_id=3|profile_ver=12|rule=|reason=NO_MATCH|room=|seat=|client_machine=PC-17|client_os=Windows 11|"
    "seb_version=3.9.0|proctor_id=|override_id=|msg=Address not in any allowed location|"
    "http_useragent=SEB/3.9.0 …|act=blocked|request=GET /exam-api/v1/examconfig"
)


def blocked(**fields: object) -> AuditRecord:
    return AuditRecord(timestamp=MOMENT, code=AuditCode.START_BLOCKED, **fields)  # type: ignore[arg-type]


def test_l1_a_start_blocked_line_has_every_field_in_order() -> None:
    line = format_line(blocked(src_ip="198.51.100.7", session_id="c-91f2", exam_id=88))
    fields = parse_line(line)
    assert tuple(fields) == FIELDS
    assert line.startswith("timestamp=2025-11-03T08:03:11.482Z|")  # milliseconds (truncated) and Z
    assert (fields["evt_code"], fields["evt_name"], fields["sev"], fields["cat"]) == (
        "36", "location start blocked", "6", "location")
    assert (fields["outcome"], fields["act"]) == ("failure", "blocked")
    assert (fields["app_vend"], fields["app_name"], fields["app_ver"]) == ("sebframe", "sebframe", __version__)
    assert (fields["exam_id"], fields["profile_id"]) == ("88", "")


def test_l3_a_hostile_user_agent_stays_on_one_line() -> None:
    agent = "SEB/3.9.0\nevt_code=38|outcome=success\r\n\u2028\x85tab\there"
    line = format_line(blocked(http_useragent=agent))
    assert line.splitlines() == [line]  # splitlines also breaks on \x85 and \u2028
    assert "\n" not in line and "|outcome=success" not in line
    assert parse_line(line)["http_useragent"] == agent


def test_x18_a_forged_chain_cannot_inject_fields() -> None:
    chain = "1.2.3.4|evt_code=38|outcome=success"
    line = format_line(blocked(fwd_chain=chain))
    assert "fwd_chain=1.2.3.4\\|evt_code\\=38\\|outcome\\=success|" in line
    fields = parse_line(line)
    assert tuple(fields) == FIELDS
    assert (fields["evt_code"], fields["outcome"], fields["fwd_chain"]) == ("36", "failure", chain)


def test_the_reference_example_line_field_by_field() -> None:
    record = AuditRecord(
        timestamp=datetime(2025, 11, 3, 9, 3, 11, 482_000, tzinfo=timezone(timedelta(hours=1))),  # CET
        code=AuditCode.START_BLOCKED, dhost="seb1", src_ip="198.51.100.7", peer_ip="10.0.0.2",
        fwd_chain="10.1.2.3, 198.51.100.7", suid="4711", suser="jdoe", session_id="c-91f2", exam_id=88,
        profile_id=3, profile_ver=12, reason="NO_MATCH", client_machine="PC-17", client_os="Windows 11",
        seb_version="3.9.0", msg="Address not in any allowed location", http_useragent="SEB/3.9.0 …",
        request="GET /exam-api/v1/examconfig",
    )
    ours, theirs = parse_line(format_line(record)), parse_line(EXAMPLE)
    assert tuple(ours) == tuple(theirs) == FIELDS
    # The example names another product; every other field is reproduced exactly.
    product = {"app_vend": "sebframe", "app_name": "sebframe", "app_ver": __version__}
    assert ours == theirs | product


@pytest.mark.parametrize(("code", "name", "sev", "outcome", "act"), [
    (AuditCode.START_BLOCKED, "location start blocked", 6, "failure", "blocked"),
    (AuditCode.VIOLATION, "location violation during exam", 6, "failure", "logged"),
    (AuditCode.OVERRIDDEN, "location rule overridden", 8, "success", "overridden"),
    (AuditCode.ALLOWED, "location allowed", 0, "success", "allowed"),
    (AuditCode.IP_CHANGED, "location IP changed", 3, "success", "logged"),
    (AuditCode.UNRESOLVABLE, "location unresolvable", 7, "failure", "blocked"),
    (AuditCode.EXCEPTION_APPLIED, "location exception applied", 3, "success", "allowed"),
    (AuditCode.OVERRIDE_REVOKED, "location override revoked", 5, "success", "revoked"),
    (AuditCode.UNTRUSTED_FORWARDING, "forwarded header from untrusted peer", 4, "success", "logged"),
    (AuditCode.PROFILE_UPDATED, "location profile updated", 5, "success", ""),
    (AuditCode.TRUSTED_PROXIES_CHANGED, "trusted-proxy configuration changed", 8, "success", ""),
    (AuditCode.RESTRICTION_SUSPENDED, "location restriction suspended or resumed", 8, "success", ""),
])
def test_event_catalogue(code: AuditCode, name: str, sev: int, outcome: str, act: str) -> None:
    assert (code.event_name, code.severity, code.outcome, code.default_act) == (name, sev, outcome, act)


def test_every_code_is_catalogued() -> None:
    assert all(code.event_name and code.outcome in ("success", "failure") for code in AuditCode)


def test_act_and_outcome_can_be_given() -> None:
    record = AuditRecord(timestamp=MOMENT, code=AuditCode.VIOLATION, act="quit", outcome="success")
    fields = parse_line(format_line(record))
    assert (fields["act"], fields["outcome"]) == ("quit", "success")


def test_a_naive_timestamp_is_utc_and_others_are_converted() -> None:
    naive = parse_line(format_line(AuditRecord(timestamp=datetime(2025, 1, 2, 3, 4, 5), code=AuditCode.ALLOWED)))
    assert naive["timestamp"] == "2025-01-02T03:04:05.000Z"


def test_the_forwarding_chain_is_truncated_before_escaping() -> None:
    chain = "|" * (CHAIN_LIMIT + 100)
    fields = parse_line(format_line(blocked(fwd_chain=chain)))
    assert fields["fwd_chain"] == "|" * CHAIN_LIMIT


def test_as_json_has_the_same_keys_with_plain_values() -> None:
    record = blocked(fwd_chain="1.2.3.4|x=y", exam_id=88, http_useragent="a\nb")
    values = as_json(record)
    assert tuple(values) == FIELDS
    assert values["evt_code"] == 36 and values["sev"] == 6 and values["exam_id"] == 88
    assert values["profile_id"] is None
    assert (values["fwd_chain"], values["http_useragent"]) == ("1.2.3.4|x=y", "a\nb")
    assert values["timestamp"] == "2025-11-03T08:03:11.482Z"
    json.dumps(values)  # serialisable as it is


@pytest.mark.parametrize(("raw", "escaped"), [
    ("a\\b", "a\\\\b"),
    ("a|b=c", "a\\|b\\=c"),
    ("\r\n", "\\r\\n"),
    ("\x00\t\x7f\x85", "\\x00\\x09\\x7f\\x85"),
    ("\u2028\u2029", "\\u2028\\u2029"),
    ("\\n", "\\\\n"),                     # a literal backslash-n is not a newline
    ("héllo wörld …", "héllo wörld …"),  # printable text is left alone
])
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped
    assert unescape(escaped) == raw


@pytest.mark.parametrize("line", ["timestamp=x|broken", "a=1|a=2"])
def test_parse_line_refuses_what_format_line_cannot_write(line: str) -> None:
    with pytest.raises(ValueError):
        parse_line(line)


@given(st.fixed_dictionaries({name: st.text() for name in TEXT_FIELDS}), st.text(max_size=CHAIN_LIMIT))
def test_any_text_round_trips(values: dict[str, str], chain: str) -> None:
    record = blocked(**values, fwd_chain=chain)
    line = format_line(record)
    assert line.splitlines() == [line]
    fields = parse_line(line)
    assert tuple(fields) == FIELDS
    assert {name: fields[name] for name in values} == values
    assert fields["fwd_chain"] == chain
