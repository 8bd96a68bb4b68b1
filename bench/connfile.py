"""What a SEB client learns from its connection configuration file (SEBServerSettings.seb)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sebframe.core.sebconfig import decode_seb

DEFAULT_PING_INTERVAL_MS = 1000  # the Windows client's default


@dataclass(frozen=True)
class ConnectionSettings:
    server_url: str
    institution: str
    client_name: str
    client_secret: str
    discovery: str
    ping_interval_ms: int
    exam: str | None


def load_connection_file(path: Path, *, password: str | None = None,
                         server_url: str | None = None) -> ConnectionSettings:
    """Decode the ``.seb`` file like SEB does; ``server_url`` replaces its ``sebServerURL`` (e.g. another port)."""
    settings = decode_seb(path.read_bytes(), password=password).settings
    server = settings.get("sebServerConfiguration")
    if not isinstance(server, dict):
        raise ValueError(f"{path} is not a connection configuration: it has no sebServerConfiguration")
    try:
        exam = server.get("exam")
        return ConnectionSettings(
            server_url=server_url or settings["sebServerURL"],
            institution=str(server["institution"]),
            client_name=server["clientName"],
            client_secret=server["clientSecret"],
            discovery=server.get("apiDiscovery") or "/exam-api/discovery",
            ping_interval_ms=int(server.get("pingInterval") or DEFAULT_PING_INTERVAL_MS),
            exam=str(exam) if exam not in (None, "") else None,
        )
    except KeyError as exc:
        raise ValueError(f"{path} lacks the setting {exc.args[0]!r}") from None
