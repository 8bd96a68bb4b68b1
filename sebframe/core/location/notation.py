"""One address spec of a location rule (reference §2.2-2.4): every accepted notation, every rejection with its code.

A spec becomes one of four shapes: every address (``*``), a network, an inclusive range, or a wildcard pattern
with per-group masks. Sets are carried as integers, not ``ipaddress`` objects, so that the matcher can bisect and
mask. The parser is our own rather than ``ipaddress``: Python accepts ``/08`` and ``a/dotted-mask`` silently, and
its errors do not say which of the catalogue's cases (§2.5) was hit. Errors are ``NotationError`` with the stable
code; the profile parser adds the line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

BITS = {4: 32, 6: 128}
FULL = {4: (1 << 32) - 1, 6: (1 << 128) - 1}
ANY_SIZE = 2**32 + 2**128  # "*" covers both families: larger than any single-family rule
_LOW32 = (1 << 32) - 1
_MAPPED = 0xFFFF  # the upper 96 bits of ::ffff:0:0/96
_WILD = -1  # a wildcard group while parsing


class Kind(StrEnum):
    ANY = "any"
    NETWORK = "network"  # CIDR, partial IPv4 and single addresses (full prefix)
    RANGE = "range"
    WILDCARD = "wildcard"


class NotationError(ValueError):
    """A spec the grammar refuses; ``code`` is the catalogue's (E002-E017), ``message`` has no line number."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Spec:
    """The set of addresses of one spec.

    ``first``/``last`` bound the set in its family (for a wildcard: its lowest and highest address). A wildcard
    covers ``n`` when ``n & mask == value``; ``mask`` and ``value`` are 0 for the other kinds.
    """

    kind: Kind
    version: int  # 4 or 6; 0 for ANY, which covers both
    first: int
    last: int
    mask: int
    value: int
    size: int  # specificity: the number of addresses covered (reference §2.2)
    text: str  # canonical notation

    @property
    def is_interval(self) -> bool:
        """True when the set is one contiguous interval of its family (every kind but a gapped wildcard)."""
        return self.kind is not Kind.WILDCARD or self.size == self.last - self.first + 1

    def covers(self, version: int, number: int) -> bool:
        """Whether the address ``number`` of family ``version`` (already normalised) is in the set."""
        if self.kind is Kind.ANY:
            return True
        if version != self.version:
            return False
        if self.kind is Kind.WILDCARD:
            return number & self.mask == self.value
        return self.first <= number <= self.last


Note = tuple[str, str]  # (warning code, message) found while parsing a valid spec


def parse_spec(text: str) -> tuple[Spec, tuple[Note, ...]]:
    """Parse one spec; returns it with its warnings (W101 host bits, W104 ``::`` in a wildcard).

    IPv6 specs lying entirely inside ``::ffff:0:0/96`` come back as their IPv4 equivalent, because clients are
    normalised the same way and would otherwise never match them.
    """
    notes: list[Note] = []
    try:
        spec = _parse(text, notes)
    except NotationError as exc:
        if exc.code == "E004":
            raise NotationError("E004", f"{exc.message}; write {_without_leading_zeros(text)}") from None
        raise
    return spec, tuple(notes)


def format_address(version: int, number: int) -> str:
    """Canonical text of an address: dotted decimal, or RFC 5952 lower-case compressed IPv6.

    Our own formatter because ``str()`` of some IPv6 addresses differs between Python releases (reference §7).
    """
    if version == 4:
        return ".".join(str((number >> shift) & 0xFF) for shift in (24, 16, 8, 0))
    groups = [(number >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    best_start, best_length = -1, 1  # "::" only for a run of two or more zero groups, the first longest run
    i = 0
    while i < 8:
        if groups[i]:
            i += 1
            continue
        j = i
        while j < 8 and not groups[j]:
            j += 1
        if j - i > best_length:
            best_start, best_length = i, j - i
        i = j
    hextets = [f"{group:x}" for group in groups]
    if best_start < 0:
        return ":".join(hextets)
    return ":".join(hextets[:best_start]) + "::" + ":".join(hextets[best_start + best_length :])


# -- building specs ---------------------------------------------------------------------------------------------

ANY = Spec(Kind.ANY, 0, 0, 0, 0, 0, ANY_SIZE, "*")


def network_spec(version: int, address: int, prefix: int) -> Spec:
    """The network of ``address/prefix``, host bits cleared; a full prefix is written as the plain address."""
    bits = BITS[version]
    host = (1 << (bits - prefix)) - 1
    first = address & (FULL[version] ^ host)
    text = format_address(version, first) + ("" if prefix == bits else f"/{prefix}")
    return Spec(Kind.NETWORK, version, first, first | host, 0, 0, host + 1, text)


def range_spec(version: int, first: int, last: int) -> Spec:
    text = f"{format_address(version, first)}-{format_address(version, last)}"
    return Spec(Kind.RANGE, version, first, last, 0, 0, last - first + 1, text)


def wildcard_spec(version: int, mask: int, value: int) -> Spec:
    free = FULL[version] ^ mask
    return Spec(Kind.WILDCARD, version, value, value | free, mask, value, 1 << free.bit_count(),
                _format_wildcard(version, mask, value))


def _format_wildcard(version: int, mask: int, value: int) -> str:
    # IPv6 patterns are written with all 8 groups: the UI shows what "::" expanded to (W104) at a glance.
    width, count, base = (8, 4, "d") if version == 4 else (16, 8, "x")
    group_mask = (1 << width) - 1
    groups = []
    for i in range(count):
        shift = width * (count - 1 - i)
        groups.append("*" if not (mask >> shift) & group_mask else format((value >> shift) & group_mask, base))
    return ".".join(groups) if version == 4 else ":".join(groups)


def _unmap(spec: Spec) -> Spec:
    """An IPv6 spec entirely inside ::ffff:0:0/96 becomes IPv4 (``::ffff:10.0.0.0/104`` is ``10.0.0.0/8``)."""
    if spec.version != 6 or spec.first >> 32 != _MAPPED or spec.last >> 32 != _MAPPED:
        return spec
    if spec.kind is Kind.NETWORK:
        return network_spec(4, spec.first & _LOW32, 33 - spec.size.bit_length())
    if spec.kind is Kind.RANGE:
        return range_spec(4, spec.first & _LOW32, spec.last & _LOW32)
    return wildcard_spec(4, spec.mask & _LOW32, spec.value & _LOW32)


# -- parsing ----------------------------------------------------------------------------------------------------

_SPEC_CHARACTERS = re.compile(r"[0-9A-Za-z.:/*\-]*")
_ADDRESS_AND_PORT = re.compile(r"[0-9]+(?:\.[0-9]+){3}:[0-9]+")
_HEX_OCTET = re.compile(r"(?:^|[.\-])0[xX]")
_LABEL_FROM_LETTER = re.compile(r"(?:^|\.)[A-Za-z]")


def _parse(text: str, notes: list[Note]) -> Spec:
    if not text:
        raise NotationError("E002", "missing address")
    for column, character in enumerate(text, 1):
        if not (character.isascii() and character.isprintable()):
            raise NotationError("E015", character_message(character, column))
    if text == "*":
        return ANY
    if _ADDRESS_AND_PORT.fullmatch(text):
        raise NotationError("E014", f"unexpected text after address: '{text[text.index(':'):]}' "
                                    "(a port is not part of a rule)")
    if "%" in text:
        address, _, zone = text.partition("%")
        raise NotationError("E011", f"zone id '%{zone}' is not allowed (it means nothing for a remote client); "
                                    f"write {address}")
    address_part = text.split("/", 1)[0]  # the prefix length is checked on its own (E005)
    allowed = _SPEC_CHARACTERS.match(address_part)
    assert allowed is not None  # the pattern matches the empty string
    if allowed.end() < len(address_part):
        if allowed.end() == 0:
            raise NotationError("E003", f"'{text}' is not an address")
        raise NotationError("E014", f"unexpected text after address: '{text[allowed.end():]}'")
    if ":" not in address_part and _HEX_OCTET.search(address_part):
        raise NotationError("E003", f"'{text}': hexadecimal octets are not allowed; write octets in decimal")
    if ":" not in address_part and _LABEL_FROM_LETTER.search(address_part):
        raise NotationError("E012", f"'{text}' looks like a hostname; write addresses "
                                    "(a name would need DNS at check time, which is slow and spoofable)")
    if "/" in text:
        return _parse_cidr(text, notes)
    if "-" in text:
        return _parse_range(text)
    if ":" in text:
        return _parse_ipv6_spec(text, notes)
    return _parse_ipv4_spec(text)


def character_message(character: str, column: int) -> str:
    kind = "non-ASCII" if not character.isascii() else "control"
    return f"{kind} character U+{ord(character):04X} at column {column}"


def _parse_cidr(text: str, notes: list[Note]) -> Spec:
    address_text, _, prefix_text = text.partition("/")
    if "*" in address_text:
        raise NotationError("E014", f"'{text}': a wildcard cannot have a prefix length")
    if "-" in address_text:
        raise NotationError("E014", f"'{text}': a range cannot have a prefix length")
    if "." in prefix_text or ":" in prefix_text:
        raise _ambiguous_mask(text, address_text, prefix_text)
    version, address = _parse_address(address_text)
    prefix = _prefix_length(prefix_text, version)
    network = _unmap(network_spec(version, address, prefix))
    if address & ((1 << (BITS[version] - prefix)) - 1):
        notes.append(("W101", f"host bits set: {text} is stored as {network.text}"))
    return network


def _prefix_length(text: str, version: int) -> int:
    bits = BITS[version]
    if not text:
        raise NotationError("E005", "missing prefix length after '/'")
    if not (text.isdecimal() and len(text) <= 3):
        raise NotationError("E005", f"'/{text}' is not a valid IPv{version} prefix (0-{bits})")
    if len(text) > 1 and text[0] == "0":
        raise NotationError("E005", f"'/{text}': leading zeros are not allowed in a prefix length; write /{int(text)}")
    if int(text) > bits:
        raise NotationError("E005", f"/{text} is not a valid IPv{version} prefix (0-{bits})")
    return int(text)


def _ambiguous_mask(text: str, address_text: str, mask_text: str) -> NotationError:
    """E006 for ``a/b`` with a dotted or colon ``b``, suggesting what each reading would be written as."""
    message = f"'{text}' is ambiguous (range in Blackboard, netmask in Canvas)."
    try:
        version, address = _parse_address(address_text)
        mask_version, mask = _parse_address(mask_text)
    except NotationError:
        return NotationError("E006", f"{message} Write a prefix length such as /24, or a range a-b.")
    if version != mask_version:
        return NotationError("E006", f"{message} Write a prefix length such as /24, or a range a-b.")
    bits, full = BITS[version], FULL[version]
    prefix = None
    if (full ^ mask) & ((full ^ mask) + 1) == 0:  # ones then zeros: a netmask
        prefix = bits - (full ^ mask).bit_length()
    elif mask & (mask + 1) == 0:  # zeros then ones: a Cisco-style hostmask
        prefix = bits - mask.bit_length()
    if prefix is not None:
        network = network_spec(version, address, prefix)
        first, last = format_address(version, network.first), format_address(version, network.last)
        return NotationError("E006", f"{message} Write {first}/{prefix} or {first}-{last}.")
    if mask >= address:
        return NotationError("E006", f"{message} Write {address_text}-{mask_text} for the range.")
    return NotationError("E006", f"{message} Write a prefix length such as /24, or a range a-b.")


def _parse_range(text: str) -> Spec:
    start_text, _, end_text = text.partition("-")
    if "*" in text:
        raise NotationError("E014", f"'{text}': a wildcard cannot be part of a range")
    if "-" in end_text:
        raise NotationError("E014", f"unexpected text after address: '-{end_text.partition('-')[2]}'")
    if not start_text or not end_text:
        raise NotationError("E003", f"'{text}' is not a range: write start-end")
    version, first = _parse_address(start_text)
    if ":" in end_text or end_text.count(".") == 3:
        end_version, last = _parse_address(end_text)
        if version != end_version:
            if _family(version, first) != _family(end_version, last):
                raise NotationError("E008", f"range '{text}' mixes IPv4 and IPv6")
            version, first, last = 4, first & _LOW32, last & _LOW32  # the IPv6 end is IPv4-mapped
    elif "." in end_text:
        raise NotationError("E014", f"'{text}': the range end must be a full address or one last-group value")
    else:
        # Moodle's short form: the end replaces the start's last group as written (an octet after a dotted tail)
        if version == 6 and "." not in start_text.rsplit(":", 1)[-1]:
            width, end_value = 16, _hextet(end_text, text)
        else:
            width, end_value = 8, _octet(end_text, text)
        last = (first >> width << width) | end_value
    if last < first:
        raise NotationError("E007", f"range end {format_address(version, last)} is below its start "
                                    f"{format_address(version, first)}")
    return _unmap(range_spec(version, first, last))


def _family(version: int, number: int) -> int:
    return 4 if version == 6 and number >> 32 == _MAPPED else version


def _parse_address(text: str) -> tuple[int, int]:
    """A full IPv4 or IPv6 address without wildcards: (version, integer). Mapped IPv6 stays IPv6 here."""
    if ":" in text:
        value, mask, _ = _parse_ipv6(text, wildcards=False)
        return 6, value
    groups = text.split(".")
    if len(groups) != 4:
        raise NotationError("E003", f"'{text}' is not a full IPv4 address (4 octets)")
    value = 0
    for group in groups:
        value = value << 8 | _octet(group, text)
    return 4, value


def _octet(text: str, whole: str) -> int:
    if text == "*":
        raise NotationError("E014", f"'{whole}': '*' is not allowed here")
    if not text:
        raise NotationError("E003", f"empty octet in '{whole}'")
    if not text.isdecimal():
        raise NotationError("E003", f"octet '{text}' is not a decimal number 0-255")
    if len(text) > 1 and text[0] == "0":
        raise NotationError("E004", "leading zeros are not allowed (could be octal)")
    if len(text) > 3 or int(text) > 255:
        raise NotationError("E003", f"octet '{text}' is not 0-255")
    return int(text)


def _hextet(text: str, whole: str) -> int:
    if not text:
        raise NotationError("E003", f"empty group in '{whole}'")
    if any(character not in "0123456789abcdefABCDEF" for character in text):
        raise NotationError("E003", f"group '{text}' is not hexadecimal 0-ffff")
    if len(text) > 4:
        raise NotationError("E003", f"hextet '{text}' is not 0-ffff")
    return int(text, 16)


def _parse_ipv4_spec(text: str) -> Spec:
    """An address, a partial prefix (``10.1`` or ``10.1.``) or a four-group wildcard."""
    groups = (text[:-1] if text.endswith(".") else text).split(".")
    if "*" in text:
        for group in groups:
            if "*" in group and group != "*":
                raise NotationError("E009", f"'{group}' in '{text}': '*' must stand for a whole octet (0-255)")
        octets = [_WILD if group == "*" else _octet(group, text) for group in groups]
        if len(octets) != 4:
            raise NotationError("E010", _ipv4_group_count_message(text, octets))
        mask = value = 0
        for octet in octets:
            mask, value = mask << 8 | (0 if octet == _WILD else 0xFF), value << 8 | max(octet, 0)
        return wildcard_spec(4, mask, value)
    if len(groups) > 4:
        raise NotationError("E003", f"'{text}' has {len(groups)} octets; an IPv4 address has 4")
    value = 0
    for group in groups:
        value = value << 8 | _octet(group, text)
    # Octet-aware partial prefix (Moodle): 10.1 is 10.1.0.0/16, never a string prefix of 10.10.x.x
    return network_spec(4, value << 8 * (4 - len(groups)), 8 * len(groups))


def _ipv4_group_count_message(text: str, octets: list[int]) -> str:
    if len(octets) > 4:
        return f"'{text}' has {len(octets)} groups; an IPv4 wildcard needs exactly 4"
    padded = octets + [_WILD] * (4 - len(octets))
    suggestions = [".".join("*" if octet == _WILD else str(octet) for octet in padded)]
    fixed = padded.index(_WILD)
    if all(octet == _WILD for octet in padded[fixed:]):
        suggestions.append(".".join([str(octet) for octet in padded[:fixed]] + ["0"] * (4 - fixed)) + f"/{8 * fixed}")
    return f"an IPv4 wildcard needs exactly 4 groups; write {' or '.join(suggestions)}"


def _parse_ipv6_spec(text: str, notes: list[Note]) -> Spec:
    value, mask, compressed = _parse_ipv6(text, wildcards=True)
    if mask == FULL[6]:
        return _unmap(network_spec(6, value, 128))
    spec = wildcard_spec(6, mask, value)
    if compressed:
        notes.append(("W104", _zero_groups_message(text, spec)))
    return _unmap(spec)


def _zero_groups_message(text: str, spec: Spec) -> str:
    message = f"'::' in a wildcard stands for zero groups: '{text}' is {spec.text}"
    head, _, tail = text.partition("::")
    head_groups = head.split(":") if head else []
    tail_groups = tail.split(":") if tail else []
    if head_groups and "*" not in head_groups and all(group == "*" for group in tail_groups):
        # The user most likely meant "everything under <head>"
        under = ":".join(f"{int(group, 16):x}" for group in head_groups)
        prefix = format_address(6, spec.value) + f"/{16 * len(head_groups)}"
        every = ":".join([under] + ["*"] * (8 - len(head_groups)))
        message += f"; for everything under {under} write {prefix} or {every}"
    return message


def _parse_ipv6(text: str, *, wildcards: bool) -> tuple[int, int, bool]:
    """(value, mask, uses "::") of an IPv6 address or wildcard; "::" expands to zero groups, never wildcards."""
    if text.count("::") > 1:
        raise NotationError("E013", f"'{text}' has more than one '::'")
    if ":::" in text:
        raise NotationError("E003", f"'{text}' is not a valid IPv6 address")
    compressed = "::" in text
    if compressed:
        head_text, _, tail_text = text.partition("::")
        head = _ipv6_groups(head_text.split(":") if head_text else [], text, last=False, wildcards=wildcards)
        tail = _ipv6_groups(tail_text.split(":") if tail_text else [], text, last=True, wildcards=wildcards)
        if len(head) + len(tail) > 7:
            raise NotationError("E003", f"'{text}' has too many groups to use '::'")
        groups = head + [0] * (8 - len(head) - len(tail)) + tail
    else:
        groups = _ipv6_groups(text.split(":"), text, last=True, wildcards=wildcards)
        if len(groups) != 8:
            if _WILD in groups:
                raise NotationError("E010", _ipv6_group_count_message(groups))
            raise NotationError("E003", f"'{text}' has {len(groups)} groups; an IPv6 address has 8 or uses '::'")
    value = mask = 0
    for group in groups:
        mask, value = mask << 16 | (0 if group == _WILD else 0xFFFF), value << 16 | max(group, 0)
    return value, mask, compressed


def _ipv6_groups(texts: list[str], whole: str, *, last: bool, wildcards: bool) -> list[int]:
    groups: list[int] = []
    for i, text in enumerate(texts):
        if "." in text:
            if not (last and i == len(texts) - 1):
                raise NotationError("E003", f"'{whole}': an embedded IPv4 address must come last")
            if "*" in text:
                raise NotationError("E017", f"'{whole}': wildcards are not allowed in an embedded IPv4 address; "
                                            "write the IPv4 pattern instead (e.g. 10.0.*.*)")
            _, address = _parse_address(text)
            groups += [address >> 16, address & 0xFFFF]
        elif text == "*":
            if not wildcards:
                raise NotationError("E014", f"'{whole}': '*' is not allowed here")
            groups.append(_WILD)
        elif "*" in text:
            raise NotationError("E009", f"'{text}' in '{whole}': '*' must stand for a whole group (0-ffff)")
        elif not text and last and i == len(texts) - 1 and i > 0 and "::" not in whole:
            raise NotationError("E003", f"partial IPv6 '{whole}' is not accepted; write a prefix such as "
                                        f"{whole}:/{16 * i}")
        else:
            groups.append(_hextet(text, whole))
    return groups


def _ipv6_group_count_message(groups: list[int]) -> str:
    if len(groups) > 8:
        return f"an IPv6 wildcard has {len(groups)} groups; it needs 8 (or '::' for zero groups)"
    padded = groups + [_WILD] * (8 - len(groups))
    suggestions = [":".join("*" if group == _WILD else f"{group:x}" for group in padded)]
    fixed = padded.index(_WILD)
    if fixed and all(group == _WILD for group in padded[fixed:]):
        value = 0
        for group in padded[:fixed]:
            value = value << 16 | group
        suggestions.append(f"{format_address(6, value << 16 * (8 - fixed))}/{16 * fixed}")
    return f"an IPv6 wildcard needs 8 groups (or '::' for zero groups); write {' or '.join(suggestions)}"


def _without_leading_zeros(text: str) -> str:
    """The spec with the leading zeros of its decimal octets removed, for the E004 suggestion."""

    def fix(part: str) -> str:
        if ":" in part:  # only an embedded IPv4 tail has decimal octets; hextets may have leading zeros
            head, _, tail = part.rpartition(":")
            return f"{head}:{fix(tail)}" if "." in tail else part
        return re.sub(r"(?<![0-9])0+(?=[0-9])", "", part)

    address, slash, prefix = text.partition("/")
    return "-".join(fix(part) for part in address.split("-")) + slash + prefix
