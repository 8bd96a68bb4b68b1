"""Server settings, read from the environment (prefix ``SEBFRAME_``) and the data directory."""

from __future__ import annotations

import ipaddress
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sebframe.core.net import ForwardedHeader, IPNetwork, ProxyPolicy
from sebframe.core.private_files import ensure_private_dir, write_private_file

SECRET_KEY_FILE = "secret_key"


class Settings(BaseSettings):
    """Everything an operator can set. Unset secrets are generated once and kept in the data directory."""

    model_config = SettingsConfigDict(env_prefix="SEBFRAME_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Where the embedded database and keys live.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is SQLite in the data directory. "
        "postgresql://, mysql:// and mariadb:// URLs get their async driver added.",
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Signs flash cookies and encrypts secrets at rest; generated on first run."
    )
    old_secret_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated previous secret keys, still used to read secrets stored before a rotation.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses/CIDRs of the reverse proxies whose forwarding header is believed.",
    )
    forwarded_header: ForwardedHeader = Field(
        default=ForwardedHeader.X_FORWARDED_FOR,
        description="The one header a trusted proxy writes the client address into: x-forwarded-for, "
        "forwarded (RFC 7239), x-real-ip, or none (always use the socket peer).",
    )
    forwarded_ports_allowed: bool = Field(
        default=False, description="Accept addresses with a port (1.2.3.4:5555, [2001:db8::7]:443) in that header.",
    )
    registration_enabled: bool = Field(default=True, description="Allow self-registration as exam supporter.")
    session_max_age_seconds: int = Field(default=8 * 3600, ge=60)
    https_only_cookies: bool = Field(default=False, description="Always mark cookies Secure (they are over HTTPS).")
    login_max_failures: int = Field(default=5, ge=1, description="Failed sign-ins before a lockout.")
    login_lockout_seconds: int = Field(default=300, ge=1)
    disable_plugins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated plugin names not to load."
    )
    load_entrypoint_plugins: bool = Field(default=True, description="Load installed plugin distributions.")
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    external_url: str | None = Field(
        default=None,
        description="The address SEB clients reach this server at (written into exported connection "
        "configurations as sebServerURL), e.g. https://seb.example.org; default: the address of the request.",
    )
    exam_refresh_interval_seconds: float = Field(
        default=60.0, ge=0,
        description="How often imported exams are refreshed from their LMS and their status updated; 0: never.",
    )
    session_sync_interval_seconds: float = Field(
        default=1.0, gt=0, le=10,
        description="How often a server process writes pings and reads what other processes changed "
        "(instructions, connection states, revoked tokens).",
    )
    session_supervision_interval_seconds: float = Field(
        default=5.0, gt=0, le=60, description="How often missing pings and security grants are checked.",
    )
    bench_endpoint: bool = Field(
        default=False, description="Expose POST /bench/bare (answers 204) as the load generator's baseline.",
    )
    max_header_line_bytes: int = Field(
        default=8 * 1024, ge=1024,
        description="Longest request target (answered 414 beyond) or header line, name, ': ' and value "
        "(431 beyond).",
    )
    max_header_count: int = Field(default=100, ge=10, description="Most header lines in a request (431 beyond).")
    max_request_head_bytes: int = Field(
        default=64 * 1024, ge=4 * 1024,
        description="Largest request head: the request target and all header lines (431 beyond).",
    )
    access_log: bool = Field(
        default=False, description="Log every request (uvicorn's access log); errors are logged either way.",
    )
    log_level: str = "INFO"

    @field_validator("trusted_proxies", "disable_plugins", "old_secret_keys", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("external_url")
    @classmethod
    def _external_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        scheme, _, rest = value.partition("://")
        if scheme not in ("http", "https") or not rest or any(ch.isspace() for ch in value):
            raise ValueError(f"external URL {value!r} must be an http:// or https:// address")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            network = None
            if entry != "*":
                try:
                    network = _unmapped(ipaddress.ip_network(entry, strict=False))
                except ValueError as exc:
                    raise ValueError(f"trusted proxy {entry!r} is not an IP address or CIDR network") from exc
            if network is None or network.prefixlen == 0:
                # With every peer trusted, any client can write the address it wants into the header.
                raise ValueError(f"trusted proxy {entry!r} would trust every address, so any client could forge "
                                 "its address; list the exact addresses of your reverse proxies")
        return value

    @field_validator("forwarded_header", mode="before")
    @classmethod
    def _header_name(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @cached_property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return tuple(_unmapped(ipaddress.ip_network(entry, strict=False)) for entry in self.trusted_proxies)

    @cached_property
    def proxy_policy(self) -> ProxyPolicy:
        return ProxyPolicy(trusted=self.trusted_proxy_networks, header=self.forwarded_header,
                           ports_allowed=self.forwarded_ports_allowed)

    @property
    def proxy_description(self) -> str:
        """The forwarding settings in words, as the location audit records them (code 1020)."""
        trusted = ", ".join(str(network) for network in self.trusted_proxy_networks) or "none"
        ports = ", ports allowed" if self.forwarded_ports_allowed else ""
        return f"trusted proxies: {trusted}; header: {self.forwarded_header.value}{ports}"

    @property
    def resolved_database_url(self) -> str:
        return normalise_database_url(self.database_url or f"sqlite:///{self.data_dir.resolve() / 'sebframe.db'}")

    def ensure_data_dir(self) -> Path:
        return ensure_private_dir(self.data_dir)

    def resolved_secret_key(self) -> str:
        """The configured key, or the one generated on first run and stored (mode 0600) in the data dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.ensure_data_dir() / SECRET_KEY_FILE
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        write_private_file(path, key.encode("ascii"), exclusive=True)
        return key


def _unmapped(network: IPNetwork) -> IPNetwork:
    """``::ffff:10.0.0.2`` as ``10.0.0.2``: socket peers are normalised that way, so the proxy list must be too."""
    mapped = ipaddress.IPv6Network("::ffff:0:0/96")
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96 and network.subnet_of(mapped):
        first = network.network_address.ipv4_mapped
        if first is not None:
            return ipaddress.IPv4Network((first, network.prefixlen - 96))
    return network


_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mariadb": "mysql+aiomysql",
}


_DRIVER_EXTRAS = {"postgresql": "postgres", "mysql": "mariadb"}


def missing_database_driver(url: str) -> str | None:
    """What to install when the driver of the (normalised) database ``url`` cannot be imported, else None."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import NoSuchModuleError

    parsed = make_url(url)
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        return f"SQLAlchemy knows no {backend} driver {driver!r}"
    try:
        dialect.import_dbapi()
    except ImportError:
        extra = _DRIVER_EXTRAS.get(backend)
        remedy = f"pip install 'sebframe[{extra}]'" if extra else f"install the Python package {driver}"
        return f"the {backend} driver {driver} is not installed: {remedy}"
    return None


def normalise_database_url(url: str) -> str:
    """Add the async driver to a plain URL so operators can write ``postgresql://…``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"database URL {url!r} has no scheme")
    if "+" in scheme:
        return url
    driver = _ASYNC_DRIVERS.get(scheme)
    if driver is None:
        raise ValueError(f"unsupported database {scheme!r}; use sqlite, postgresql or mariadb/mysql")
    url = f"{driver}://{rest}"
    if driver == "mysql+aiomysql" and "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    return url
