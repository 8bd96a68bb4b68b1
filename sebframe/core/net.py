"""The client address of a request: the socket peer, or a forwarded address vouched for by a trusted proxy.

Forwarded headers are believed only when the socket peer is a configured trusted proxy. The
``X-Forwarded-For`` chain is then walked from the right and the first untrusted entry is the client;
entries left of it are written by the client and never read. A malformed entry fails closed (``None``).
This is the one resolver used wherever the server records a client address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_FORWARDED_BYTES = 8 * 1024
MAX_HOPS = 8


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


def _trusted(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def resolve_client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted_proxies: Sequence[IPNetwork]
) -> str | None:
    """Resolve the client address; ``forwarded_for`` are all X-Forwarded-For header lines, in order."""
    if peer is None:
        return None
    peer_address = parse_address(peer)
    if peer_address is None:
        return None
    lines = list(forwarded_for)
    if not lines or not _trusted(peer_address, trusted_proxies):
        return str(peer_address)
    joined = ",".join(lines)
    if len(joined.encode()) > MAX_FORWARDED_BYTES:
        return None
    entries = [entry.strip() for entry in joined.split(",")]
    hops = 0
    for entry in reversed(entries):
        address = parse_address(entry)
        if address is None:
            return None  # "unknown", empty or garbage where we must decide: fail closed
        if not _trusted(address, trusted_proxies):
            return str(address)
        hops += 1
        if hops >= MAX_HOPS:
            return None
    first = parse_address(entries[0])
    return str(first) if first is not None else None
