from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest

from sebframe.core.net import resolve_client_address
from sebframe.settings import Settings, normalise_database_url

PROXY = [ipaddress.ip_network("10.0.0.0/30")]


def test_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = settings.resolved_secret_key()
    assert len(first) >= 48
    assert Settings(data_dir=tmp_path / "data").resolved_secret_key() == first
    mode = (tmp_path / "data" / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SEBFRAME_DATABASE_URL", "postgresql://u:p@db/sebframe")
    monkeypatch.setenv("SEBFRAME_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/24")
    monkeypatch.setenv("SEBFRAME_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.resolved_database_url == "postgresql+asyncpg://u:p@db/sebframe"
    assert [str(n) for n in settings.trusted_proxy_networks] == ["10.0.0.1/32", "192.168.0.0/24"]


def test_bad_trusted_proxy_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEBFRAME_TRUSTED_PROXIES", "10.0.0.1, not-an-ip")
    with pytest.raises(ValueError, match="not-an-ip"):
        Settings()


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ("mariadb://root@127.0.0.1/db", "mysql+aiomysql://root@127.0.0.1/db?charset=utf8mb4"),
    ("postgresql+asyncpg://h/db", "postgresql+asyncpg://h/db"),
])
def test_database_urls_get_their_async_driver(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected


def test_unknown_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database"):
        normalise_database_url("oracle://x")


@pytest.mark.parametrize(("peer", "xff", "expected"), [
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
    ("10.0.0.1", ["[2001:db8::1]"], "2001:db8::1"),
    ("testclient", [], None),
])
def test_client_address_resolution(peer: str, xff: list[str], expected: str | None) -> None:
    assert resolve_client_address(peer, xff, PROXY) == expected
