"""``python -m bench.location_check``: how many client addresses per second one compiled IP profile checks.

Builds a realistic profile of N rules (room /24 ALLOWs, single-seat BLOCKs, Moodle-style ranges, a few gapped
wildcards, IPv6 /64 rooms, and a closing ``BLOCK *``), parses and compiles it, then measures checks per second on
a prepared list of client addresses: ``parse_address`` + ``match`` (what a request pays), ``match`` alone, and the
rule-by-rule ``naive_match`` for comparison. In-process and single-threaded; no server is involved.
"""

from __future__ import annotations

import argparse
import ipaddress
import platform
import random
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from sebframe.core.location.rules import Action, compile_profile, naive_match, parse_profile
from sebframe.core.net import parse_address

T = TypeVar("T")


def build_profile(rules: int, rng: random.Random) -> str:
    """Profile text with about ``rules`` rules, in the shares a campus with many pool rooms would write.

    Labels are short so that even 2,000 rules stay within the 64 KiB a profile may have.
    """
    lines: list[str] = []
    rooms = max(1, rules * 55 // 100)
    for k in range(rooms):
        lines.append(f"ALLOW 10.{k // 256 % 256}.{k % 256}.0/24 room=R{k}")
    for _ in range(rules * 30 // 100):  # broken or reserved seats inside the rooms
        k = rng.randrange(rooms)
        seat = rng.randrange(1, 255)
        lines.append(f"BLOCK 10.{k // 256 % 256}.{k % 256}.{seat} seat={seat}")
    for j in range(rules * 8 // 100):  # Moodle last-octet ranges, e.g. a row of thin clients
        start = rng.randrange(0, 200)
        lines.append(f"ALLOW 172.16.{j % 256}.{start}-{start + rng.randrange(1, 55)} # row {j}")
    for d in range(min(5, max(1, rules // 200))):  # gapped wildcards: the same host number in every lab
        lines.append(f"ALLOW 192.168.*.{10 + d}")
    for j in range(rules * 6 // 100):
        lines.append(f"ALLOW 2001:db8:{j:x}::/64 room=V{j}")
    lines.append("BLOCK *")
    return "\n".join(lines)


def client_addresses(count: int, rooms: int, rng: random.Random) -> list[str]:
    """Client addresses as a server sees them: mostly lab seats, some outsiders, IPv6 and IPv4-mapped peers."""
    clients = []
    for _ in range(count):
        kind = rng.random()
        k = rng.randrange(rooms)
        if kind < 0.65:
            clients.append(f"10.{k // 256 % 256}.{k % 256}.{rng.randrange(1, 255)}")
        elif kind < 0.70:
            clients.append(f"::ffff:10.{k // 256 % 256}.{k % 256}.{rng.randrange(1, 255)}")
        elif kind < 0.75:
            clients.append(f"172.16.{rng.randrange(256)}.{rng.randrange(256)}")
        elif kind < 0.78:
            clients.append(f"192.168.{rng.randrange(256)}.{rng.randrange(8, 16)}")
        elif kind < 0.88:
            clients.append(str(ipaddress.IPv4Address(rng.getrandbits(32))))
        elif kind < 0.95:
            clients.append(f"2001:db8:{rng.randrange(max(1, rooms // 8)):x}::{rng.getrandbits(16):x}")
        else:
            clients.append(str(ipaddress.IPv6Address(rng.getrandbits(128))))
    return clients


def per_second(check: Callable[[T], object], items: Sequence[T], seconds: float) -> float:
    """Calls of ``check`` per second over ``items``, repeated until ``seconds`` have passed."""
    done = 0
    start = time.perf_counter()
    while True:
        for item in items:
            check(item)
        done += len(items)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.location_check", description=__doc__.splitlines()[0])
    p.add_argument("--rules", type=int, default=1000, help="rules in the profile (default 1000)")
    p.add_argument("--seconds", type=float, default=3.0, help="measuring time per figure (default 3)")
    p.add_argument("--clients", type=int, default=10_000, help="prepared client addresses (default 10000)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    rng = random.Random(args.seed)

    text = build_profile(args.rules, rng)
    started = time.perf_counter()
    parsed = parse_profile(text)
    parse_ms = (time.perf_counter() - started) * 1000
    if not parsed.ok:
        raise SystemExit(f"generated profile has errors: {parsed.errors[:3]}")
    started = time.perf_counter()
    profile = compile_profile(parsed.rules)
    compile_ms = (time.perf_counter() - started) * 1000

    clients = client_addresses(args.clients, max(1, args.rules * 55 // 100), rng)
    addresses = [parse_address(client) for client in clients]
    mismatches = sum(profile.match(a) is not naive_match(parsed.rules, a) for a in addresses[:500])
    winners = [profile.match(address) for address in addresses]
    allowed = sum(rule is not None and rule.action is Action.ALLOW for rule in winners)

    with_parse = per_second(lambda client: profile.match(parse_address(client)), clients, args.seconds)
    match_only = per_second(profile.match, addresses, args.seconds)
    naive = per_second(lambda address: naive_match(parsed.rules, address), addresses[:200], min(args.seconds, 1.0))

    print(f"location check: {len(parsed.rules)} rules, {args.clients} client addresses "
          f"(Python {platform.python_version()}, {platform.machine()})")
    print(f"  compiled form          {profile.pieces}")
    print(f"  parse + lint           {parse_ms:9.1f} ms  ({len(parsed.warnings)} warnings)")
    print(f"  compile                {compile_ms:9.1f} ms")
    print(f"  parse_address + match  {with_parse:12,.0f} checks/s  ({1e6 / with_parse:.2f} µs each)")
    print(f"  match alone            {match_only:12,.0f} checks/s  ({1e6 / match_only:.2f} µs each)")
    print(f"  naive_match (reference){naive:12,.0f} checks/s  ({1e6 / naive:.2f} µs each)")
    print(f"  allowed {allowed / len(addresses):.0%} of the clients; compiled vs naive mismatches: {mismatches}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
