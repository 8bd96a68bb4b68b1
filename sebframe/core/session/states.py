"""SEB Server's connection states (``ClientConnection.ConnectionStatus``) and the sets the rules use."""

from __future__ import annotations

from enum import StrEnum

from sebframe.core.exams.connections import ACTIVE_STATE_NAMES


class ConnectionStatus(StrEnum):
    CONNECTION_REQUESTED = "CONNECTION_REQUESTED"
    READY = "READY"
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"
    DISABLED = "DISABLED"  # shown as "Canceled"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def client_active(self) -> bool:
        """Handshake calls are allowed and the connection can be missing (SEB Server's ``clientActiveStatus``)."""
        return self in ACTIVE_STATES


ACTIVE_STATES = frozenset({ConnectionStatus.CONNECTION_REQUESTED, ConnectionStatus.READY, ConnectionStatus.ACTIVE})
assert {state.value for state in ACTIVE_STATES} == set(ACTIVE_STATE_NAMES)

_LABELS = {
    ConnectionStatus.CONNECTION_REQUESTED: "Connecting",
    ConnectionStatus.READY: "Ready",
    ConnectionStatus.ACTIVE: "Active",
    ConnectionStatus.CLOSED: "Closed",
    ConnectionStatus.DISABLED: "Canceled",
}
