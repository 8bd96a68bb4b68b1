"""The client-address resolver: reference table 9.4 (X1-X20) plus the corners of each header family."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from sebframe.api.exam.app import ExamApi
from sebframe.core.net import (
    CHAIN_LIMIT,
    ForwardedHeader,
    ProxyPolicy,
    ResolvedAddress,
    client_address,
    parse_address,
    resolve,
)
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.web import pages

Headers = list[tuple[bytes, bytes]]

EDGE = ProxyPolicy(trusted=(ipaddress.ip_network("10.0.0.2/32"),))
TWO_PROXIES = ProxyPolicy(trusted=(ipaddress.ip_network("10.0.0.2/32"), ipaddress.ip_network("10.0.0.3/32")))
WHOLE_TEN = ProxyPolicy(trusted=(ipaddress.ip_network("10.0.0.0/8"),))
WITH_PORTS = ProxyPolicy(trusted=EDGE.trusted, ports_allowed=True)
FORWARDED = ProxyPolicy(trusted=EDGE.trusted, header=ForwardedHeader.FORWARDED)


def xff(*values: str) -> Headers:
    return [(b"x-forwarded-for", value.encode("latin-1")) for value in values]


# (peer, headers, policy, expected client); None means unresolvable.
TABLE_9_4 = [
    pytest.param("203.0.113.9", xff("10.1.2.3"), EDGE, "203.0.113.9", id="X1"),
    pytest.param("10.0.0.2", xff("198.51.100.7"), EDGE, "198.51.100.7", id="X2"),
    pytest.param("10.0.0.2", xff("10.1.2.3, 198.51.100.7"), EDGE, "198.51.100.7", id="X3"),
    pytest.param("10.0.0.2", xff("10.1.2.3", "198.51.100.7"), EDGE, "198.51.100.7", id="X4"),
    pytest.param("10.0.0.2", xff("198.51.100.7, 10.0.0.3"), TWO_PROXIES, "198.51.100.7", id="X5"),
    pytest.param("10.0.0.2", xff("unknown"), EDGE, None, id="X6"),
    pytest.param("10.0.0.2", xff(""), EDGE, None, id="X7"),
    pytest.param("10.0.0.2", xff("1.2.3.4, , 5.6.7.8"), EDGE, "5.6.7.8", id="X8"),
    pytest.param("10.0.0.2", xff("5.6.7.8, "), EDGE, None, id="X9"),
    pytest.param("10.0.0.2", xff("198.51.100.7:5555"), WITH_PORTS, "198.51.100.7", id="X10-v4-port-allowed"),
    pytest.param("10.0.0.2", xff("[2001:db8::7]:443"), WITH_PORTS, "2001:db8::7", id="X10-v6-port-allowed"),
    pytest.param("10.0.0.2", xff("198.51.100.7:5555"), EDGE, None, id="X10-v4-port-refused"),
    pytest.param("10.0.0.2", xff("[2001:db8::7]:443"), EDGE, None, id="X10-v6-port-refused"),
    pytest.param("10.0.0.2", xff("198.51.100.007"), EDGE, None, id="X11"),
    pytest.param("::ffff:10.0.0.2", xff("198.51.100.7"), EDGE, "198.51.100.7", id="X12"),
    # Misconfigured: the lab is inside the trusted range, so the forged left-most entry wins (lint W105).
    pytest.param("10.0.0.2", xff("10.9.9.9, 10.1.2.3"), WHOLE_TEN, "10.9.9.9", id="X13"),
    pytest.param("10.0.0.2", [(b"forwarded", b'for=192.0.2.60;proto=https, for="[2001:db8:cafe::17]:4711"')],
                 FORWARDED, "2001:db8:cafe::17", id="X15"),
    pytest.param("10.0.0.2", [(b"forwarded", b"for=_hidden")], FORWARDED, None, id="X16-hidden"),
    pytest.param("10.0.0.2", [(b"forwarded", b"for=unknown")], FORWARDED, None, id="X16-unknown"),
    pytest.param("10.0.0.2", [(b"forwarded", b"for=10.1.2.3"), (b"x-real-ip", b"10.1.2.3"),
                              (b"x-forwarded-for", b"198.51.100.7")], EDGE, "198.51.100.7", id="X17"),
    pytest.param("10.0.0.2", xff("1.2.3.4|evt_code=38|outcome=success"), EDGE, None, id="X18"),
    pytest.param("10.0.0.2", xff(", ".join(f"198.51.{n // 256}.{n % 256}" for n in range(10_000))), EDGE, None,
                 id="X19"),
    pytest.param("10.0.0.2", [], EDGE, "10.0.0.2", id="X20"),
]


@pytest.mark.parametrize(("peer", "headers", "policy", "expected"), TABLE_9_4)
def test_reference_table(peer: str, headers: Headers, policy: ProxyPolicy, expected: str | None) -> None:
    resolved = resolve(peer, headers, policy)
    assert resolved.client == expected
    if expected is None:
        assert resolved.problem


def test_x1_forwarding_from_an_untrusted_peer_is_flagged() -> None:
    resolved = resolve("203.0.113.9", xff("10.1.2.3"), EDGE)
    assert resolved == ResolvedAddress("203.0.113.9", "203.0.113.9", "", untrusted_forwarding=True)


def test_x6_problem_and_chain_explain_the_refusal() -> None:
    resolved = resolve("10.0.0.2", xff("unknown"), EDGE)
    assert resolved == ResolvedAddress(None, "10.0.0.2", "unknown", "malformed forwarded entry 'unknown'")


@pytest.mark.parametrize("trusted", ["*", "0.0.0.0/0", "::/0", "10.0.0.2, ::/0", "::ffff:0:0/96"],
                         ids=["X14-star", "X14-v4-all", "X14-v6-all", "X14-in-a-list", "X14-all-mapped"])
def test_x14_trusting_everything_is_refused(monkeypatch: pytest.MonkeyPatch, trusted: str) -> None:
    monkeypatch.setenv("SEBFRAME_TRUSTED_PROXIES", trusted)
    with pytest.raises(ValueError, match="would trust every address"):
        Settings()


def test_x18_the_forged_chain_is_kept_verbatim_for_the_audit() -> None:
    resolved = resolve("10.0.0.2", xff("1.2.3.4|evt_code=38|outcome=success"), EDGE)
    assert resolved.chain == "1.2.3.4|evt_code=38|outcome=success"


def test_x19_the_byte_cap_fires_before_any_entry_is_parsed() -> None:
    huge = ", ".join(f"198.51.{n // 256}.{n % 256}" for n in range(10_000))
    assert len(huge) > 64 * 1024
    resolved = resolve("10.0.0.2", xff(huge), EDGE)
    assert resolved.problem == "x-forwarded-for header exceeds 8192 bytes"
    assert resolved.chain == huge[:CHAIN_LIMIT]


def test_the_hop_cap_bounds_a_long_chain_of_trusted_hops() -> None:
    policy = ProxyPolicy(trusted=WHOLE_TEN.trusted, max_header_bytes=1 << 20)
    chain = ", ".join(f"10.1.{n // 256}.{n % 256}" for n in range(10_000))
    resolved = resolve("10.0.0.2", xff(chain), policy)
    assert (resolved.client, resolved.problem) == (None, "more than 8 trusted proxy hops")
    assert resolve("10.0.0.2", xff(", ".join(["10.1.1.1"] * 8)), policy).client == "10.1.1.1"  # 8 hops are fine


@pytest.mark.parametrize(("peer", "values", "expected"), [
    ("192.0.2.7", [], "192.0.2.7"),                                   # no proxy
    ("192.0.2.7", ["203.0.113.9"], "192.0.2.7"),                       # header from untrusted peer ignored
    ("10.0.0.1", ["203.0.113.9"], "203.0.113.9"),                      # trusted proxy
    ("10.0.0.1", ["6.6.6.6, 203.0.113.9"], "203.0.113.9"),             # spoofed left entry not read
    ("10.0.0.1", ["203.0.113.9, 10.0.0.2"], "203.0.113.9"),            # chain of trusted proxies
    ("10.0.0.1", ["1.2.3.4, , 5.6.7.8"], "5.6.7.8"),                   # garbage left of the client
    ("10.0.0.1", ["unknown"], None),                                    # fail closed
    ("10.0.0.1", ["203.0.113.9, garbage"], None),
    ("10.0.0.1", ["6.6.6.6", "203.0.113.9"], "203.0.113.9"),           # several header lines joined
    ("::ffff:192.0.2.7", [], "192.0.2.7"),                             # IPv4-mapped normalised
    ("10.0.0.1", ["[2001:db8::1]"], "2001:db8::1"),                    # brackets without a port
    ("10.0.0.1", ["2001:db8::1"], "2001:db8::1"),
    ("10.0.0.1", ["::ffff:198.51.100.7"], "198.51.100.7"),             # forwarded entries normalised too
    ("10.0.0.1", ["fe80::1%eth0"], "fe80::1"),                         # zone dropped
    ("10.0.0.1", ["10.0.0.2"], "10.0.0.2"),                            # all trusted: the left-most
    ("testclient", [], None),                                           # Starlette's TestClient default
    ("", [], None),
])
def test_x_forwarded_for(peer: str, values: list[str], expected: str | None) -> None:
    policy = ProxyPolicy(trusted=(ipaddress.ip_network("10.0.0.0/30"),))
    assert resolve(peer, xff(*values), policy).client == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("198.51.100.7:0", "198.51.100.7"),
    ("198.51.100.7:65535", "198.51.100.7"),
    ("198.51.100.7:65536", None),
    ("198.51.100.7:", None),
    ("198.51.100.7:8¹", None),                                          # isdigit() but not a port
    ("[2001:db8::7]", "2001:db8::7"),
    ("[2001:db8::7]443", None),
    ("[2001:db8::7", None),
])
def test_ports_when_allowed(value: str, expected: str | None) -> None:
    assert resolve("10.0.0.2", xff(value), WITH_PORTS).client == expected


@pytest.mark.parametrize(("values", "expected"), [
    (['for="192.0.2.60:8080"'], "192.0.2.60"),
    (['For="[2001:db8::9]:_port"'], "2001:db8::9"),                    # case-insensitive key, obfuscated port
    (["for=198.51.100.7;by=10.0.0.2;proto=https"], "198.51.100.7"),
    (["for=10.1.2.3", "for=198.51.100.7"], "198.51.100.7"),             # two lines joined in order
    (["for=198.51.100.7, for=10.0.0.2"], "198.51.100.7"),               # a trusted hop is skipped
    (["for=2001:db8::9"], None),                                         # IPv6 must be bracketed
    (["proto=https"], None),                                             # no for= at all
    (["for=1.2.3.4;for=5.6.7.8"], None),                                 # two for= in one element
    (['for=""'], None),
    (['for="[2001:db8::9]:x"'], None),
])
def test_forwarded_mode(values: list[str], expected: str | None) -> None:
    headers = [(b"forwarded", value.encode()) for value in values]
    assert resolve("10.0.0.2", headers, FORWARDED).client == expected


@pytest.mark.parametrize(("headers", "ports", "expected"), [
    ([(b"x-real-ip", b"198.51.100.7")], False, "198.51.100.7"),
    ([(b"x-real-ip", b"10.0.0.2")], False, "10.0.0.2"),                 # the single value, even if trusted
    ([(b"x-real-ip", b"198.51.100.7:443")], False, None),
    ([(b"x-real-ip", b"198.51.100.7:443")], True, "198.51.100.7"),
    ([(b"x-real-ip", b"10.1.2.3"), (b"x-real-ip", b"198.51.100.7")], False, None),  # a client-sent copy got through
    ([(b"x-real-ip", b"unknown")], False, None),
    ([(b"x-forwarded-for", b"198.51.100.7")], False, "10.0.0.2"),      # other families are ignored
])
def test_x_real_ip_mode(headers: Headers, ports: bool, expected: str | None) -> None:
    policy = ProxyPolicy(trusted=EDGE.trusted, header=ForwardedHeader.X_REAL_IP, ports_allowed=ports)
    assert resolve("10.0.0.2", headers, policy).client == expected


def test_mode_none_ignores_forwarding_even_from_a_trusted_peer() -> None:
    policy = ProxyPolicy(trusted=EDGE.trusted, header=ForwardedHeader.NONE)
    resolved = resolve("10.0.0.2", xff("198.51.100.7"), policy)
    assert resolved == ResolvedAddress("10.0.0.2", "10.0.0.2", "", untrusted_forwarding=True)


@pytest.mark.parametrize("name", [b"x-forwarded-for", b"forwarded", b"x-real-ip"])
def test_any_forwarding_family_from_an_untrusted_peer_is_flagged(name: bytes) -> None:
    assert resolve("203.0.113.9", [(b"host", b"seb"), (name, b"10.1.2.3")], ProxyPolicy()).untrusted_forwarding
    assert not resolve("203.0.113.9", [(b"host", b"seb")], ProxyPolicy()).untrusted_forwarding


def test_the_chain_is_truncated_and_the_peer_normalised() -> None:
    values = [", ".join(["198.51.100.7"] * 40), "203.0.113.9"]
    resolved = resolve("::ffff:10.0.0.2", xff(*values), EDGE)
    assert resolved.client == "203.0.113.9"
    assert resolved.peer == "10.0.0.2"
    assert resolved.chain == ", ".join(values)[:CHAIN_LIMIT]


def test_client_address_of_a_starlette_request() -> None:
    scope = {"type": "http", "client": ("10.0.0.2", 443), "headers": xff("198.51.100.7")}
    assert client_address(Request(scope), EDGE) == "198.51.100.7"
    assert client_address(Request({"type": "http", "client": None, "headers": []}), EDGE) is None


def test_parse_address_refuses_what_is_not_a_plain_literal() -> None:
    assert [parse_address(text) for text in ("127.1", "1.2.3.4:80", "01.2.3.4", "host")] == [None] * 4
    assert str(parse_address(" [::ffff:10.0.0.1] ")) == "10.0.0.1"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "data", secret_key="test-secret-key-0123456789",
                    load_entrypoint_plugins=False, trusted_proxies=["10.0.0.2"])


@pytest.mark.anyio
async def test_exam_api_and_web_use_the_configured_policy(services: Services) -> None:
    api = ExamApi(services)
    scope = {"type": "http", "client": ("::ffff:10.0.0.2", 443), "headers": xff("10.1.2.3, 198.51.100.7")}
    assert api._resolved(scope) == ResolvedAddress("198.51.100.7", "10.0.0.2", "10.1.2.3, 198.51.100.7")
    assert api._resolved(scope).client == "198.51.100.7"
    assert api._resolved({**scope, "headers": xff("unknown")}).client is None

    app = Starlette()
    app.state.services = services
    request = Request({**scope, "app": app})
    assert pages.client_address(request) == "198.51.100.7"
    assert pages.client_address(Request({**scope, "app": app, "headers": xff("unknown")})) == "unknown"
