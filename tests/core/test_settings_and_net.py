from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest

from sebframe.core.net import ForwardedHeader, ProxyPolicy
from sebframe.settings import Settings, normalise_database_url


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


def test_proxy_policy_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEBFRAME_TRUSTED_PROXIES", "::ffff:10.0.0.2, 2001:db8::/64")
    monkeypatch.setenv("SEBFRAME_FORWARDED_HEADER", "X-Real-IP")
    monkeypatch.setenv("SEBFRAME_FORWARDED_PORTS_ALLOWED", "true")
    policy = Settings().proxy_policy
    # Peers are normalised to IPv4, so an IPv4-mapped proxy address must be too, or it would never match.
    assert policy.trusted == (ipaddress.ip_network("10.0.0.2/32"), ipaddress.ip_network("2001:db8::/64"))
    assert (policy.header, policy.ports_allowed) == (ForwardedHeader.X_REAL_IP, True)


def test_proxy_policy_defaults() -> None:
    assert Settings().proxy_policy == ProxyPolicy()


def test_unknown_forwarded_header_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEBFRAME_FORWARDED_HEADER", "client-ip")
    with pytest.raises(ValueError, match="forwarded_header"):
        Settings()
