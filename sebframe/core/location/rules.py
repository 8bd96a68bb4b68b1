"""IP profiles: parse rule text, lint it, and compile it into a fast matcher (reference §2, §3).

A profile is one rule per line, ``ALLOW|BLOCK <spec> [room=.. seat=.. label=..] [# comment]``. Evaluation does not
depend on line order: the matching rule that covers the fewest addresses decides, BLOCK wins a tie, and no
matching rule means no decision (the caller denies). Everything here is pure: no database, no I/O.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address

from sebframe.core.location.notation import (
    BITS,
    FULL,
    Kind,
    NotationError,
    Note,
    Spec,
    character_message,
    parse_spec,
)
from sebframe.core.net import IPAddress, IPNetwork

MAX_PROFILE_BYTES = 64 * 1024
MAX_RULES = 2000
ATTRIBUTES = ("room", "seat", "label")

_MAPPED = 0xFFFF
_LOW32 = (1 << 32) - 1


class Action(StrEnum):
    ALLOW = "ALLOW"
    BLOCK = "BLOCK"


_TIE_ORDER = {Action.BLOCK: 0, Action.ALLOW: 1}  # on equal size BLOCK decides


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding of the parser or linter; ``line`` 0 is about the whole profile."""

    line: int
    code: str  # E001-E017, W101-W111, I110 (reference §2.5)
    message: str  # starts with "line N: " when line > 0

    @property
    def severity(self) -> str:
        return {"E": "error", "W": "warning", "I": "info"}[self.code[0]]


def _issue(line: int, code: str, text: str) -> Issue:
    return Issue(line, code, f"line {line}: {text}" if line > 0 else text)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule. ``spec`` is stored canonical (a valid non-canonical spec is canonicalised on construction).

    Construction validates: an invalid spec raises ``NotationError`` (a ``ValueError``), and so does a ``size``
    that is not the spec's, or an attribute or comment that could not be written back on one line.
    """

    line: int
    action: Action
    spec: str
    size: int
    room: str | None = None
    seat: str | None = None
    label: str | None = None
    comment: str | None = None
    _set: Spec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parsed, _ = parse_spec(self.spec)
        if parsed.size != self.size:
            raise ValueError(f"size {self.size} does not match {self.spec!r}, which covers {parsed.size} addresses")
        for name in (*ATTRIBUTES, "comment"):
            value = getattr(self, name)
            if value is not None and (not value or not value.isprintable() or value != value.strip()):
                raise ValueError(f"{name} {value!r} must be non-empty printable text without outer spaces")
        object.__setattr__(self, "action", Action(self.action))  # also accepts the stored "ALLOW"/"BLOCK"
        object.__setattr__(self, "spec", parsed.text)
        object.__setattr__(self, "_set", parsed)

    @property
    def version(self) -> int | None:
        """4 or 6; None for ``*``, which covers both families."""
        return self._set.version or None

    def covers(self, address: IPAddress | None) -> bool:
        """Whether the (normalised) client address is in this rule's set; an unresolvable client (None) never is."""
        if address is None:
            return False
        version, number = _normalised(address)
        return self._set.covers(version, number)

    def text(self) -> str:
        """The canonical line, e.g. ``ALLOW 10.0.0.0/8 room="Lab 1" seat=17  # comment``."""
        parts = [self.action.value, self.spec]
        for name in ATTRIBUTES:
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={_quote(value)}")
        line = " ".join(parts)
        return f"{line}  # {self.comment}" if self.comment else line


def _normalised(address: IPAddress) -> tuple[int, int]:
    """(family, integer) of a client address; an IPv4-mapped IPv6 one that slipped through counts as IPv4."""
    number = int(address)
    if address.version == 6 and number >> 32 == _MAPPED:
        return 4, number & _LOW32
    return address.version, number


def _quote(value: str) -> str:
    if all(33 <= ord(character) <= 126 and character not in '"#\\=' for character in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True, slots=True)
class ParsedProfile:
    rules: tuple[Rule, ...]
    issues: tuple[Issue, ...]  # every error and warning, in line order

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.severity == "error")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        """Warnings and infos."""
        return tuple(issue for issue in self.issues if issue.severity != "error")

    @property
    def ok(self) -> bool:
        return not self.errors

    def canonical_text(self) -> str:
        """One canonical line per rule; blank and comment-only lines are dropped."""
        return "\n".join(rule.text() for rule in self.rules)


# -- parsing ----------------------------------------------------------------------------------------------------


def parse_profile(text: str, *, trusted_proxies: Sequence[IPNetwork] = ()) -> ParsedProfile:
    """Parse rule-mode text, reporting every error and warning with its line (never stopping at the first).

    The warnings are those computable from the text: W101 and W104 per spec, and the linter's (``lint_rules``).
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_PROFILE_BYTES:
        # Refused before parsing, so that an oversized paste costs no CPU
        return ParsedProfile((), (_issue(0, "E016", f"the profile is larger than {MAX_PROFILE_BYTES // 1024} KiB"),))
    rules: list[Rule] = []
    issues: list[Issue] = []
    rule_lines = 0
    allow_line_failed = False
    for number, line in enumerate(text.removeprefix("\ufeff").split("\n"), 1):
        try:
            rule, notes = _parse_line(line.removesuffix("\r"), number)
        except NotationError as exc:
            rule_lines += 1
            issues.append(_issue(number, exc.code, exc.message))
            allow_line_failed = allow_line_failed or line.lstrip(" \t").upper().startswith("ALLOW")
            continue
        if rule is not None:
            rule_lines += 1
            rules.append(rule)
            issues += [_issue(number, code, message) for code, message in notes]
    if rule_lines > MAX_RULES:
        issues.append(_issue(0, "E016", f"the profile has {rule_lines} rules; at most {MAX_RULES} are allowed"))
    for issue in lint_rules(rules, trusted_proxies=trusted_proxies):
        if issue.code == "W106" and allow_line_failed:
            continue  # the ALLOW is there, only misspelt: its error says so
        issues.append(issue)
    issues.sort(key=lambda issue: issue.line)  # stable: per line, the parser's findings come before the linter's
    return ParsedProfile(tuple(rules), tuple(issues))


def _parse_line(line: str, number: int) -> tuple[Rule | None, tuple[Note, ...]]:
    tokens, comment, code_end = _scan(line)
    if not tokens:
        return None, ()
    word = tokens[0][1]
    if word.upper() not in Action.__members__:
        hint = " (write BLOCK)" if word.upper() in ("DENY", "REJECT") else ""
        raise NotationError("E001", f"expected ALLOW or BLOCK, found '{word}'{hint}")
    action = Action(word.upper())
    if len(tokens) < 2 or _attribute_name(tokens[1][1]) is not None:
        raise NotationError("E002", f"{action} needs an address")
    column, spec_text = tokens[1]
    for separator in ",;":
        if separator in spec_text:
            rest = line[column - 1 + spec_text.index(separator) : code_end].strip()
            raise NotationError("E014", f"unexpected text after address: '{rest}' (one rule per line)")
    spec, notes = parse_spec(spec_text)
    attributes: dict[str, str] = {}
    for column, token in tokens[2:]:
        name = _attribute_name(token)
        if name is None:
            rest = line[column - 1 : code_end].strip()
            raise NotationError("E014", f"unexpected text after address: '{rest}' "
                                        "(one rule per line; attributes are room=, seat=, label=)")
        if name in attributes:
            raise NotationError("E014", f"attribute '{name}' is given twice")
        value = _attribute_value(token.partition("=")[2], name)
        attributes[name] = value
    rule = Rule(number, action, spec.text, spec.size, comment=comment or None, **attributes)
    return rule, notes


def _scan(line: str) -> tuple[list[tuple[int, str]], str | None, int]:
    """Split a line into (column, token) pairs, its comment and where the comment starts.

    A quoted attribute value may contain spaces and ``#``. Outside quotes and comments only printable ASCII is
    accepted (E015): look-alike digits and no-break spaces from copy-paste would otherwise read as other text.
    Room labels and comments may use any printable character (German room names have umlauts).
    """
    tokens: list[tuple[int, str]] = []
    i, length = 0, len(line)
    while i < length:
        character = line[i]
        if character in " \t":
            i += 1
            continue
        if character == "#":
            comment = line[i + 1 :]
            for offset, inner in enumerate(comment, i + 2):
                if not (inner.isprintable() or inner == "\t"):
                    raise NotationError("E015", character_message(inner, offset))
            return tokens, comment.replace("\t", " ").strip(), i
        start = i
        while i < length and line[i] not in " \t#":
            character = line[i]
            if character == '"':
                i = _skip_quoted(line, i)
                continue
            if not (character.isascii() and character.isprintable()):
                hint = " (put labels with such characters in quotes)" if "=" in line[start:i] else ""
                raise NotationError("E015", character_message(character, i + 1) + hint)
            i += 1
        tokens.append((start + 1, line[start:i]))
    return tokens, None, length


def _skip_quoted(line: str, start: int) -> int:
    """Index after the closing quote of the quoted text opening at ``start``."""
    i = start + 1
    while i < len(line):
        character = line[i]
        if not character.isprintable():
            raise NotationError("E015", character_message(character, i + 1))
        if character == "\\":
            i += 2
            continue
        if character == '"':
            return i + 1
        i += 1
    raise NotationError("E014", f"unterminated quoted value: {line[start:].strip()}")


def _attribute_name(token: str) -> str | None:
    name, separator, _ = token.partition("=")
    return name.lower() if separator and name.lower() in ATTRIBUTES else None


def _attribute_value(raw: str, name: str) -> str:
    if raw.startswith('"'):
        characters: list[str] = []
        i = 1
        while raw[i] != '"':  # _scan guarantees the closing quote
            if raw[i] == "\\":
                i += 1
            characters.append(raw[i])
            i += 1
        if i + 1 < len(raw):
            raise NotationError("E014", f"unexpected text after the quoted {name}: '{raw[i + 1:]}'")
        value = "".join(characters).strip()
    elif '"' in raw:
        raise NotationError("E014", f"stray quote in {name}={raw}")
    else:
        value = raw
    if not value:
        raise NotationError("E014", f"attribute '{name}' has no value")
    return value


# -- compiling and matching -------------------------------------------------------------------------------------

_NO_RULE = 1 << 62  # rank of "no rule": worse than every real rank


def _ranks(rules: Sequence[Rule]) -> list[int]:
    """Each rule's precedence, 0 deciding first: fewest addresses, then BLOCK, then line, then position."""
    order = sorted(range(len(rules)), key=lambda i: (rules[i].size, _TIE_ORDER[rules[i].action], rules[i].line, i))
    ranks = [0] * len(rules)
    for rank, index in enumerate(order):
        ranks[index] = rank
    return ranks


@dataclass(slots=True)
class _Table:
    """One address family: elementary intervals with their winning interval rule, plus the gapped wildcards.

    ``starts[i]`` opens the interval that runs to ``starts[i + 1] - 1``; ``winners[i]`` is the best interval rule
    covering all of it (``ranks[i]`` its rank). Gapped wildcards cannot be cut into few intervals, so a check
    tries them one by one in rank order, only while they could still beat the interval winner.
    """

    bits: int
    starts: list[int]
    winners: list[Rule | None]
    ranks: list[int]
    wildcards: list[tuple[int, int, int, Rule]]  # (rank, mask, value, rule), best rank first

    def end(self, i: int) -> int:
        """Last address of elementary interval ``i``."""
        return self.starts[i + 1] - 1 if i + 1 < len(self.starts) else (1 << self.bits) - 1


def _build_table(version: int, rules: Sequence[Rule], ranks: Sequence[int]) -> _Table:
    full = FULL[version]
    intervals: list[tuple[int, int, int, Rule]] = []  # (first, last, rank, rule)
    wildcards: list[tuple[int, int, int, Rule]] = []
    for rule, rank in zip(rules, ranks, strict=True):
        spec = rule._set
        if spec.kind is Kind.ANY:
            intervals.append((0, full, rank, rule))
        elif spec.version != version:
            continue
        elif spec.is_interval:
            intervals.append((spec.first, spec.last, rank, rule))
        else:
            wildcards.append((rank, spec.mask, spec.value, rule))
    wildcards.sort(key=lambda entry: entry[0])
    # Sweep the boundaries where the set of covering rules changes, keeping the covering rules in a heap by rank
    # (expired ones are dropped lazily when they surface); adjacent pieces with the same winner merge.
    bounds = sorted({0} | {first for first, *_ in intervals} | {last + 1 for _, last, *_ in intervals if last < full})
    intervals.sort(key=lambda entry: entry[0])
    heap: list[tuple[int, int, Rule]] = []  # (rank, last, rule); ranks are unique, so rules are never compared
    starts: list[int] = []
    winners: list[Rule | None] = []
    winner_ranks: list[int] = []
    j = 0
    for bound in bounds:
        while j < len(intervals) and intervals[j][0] <= bound:
            first, last, rank, rule = intervals[j]
            heapq.heappush(heap, (rank, last, rule))
            j += 1
        while heap and heap[0][1] < bound:
            heapq.heappop(heap)
        rank, winner = (heap[0][0], heap[0][2]) if heap else (_NO_RULE, None)
        if winner_ranks and winner_ranks[-1] == rank:
            continue
        starts.append(bound)
        winners.append(winner)
        winner_ranks.append(rank)
    return _Table(BITS[version], starts, winners, winner_ranks, wildcards)


class CompiledProfile:
    """A profile ready for checks: O(log n + w) per address, n rules and w gapped wildcards."""

    __slots__ = ("rules", "_ipv4", "_ipv6", "_ranks")

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self._ranks = _ranks(self.rules)
        self._ipv4 = _build_table(4, self.rules, self._ranks)
        self._ipv6 = _build_table(6, self.rules, self._ranks)

    def match(self, address: IPAddress | None) -> Rule | None:
        """The deciding rule for a normalised client address; None when no rule matches (or no address)."""
        if address is None:
            return None
        number = int(address)
        if isinstance(address, IPv4Address):
            table = self._ipv4
        elif number >> 32 == _MAPPED:
            table, number = self._ipv4, number & _LOW32
        else:
            table = self._ipv6
        # Bisect to the elementary interval, then try the few gapped wildcards that could beat its winner
        i = bisect_right(table.starts, number) - 1
        if table.wildcards:
            rank = table.ranks[i]
            for wildcard_rank, mask, value, rule in table.wildcards:
                if wildcard_rank > rank:
                    break
                if number & mask == value:
                    return rule
        return table.winners[i]

    @property
    def pieces(self) -> dict[str, int]:
        """Size of the compiled form: elementary intervals per family and gapped wildcards (for diagnostics)."""
        return {"ipv4_intervals": len(self._ipv4.starts), "ipv6_intervals": len(self._ipv6.starts),
                "wildcards": len(self._ipv4.wildcards) + len(self._ipv6.wildcards)}

    def __repr__(self) -> str:
        return f"<CompiledProfile {len(self.rules)} rules>"


def compile_profile(rules: Sequence[Rule]) -> CompiledProfile:
    return CompiledProfile(rules)


def naive_match(rules: Sequence[Rule], address: IPAddress | None) -> Rule | None:
    """Rule-by-rule evaluation with the same semantics as ``CompiledProfile.match``; the reference for tests."""
    best: Rule | None = None
    best_key: tuple[int, int, int, int] | None = None
    for index, rule in enumerate(rules):
        if rule.covers(address):
            key = (rule.size, _TIE_ORDER[rule.action], rule.line, index)
            if best_key is None or key < best_key:
                best, best_key = rule, key
    return best


# -- linting ----------------------------------------------------------------------------------------------------

_TEN_SLASH_8 = (10 << 24, (11 << 24) - 1)
_NON_PUBLIC_IPV6 = ((0xFC << 120, (0xFE << 120) - 1), (0xFE80 << 112, (0xFEC0 << 112) - 1))  # fc00::/7, fe80::/10


def lint_rules(rules: Sequence[Rule], *, trusted_proxies: Sequence[IPNetwork] = ()) -> tuple[Issue, ...]:
    """Profile warnings computable from the rules: W102, W103, W105, W106, W107, W109, I110, in line order."""
    issues: list[Issue] = []
    if not any(rule.action is Action.ALLOW for rule in rules):
        issues.append(_issue(0, "W106", "no ALLOW rule: every client is denied"))
    duplicates = _duplicates(rules)
    never = _never_deciding(CompiledProfile(rules)) if rules else {}
    whole_ipv6_actions = {rule.action for rule in rules if _whole_family(rule._set, 6)}
    proxies = [(network, _unmapped_network(network)) for network in trusted_proxies]
    for index, rule in enumerate(rules):
        spec, line = rule._set, rule.line
        if index in duplicates:
            issues.append(_issue(line, "W107", f"duplicate of line {duplicates[index].line} "
                                               f"({duplicates[index].action} {duplicates[index].spec})"))
        elif index in never:
            issues.append(_issue(line, "W102", never[index]))
        if rule.action is Action.ALLOW and _very_large(spec):
            issues.append(_issue(line, "W103", f"ALLOW {rule.spec} admits {_describe_size(spec)} addresses, "
                                               "including public Internet space"))
        # Catch-alls (*, 0.0.0.0/0, ::/0) always meet the proxies; they say nothing about a place
        if spec.kind is not Kind.ANY and not _whole_family(spec, spec.version):
            overlap = next((network for network, bounds in proxies if _overlaps(spec, bounds)), None)
            if overlap is not None:
                issues.append(_issue(line, "W105", f"{rule.spec} overlaps trusted proxy network {overlap}: clients "
                                                   "there could choose their address through forwarding headers"))
        if _whole_family(spec, 4) and rule.action not in whole_ipv6_actions:
            issues.append(_issue(line, "W109", f"{rule.spec} covers IPv4 only: IPv6 clients are not matched by it; "
                                               "write * for every address"))
        if spec.kind is Kind.ANY and rule.action is Action.BLOCK:
            issues.append(_issue(line, "I110", "BLOCK * is redundant: addresses no rule matches are denied anyway "
                                               "(kept for Blackboard compatibility)"))
    issues.sort(key=lambda issue: issue.line)
    return tuple(issues)


def _set_key(spec: Spec) -> tuple[int, ...]:
    """Equal keys mean equal address sets, whatever the notation (10.1.1.* and 10.1.1.0/24)."""
    if spec.kind is Kind.ANY:
        return (0,)
    if spec.is_interval:
        return (spec.version, spec.first, spec.last)
    return (spec.version, -1, spec.mask, spec.value)


def _duplicates(rules: Sequence[Rule]) -> dict[int, Rule]:
    """Rules with the same action and address set as an earlier line: index -> the first such rule."""
    first_of: dict[tuple[object, ...], Rule] = {}
    found: dict[int, Rule] = {}
    for index, rule in enumerate(rules):
        key = (rule.action, *_set_key(rule._set))
        if key in first_of:
            found[index] = first_of[key]
        else:
            first_of[key] = rule
    return found


def _whole_family(spec: Spec, version: int) -> bool:
    return spec.version == version and spec.is_interval and spec.first == 0 and spec.last == FULL[version]


def _very_large(spec: Spec) -> bool:
    if spec.kind is Kind.ANY:
        return True
    if spec.version == 4:
        return spec.size >= 1 << 24 and not _TEN_SLASH_8[0] <= spec.first <= spec.last <= _TEN_SLASH_8[1]
    return spec.size > 1 << 96 and not any(low <= spec.first <= spec.last <= high for low, high in _NON_PUBLIC_IPV6)


def _describe_size(spec: Spec) -> str:
    if spec.size < 10**12:
        return f"{spec.size:,}"
    return f"about 2^{spec.size.bit_length() - 1}"


def _unmapped_network(network: IPNetwork) -> tuple[int, int, int]:
    """(family, first, last) of a trusted-proxy network, IPv4-mapped ones as IPv4."""
    first, last = int(network.network_address), int(network.broadcast_address)
    if network.version == 6 and first >> 32 == _MAPPED and last >> 32 == _MAPPED:
        return 4, first & _LOW32, last & _LOW32
    return network.version, first, last


def _overlaps(spec: Spec, network: tuple[int, int, int]) -> bool:
    version, first, last = network
    if spec.version != version or spec.last < first or last < spec.first:
        return False
    if spec.is_interval:
        return True
    # A wildcard meets a CIDR block when the bits fixed by both agree
    prefix_mask = FULL[version] ^ (last - first)
    return (spec.value ^ first) & spec.mask & prefix_mask == 0


# W102: which rules never decide. A rule decides somewhere when, for some address it covers, no better-ranked rule
# covers it too. Interval rules: exactly the winners of the compiled elementary intervals (minus the parts that
# better-ranked gapped wildcards take over). Gapped wildcards: walked run by run. Past the work budgets the rule is
# assumed to decide: the check can then miss a shadowed rule, but it never flags one that decides.

_MAX_WILDCARD_RUNS = 4096
_MAX_COVER_PIECES = 4096


def _never_deciding(compiled: CompiledProfile) -> dict[int, str]:
    """Index of each rule that never decides -> the W102 message."""
    rules, ranks = compiled.rules, compiled._ranks
    deciding: set[int] = set()  # ranks of the rules that decide somewhere
    for table in (compiled._ipv4, compiled._ipv6):
        for i, rank in enumerate(table.ranks):
            if rank == _NO_RULE or rank in deciding:
                continue
            better = [entry for entry in table.wildcards if entry[0] < rank]
            if not better or not _wildcards_cover(table.starts[i], table.end(i), better, table.bits):
                deciding.add(rank)
        for entry in table.wildcards:
            if entry[0] not in deciding and _wildcard_decides(entry, table):
                deciding.add(entry[0])
    by_key: dict[tuple[int, ...], list[int]] = {}
    for index, rule in enumerate(rules):
        by_key.setdefault(_set_key(rule._set), []).append(index)
    messages: dict[int, str] = {}
    for index, rule in enumerate(rules):
        if ranks[index] in deciding:
            continue
        same = [other for other in by_key[_set_key(rule._set)] if rules[other].action is not rule.action]
        if same:  # only an ALLOW can lose to a rule of the other action with the same set
            other = rules[same[0]]
            messages[index] = (f"never decides: line {other.line} ({other.action} {other.spec}) covers the "
                               "same addresses and BLOCK wins ties")
        else:
            lines = ", ".join(str(line) for line in _shadowing_lines(compiled, index))
            messages[index] = f"never decides: more specific rules (lines {lines}) decide every address it covers"
    return messages


def _cidr_blocks(first: int, last: int, bits: int) -> Iterator[tuple[int, int]]:
    """The CIDR blocks (start, host bits) exactly covering first..last."""
    while first <= last:
        host = (first & -first).bit_length() - 1 if first else bits
        while first + (1 << host) - 1 > last:
            host -= 1
        yield first, host
        first += 1 << host


def _wildcards_cover(first: int, last: int, wildcards: Sequence[tuple[int, int, int, Rule]], bits: int) -> bool:
    """Whether every address of first..last is matched by one of ``wildcards``.

    Works on pieces that are patterns themselves (fixed bits and a value), starting from the CIDR blocks of the
    interval: a piece inside one wildcard is covered, a piece no wildcard meets is not, and a piece several meet
    in part is split on a bit one of them fixes. Past a budget of pieces the answer is "not covered".
    """
    full = (1 << bits) - 1
    pending = [(full ^ ((1 << host) - 1), start) for start, host in _cidr_blocks(first, last, bits)]
    for _ in range(_MAX_COVER_PIECES):
        if not pending:
            return True
        piece_mask, piece_value = pending.pop()
        meeting = [mask for _, mask, value, _ in wildcards if (piece_value ^ value) & piece_mask & mask == 0]
        if not meeting:
            return False
        if any(mask & ~piece_mask == 0 for mask in meeting):
            continue  # that wildcard fixes no bit the piece leaves free, and agrees on the rest: it contains it
        bit = 1 << ((meeting[0] & ~piece_mask).bit_length() - 1)
        pending += [(piece_mask | bit, piece_value), (piece_mask | bit, piece_value | bit)]
    return False


def _wildcard_runs(mask: int, value: int, bits: int) -> Iterator[tuple[int, int]] | None:
    """The contiguous runs of a gapped wildcard, or None when there are too many to walk."""
    free = ((1 << bits) - 1) ^ mask
    trailing = ((free + 1) & ~free).bit_length() - 1  # trailing free bits: each run is 2**trailing long
    inner = [bit for bit in range(trailing, bits) if free >> bit & 1]
    if 1 << len(inner) > _MAX_WILDCARD_RUNS:
        return None

    def runs() -> Iterator[tuple[int, int]]:
        for combination in range(1 << len(inner)):
            start = value
            for position, bit in enumerate(inner):
                if combination >> position & 1:
                    start |= 1 << bit
            yield start, start + (1 << trailing) - 1

    return runs()


def _wildcard_decides(entry: tuple[int, int, int, Rule], table: _Table) -> bool:
    rank, mask, value, _ = entry
    runs = _wildcard_runs(mask, value, table.bits)
    if runs is None:
        return True  # too many runs to check: assume it decides rather than warn wrongly
    better = [other for other in table.wildcards if other[0] < rank]
    for first, last in runs:
        i = bisect_right(table.starts, first) - 1
        while i < len(table.starts) and table.starts[i] <= last:
            if table.ranks[i] > rank:
                piece_first, piece_last = max(first, table.starts[i]), min(last, table.end(i))
                if not _wildcards_cover(piece_first, piece_last, better, table.bits):
                    return True
            i += 1
    return False


def _shadowing_lines(compiled: CompiledProfile, index: int, limit: int = 5) -> list[int]:
    """Lines of the better-ranked rules that take over the rule's addresses, for the W102 message."""
    rule, rank = compiled.rules[index], compiled._ranks[index]
    spec = rule._set
    lines: set[int] = set()
    for table in (compiled._ipv4, compiled._ipv6):
        if spec.kind is not Kind.ANY and BITS[spec.version] != table.bits:
            continue
        first, last = (0, (1 << table.bits) - 1) if spec.kind is Kind.ANY else (spec.first, spec.last)
        i = bisect_right(table.starts, first) - 1
        walked = 0
        while i < len(table.starts) and table.starts[i] <= last and walked < 1000:
            winner = table.winners[i]
            if winner is not None and table.ranks[i] < rank:
                lines.add(winner.line)
            i, walked = i + 1, walked + 1
        for other_rank, _, _, other in table.wildcards:
            if other_rank < rank and other._set.first <= last and first <= other._set.last:
                lines.add(other.line)
    return sorted(lines)[:limit]
