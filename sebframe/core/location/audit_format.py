"""One location audit record as a line: pipe-delimited ``key=value`` in a fixed order, or as JSON for a SIEM.

The layout follows the Blackboard standard security log (codes 36, 37 and 38 are Blackboard's), with an
ISO 8601 UTC timestamp and our own fields added. Values are escaped, because several of them come from the
client (the forwarding chain, the user agent, machine names): unescaped, ``X-Forwarded-For: 1.2.3.4|
evt_code=38|outcome=success`` or a newline in a user agent would forge fields or whole records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum

from sebframe import __version__
from sebframe.core.net import CHAIN_LIMIT

APP_VENDOR = "sebframe"
APP_NAME = "sebframe"
CATEGORY = "location"

FIELDS = (
    "timestamp", "app_vend", "app_name", "app_ver", "evt_code", "evt_name", "sev", "cat", "outcome", "dhost",
    "src_ip", "peer_ip", "fwd_chain", "suid", "suser", "session_id", "exam_id", "profile_id", "profile_ver",
    "rule", "reason", "room", "seat", "client_machine", "client_os", "seb_version", "proctor_id", "override_id",
    "msg", "http_useragent", "act", "request",
)


class AuditCode(IntEnum):
    """The location event catalogue (reference 5.2): 36-38 as in Blackboard's security log, 1001+ ours."""

    START_BLOCKED = 36
    VIOLATION = 37
    OVERRIDDEN = 38
    ALLOWED = 1001
    IP_CHANGED = 1002
    UNRESOLVABLE = 1003
    EXCEPTION_APPLIED = 1004
    OVERRIDE_REVOKED = 1005
    UNTRUSTED_FORWARDING = 1006
    PROFILE_CREATED = 1010
    PROFILE_UPDATED = 1011
    PROFILE_HIDDEN = 1012
    PROFILE_UNHIDDEN = 1013
    TRUSTED_PROXIES_CHANGED = 1020
    RESTRICTION_SUSPENDED = 1030

    @property
    def event_name(self) -> str:
        return _CATALOGUE[self][0]

    @property
    def severity(self) -> int:
        return _CATALOGUE[self][1]

    @property
    def outcome(self) -> str:
        return _CATALOGUE[self][2]

    @property
    def default_act(self) -> str:
        """The ``act`` field unless the caller says otherwise (``quit`` under an enforce policy, for example)."""
        return _CATALOGUE[self][3]


# code: (evt_name, sev, outcome, act); admin events have no act of their own.
_CATALOGUE: dict[AuditCode, tuple[str, int, str, str]] = {
    AuditCode.START_BLOCKED: ("location start blocked", 6, "failure", "blocked"),
    AuditCode.VIOLATION: ("location violation during exam", 6, "failure", "logged"),
    AuditCode.OVERRIDDEN: ("location rule overridden", 8, "success", "overridden"),
    AuditCode.ALLOWED: ("location allowed", 0, "success", "allowed"),
    AuditCode.IP_CHANGED: ("location IP changed", 3, "success", "logged"),
    AuditCode.UNRESOLVABLE: ("location unresolvable", 7, "failure", "blocked"),
    AuditCode.EXCEPTION_APPLIED: ("location exception applied", 3, "success", "allowed"),
    AuditCode.OVERRIDE_REVOKED: ("location override revoked", 5, "success", "revoked"),
    AuditCode.UNTRUSTED_FORWARDING: ("forwarded header from untrusted peer", 4, "success", "logged"),
    AuditCode.PROFILE_CREATED: ("location profile created", 5, "success", ""),
    AuditCode.PROFILE_UPDATED: ("location profile updated", 5, "success", ""),
    AuditCode.PROFILE_HIDDEN: ("location profile hidden", 5, "success", ""),
    AuditCode.PROFILE_UNHIDDEN: ("location profile unhidden", 5, "success", ""),
    AuditCode.TRUSTED_PROXIES_CHANGED: ("trusted-proxy configuration changed", 8, "success", ""),
    AuditCode.RESTRICTION_SUSPENDED: ("location restriction suspended or resumed", 8, "success", ""),
}


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One location event, with the fields of reference 5.1 in their order.

    ``session_id`` identifies the SEB connection by its connection id (or a hash of it), never by its
    connection token: the token is a bearer credential and audit logs are read by many. ``act`` and
    ``outcome`` default to the code's own. A naive ``timestamp`` is taken as UTC.
    """

    timestamp: datetime
    code: AuditCode
    dhost: str = ""
    src_ip: str = ""  # the resolved client address
    peer_ip: str = ""  # the socket peer
    fwd_chain: str = ""  # the raw forwarding header(s), truncated to CHAIN_LIMIT characters when written
    suid: str = ""
    suser: str = ""
    session_id: str = ""
    exam_id: int | None = None
    profile_id: int | None = None
    profile_ver: int | None = None
    rule: str = ""  # "line:canonical rule"
    reason: str = ""  # ALLOW_RULE, BLOCK_RULE, NO_MATCH, UNRESOLVABLE, EXCEPTION or OVERRIDE
    room: str = ""
    seat: str = ""
    client_machine: str = ""
    client_os: str = ""
    seb_version: str = ""
    proctor_id: str = ""
    override_id: int | None = None
    msg: str = ""
    http_useragent: str = ""
    act: str | None = None
    request: str = ""  # method and path, never the query string (it may carry secrets)
    outcome: str | None = None


def format_line(record: AuditRecord) -> str:
    """The record as one line of escaped ``key=value`` fields joined by ``|``, in the order of FIELDS."""
    return "|".join(f"{key}={escape(value)}" for key, value in _texts(record).items())


def as_json(record: AuditRecord) -> dict[str, object]:
    """The same fields for a SIEM: unescaped, numbers as numbers, missing numbers as null."""
    values: dict[str, object] = dict(_texts(record))
    values.update(evt_code=int(record.code), sev=record.code.severity, exam_id=record.exam_id,
                  profile_id=record.profile_id, profile_ver=record.profile_ver, override_id=record.override_id)
    return values


def parse_line(line: str) -> dict[str, str]:
    """The fields of a line written by ``format_line``, unescaped, in their order.

    Fields are split only on an unescaped ``|`` and at the first unescaped ``=``, so a value can never
    start another field. A field without ``=`` or a repeated key cannot come from ``format_line``:
    ValueError.
    """
    fields: dict[str, str] = {}
    for field in _split(line, "|"):
        parts = _split(field, "=", maxsplit=1)
        if len(parts) != 2:
            raise ValueError(f"audit field {field[:40]!r} has no '='")
        key, value = unescape(parts[0]), unescape(parts[1])
        if key in fields:
            raise ValueError(f"audit field {key!r} appears twice")
        fields[key] = value
    return fields


# Besides the five named escapes, control characters are written as \xNN (C0, DEL, C1, including tab,
# NEL and the file/group/record separators that str.splitlines breaks on) and the Unicode line and
# paragraph separators as \uNNNN, rather than dropped: the record stays on one line, yet nothing the client
# sent is lost for a forensic reader, and parse_line restores it exactly.
_NAMED = {"\\": "\\\\", "|": "\\|", "=": "\\=", "\r": "\\r", "\n": "\\n"}
_UNNAMED = {"r": "\r", "n": "\n"}
_HEX_WIDTH = {"x": 2, "u": 4}
_ESCAPES = str.maketrans({
    **_NAMED,
    **{chr(code): f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)] if chr(code) not in _NAMED},
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
})


def escape(value: str) -> str:
    """``\\`` → ``\\\\``, ``|`` → ``\\|``, ``=`` → ``\\=``, CR → ``\\r``, LF → ``\\n``; other control characters
    → ``\\xNN``, U+2028/U+2029 → ``\\uNNNN``."""
    return value.translate(_ESCAPES)


def unescape(value: str) -> str:
    """The inverse of ``escape``. A backslash not starting a known escape is kept as it is."""
    if "\\" not in value:
        return value
    out: list[str] = []
    index, end = 0, len(value)
    while index < end:
        char = value[index]
        if char != "\\" or index + 1 == end:
            out.append(char)
            index += 1
            continue
        follower = value[index + 1]
        width = _HEX_WIDTH.get(follower, 0)
        digits = value[index + 2:index + 2 + width]
        if width and len(digits) == width and all(ch in "0123456789abcdefABCDEF" for ch in digits):
            out.append(chr(int(digits, 16)))
            index += 2 + width
        elif follower in "\\|=":
            out.append(follower)
            index += 2
        elif follower in _UNNAMED:
            out.append(_UNNAMED[follower])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _texts(record: AuditRecord) -> dict[str, str]:
    """Every field as unescaped text, in line order."""
    code = record.code
    texts = {
        "timestamp": _timestamp(record.timestamp),
        "app_vend": APP_VENDOR,
        "app_name": APP_NAME,
        "app_ver": __version__,
        "evt_code": str(int(code)),
        "evt_name": code.event_name,
        "sev": str(code.severity),
        "cat": CATEGORY,
        "outcome": code.outcome if record.outcome is None else record.outcome,
        "dhost": record.dhost,
        "src_ip": record.src_ip,
        "peer_ip": record.peer_ip,
        "fwd_chain": record.fwd_chain[:CHAIN_LIMIT],  # the client writes it: bounded before escaping
        "suid": record.suid,
        "suser": record.suser,
        "session_id": record.session_id,
        "exam_id": _number(record.exam_id),
        "profile_id": _number(record.profile_id),
        "profile_ver": _number(record.profile_ver),
        "rule": record.rule,
        "reason": record.reason,
        "room": record.room,
        "seat": record.seat,
        "client_machine": record.client_machine,
        "client_os": record.client_os,
        "seb_version": record.seb_version,
        "proctor_id": record.proctor_id,
        "override_id": _number(record.override_id),
        "msg": record.msg,
        "http_useragent": record.http_useragent,
        "act": code.default_act if record.act is None else record.act,
        "request": record.request,
    }
    return texts  # in the order of FIELDS (a test holds the two in step)


def _timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``: 2025-11-03T08:03:11.482Z."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _split(text: str, separator: str, maxsplit: int = -1) -> list[str]:
    """Split at unescaped ``separator`` (one character); escapes are kept for ``unescape``."""
    parts: list[str] = []
    start = index = 0
    end = len(text)
    while index < end and maxsplit != len(parts):
        char = text[index]
        if char == "\\":
            index += 2  # the escaped character can never be a separator
        elif char == separator:
            parts.append(text[start:index])
            start = index = index + 1
        else:
            index += 1
    parts.append(text[start:])
    return parts
