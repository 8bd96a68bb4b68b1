"""The client address of a request: the socket peer, or a forwarded address vouched for by a trusted proxy.

Forwarding headers are believed only when the socket peer is a configured trusted proxy, and only the
one configured header family is read (a fallback to another family would let a client smuggle an
address through whichever header the proxy does not overwrite). The entries are walked from the right,
skipping trusted hops; the first untrusted entry is the client. Entries left of it are written by the
client and never read. An entry that must be decided on but is empty, ``unknown``, obfuscated or
malformed fails closed: the address is unresolvable. This is the one resolver used wherever the server
records a client address; the same trust decides whether a forwarded protocol (HTTPS) is believed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

CHAIN_LIMIT = 512  # characters of the raw forwarding chain kept for the audit log
_ENTRY_LIMIT = 64  # characters of an offending entry quoted in a problem text


class ForwardedHeader(StrEnum):
    """The one header family a trusted proxy writes the client address into."""

    NONE = "none"
    X_FORWARDED_FOR = "x-forwarded-for"
    FORWARDED = "forwarded"  # RFC 7239
    X_REAL_IP = "x-real-ip"


_FORWARDING_HEADERS = frozenset(header.value.encode() for header in ForwardedHeader if header.value != "none")


@dataclass(frozen=True, slots=True)
class ProxyPolicy:
    """Which peers are proxies, which header they write, and the bounds on what we are willing to parse."""

    trusted: tuple[IPNetwork, ...] = ()
    header: ForwardedHeader = ForwardedHeader.X_FORWARDED_FOR
    ports_allowed: bool = False  # accept ``1.2.3.4:5555`` / ``[2001:db8::7]:443`` in X-Forwarded-For / X-Real-IP
    max_hops: int = 8  # trusted entries skipped at most before giving up
    max_header_bytes: int = 8 * 1024


@dataclass(frozen=True, slots=True)
class ResolvedAddress:
    """The outcome of a resolution, with what the audit log needs to explain it."""

    client: str | None  # canonical text of the normalised client address; None: unresolvable
    peer: str | None  # the normalised socket peer (None if it is not an IP address)
    chain: str  # the raw forwarding header value(s) as received, joined with ", ", at most CHAIN_LIMIT chars
    problem: str | None = None  # why the address is unresolvable (audit event 1003)
    untrusted_forwarding: bool = False  # forwarding headers sent by a peer we do not trust (audit event 1006)


def parse_address(text: str) -> IPAddress | None:
    """Parse an IP literal; IPv4-mapped IPv6 becomes IPv4, zone ids are dropped. Leading zeros are refused."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=4096)
def _parse_peer(peer: str) -> tuple[IPAddress, ResolvedAddress] | None:
    """The peer's address, and the result for a request that is not forwarded (the client is the peer).

    Every SEB ping resolves its peer, and a client keeps its peer for the whole exam: the cache turns
    parsing, ``str()`` and building the frozen result (about 4 µs together) into a dictionary lookup.
    Both values are immutable, so sharing them between requests is safe.
    """
    address = parse_address(peer)
    return None if address is None else (address, ResolvedAddress(str(address), str(address), ""))


def _trusted(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    # ``in`` is False across versions rather than an error; the version test only makes that explicit.
    return any(address.version == network.version and address in network for network in networks)


def resolve(peer: str | None, headers: Sequence[tuple[bytes, bytes]], policy: ProxyPolicy) -> ResolvedAddress:
    """Resolve the client address of a request from its socket peer and raw ASGI headers (lower-case names)."""
    parsed = _parse_peer(peer) if peer else None
    if parsed is None:
        # A UNIX socket or a test client ("testclient"): nothing we could match a location rule against.
        return ResolvedAddress(None, None, "", problem=f"socket peer {_quote(peer or '')} is not an IP address")
    peer_address, direct = parsed
    name = _header_name(policy.header)
    if name is None or not _trusted(peer_address, policy.trusted):
        # Hot path (no proxy, or a client talking to us directly): no lists, just note forged headers.
        return replace(direct, untrusted_forwarding=True) if _has_forwarding(headers) else direct
    peer_text = direct.peer

    lines = [value for key, value in headers if key == name]
    if not lines:
        return direct  # e.g. a health check from the proxy host itself
    size = sum(len(line) for line in lines) + 2 * (len(lines) - 1)
    if size > policy.max_header_bytes:  # before any splitting: the work per request stays bounded
        problem = f"{name.decode()} header exceeds {policy.max_header_bytes} bytes"
        return ResolvedAddress(None, peer_text, _chain(lines), problem)
    raw = b", ".join(lines).decode("latin-1")
    chain = raw[:CHAIN_LIMIT]
    if policy.header is ForwardedHeader.X_REAL_IP:
        return _real_ip(raw, peer_text, chain, policy)

    # At most max_hops trusted entries are skipped, plus the one decided on: split no further than that.
    # The left-most part may still hold commas, but it is reached only once the hop cap has failed.
    entries = raw.rsplit(",", policy.max_hops + 1)
    forwarded = policy.header is ForwardedHeader.FORWARDED
    skipped = 0
    address: IPAddress | None = None
    for entry in reversed(entries):
        address = _forwarded_for(entry) if forwarded else _parse_entry(entry, policy.ports_allowed)
        if address is None:
            return ResolvedAddress(None, peer_text, chain, f"malformed forwarded entry {_quote(entry.strip())}")
        if not _trusted(address, policy.trusted):
            return ResolvedAddress(str(address), peer_text, chain)
        skipped += 1
        if skipped > policy.max_hops:
            return ResolvedAddress(None, peer_text, chain, f"more than {policy.max_hops} trusted proxy hops")
    # Every entry is a trusted host: the request started inside the proxy infrastructure (left-most entry).
    assert address is not None  # rsplit returns at least one entry
    return ResolvedAddress(str(address), peer_text, chain)


def client_address(request: HTTPConnection, policy: ProxyPolicy) -> str | None:
    """The resolved client address of a Starlette request, ``None`` if unresolvable."""
    client = request.scope.get("client")
    return resolve(client[0] if client else None, request.scope["headers"], policy).client


def forwarded_https(peer: str | None, headers: Sequence[tuple[bytes, bytes]], policy: ProxyPolicy) -> bool:
    """Whether a trusted proxy says the client's request reached it over HTTPS (so cookies can be Secure).

    Believed on the same terms as a forwarded address: only from a trusted peer, and not with the ``none``
    setting. What counts is the protocol the nearest proxy wrote: the right-most ``X-Forwarded-Proto`` value,
    or with the ``forwarded`` setting the ``proto=`` of the right-most ``Forwarded`` element.
    """
    parsed = _parse_peer(peer) if peer else None
    name = _header_name(policy.header)
    if parsed is None or name is None or not _trusted(parsed[0], policy.trusted):
        return False
    if policy.header is ForwardedHeader.FORWARDED:
        lines = [value for key, value in headers if key == name]
        if not lines:
            return False
        for pair in lines[-1].rsplit(b",", 1)[-1].split(b";"):
            key, equals, proto = pair.partition(b"=")
            if equals and key.strip().lower() == b"proto":
                return proto.strip().strip(b'"').lower() == b"https"
        return False
    lines = [value for key, value in headers if key == b"x-forwarded-proto"]
    return bool(lines) and lines[-1].rsplit(b",", 1)[-1].strip().lower() == b"https"


def _has_forwarding(headers: Sequence[tuple[bytes, bytes]]) -> bool:
    for key, _ in headers:  # a plain loop: the cheapest scan, and it stops at the first hit
        if key in _FORWARDING_HEADERS:
            return True
    return False


def _header_name(header: ForwardedHeader) -> bytes | None:
    return None if header is ForwardedHeader.NONE else header.value.encode()


def _real_ip(raw: str, peer: str | None, chain: str, policy: ProxyPolicy) -> ResolvedAddress:
    # The proxy overwrites X-Real-IP with the address it saw: exactly one value, taken as it is, even if
    # it is a trusted host. Two values mean a client-sent header got through, which we cannot untangle.
    if "," in raw:
        return ResolvedAddress(None, peer, chain, "several X-Real-IP values")
    address = _parse_entry(raw, policy.ports_allowed)
    if address is None:
        return ResolvedAddress(None, peer, chain, f"malformed forwarded entry {_quote(raw.strip())}")
    return ResolvedAddress(str(address), peer, chain)


def _parse_entry(entry: str, ports_allowed: bool) -> IPAddress | None:
    """One X-Forwarded-For / X-Real-IP entry: an address, ``[v6]``, or with ports allowed ``v4:port``/``[v6]:port``."""
    entry = entry.strip()
    if entry.startswith("["):
        host, bracket, port = entry[1:].partition("]")
        if not bracket or (port and not (ports_allowed and port[:1] == ":" and _valid_port(port[1:]))):
            return None
        return parse_address(host)
    if entry.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has at least two colons
        if not ports_allowed:
            return None
        host, _, port = entry.partition(":")
        return parse_address(host) if _valid_port(port) and "." in host else None
    return parse_address(entry)


def _forwarded_for(element: str) -> IPAddress | None:
    """The ``for=`` node of one RFC 7239 element (``for=192.0.2.60;proto=https``), or None if absent or not an IP.

    A quoted value holding a comma or semicolon is split apart and fails to parse, which is the safe outcome.
    """
    value: str | None = None
    for pair in element.split(";"):
        key, equals, text = pair.partition("=")
        if equals and key.strip().lower() == "for":
            if value is not None:
                return None  # two for= in one element: ambiguous
            value = text.strip()
    if not value:
        return None
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if value.lower() == "unknown" or value.startswith("_"):  # RFC 7239 section 6: unknown or obfuscated node
        return None
    if value.startswith("["):
        host, bracket, port = value[1:].partition("]")
        if not bracket or (port and not (port[:1] == ":" and _valid_node_port(port[1:]))):
            return None
        return parse_address(host)
    if ":" in value:  # IPv4 with a port; an IPv6 node must be bracketed (and quoted)
        host, _, port = value.partition(":")
        return parse_address(host) if _valid_node_port(port) and "." in host else None
    return parse_address(value)


def _valid_port(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 5 and int(text) <= 65535


def _valid_node_port(text: str) -> bool:
    # RFC 7239 node-port: a port number or an obfuscated "_token".
    if text.startswith("_"):
        return len(text) > 1 and all(ch.isascii() and (ch.isalnum() or ch in "._-") for ch in text[1:])
    return _valid_port(text)


def _chain(lines: Sequence[bytes]) -> str:
    """The first CHAIN_LIMIT characters of the joined header lines, without joining an oversized header whole."""
    parts: list[bytes] = []
    size = 0
    for line in lines:
        parts.append(line[: CHAIN_LIMIT - size])
        size += len(parts[-1]) + 2
        if size >= CHAIN_LIMIT:
            break
    return b", ".join(parts).decode("latin-1")[:CHAIN_LIMIT]


def _quote(text: str) -> str:
    return repr(text if len(text) <= _ENTRY_LIMIT else text[:_ENTRY_LIMIT] + "…")
