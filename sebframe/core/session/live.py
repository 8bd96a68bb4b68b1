"""A SEB client connection as one server process holds it in memory while the client pings."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sebframe.core.db.models import ClientConnection, ConnectionStatus
from sebframe.core.session.instructions import MAX_QUEUED, Instruction


@dataclass(slots=True, eq=False)
class LiveConnection:
    id: int
    token: str
    institution_id: int
    exam_id: int | None
    status: ConnectionStatus
    changed_ms: int
    created_ms: int
    client_address: str | None = None
    user_session_id: str | None = None
    lms_user_session_id: str | None = None
    last_ping_ms: int | None = None
    pending_notifications: int = 0
    instructions: deque[Instruction] = field(default_factory=lambda: deque(maxlen=MAX_QUEUED))
    quit_logged: bool = False  # the automated quit was logged once; later quits are silent
    ping_dirty: bool = False  # pinged since the last flush
    address_dirty: bool = False  # pinged from a new address since the last flush

    @classmethod
    def from_row(cls, row: ClientConnection) -> LiveConnection:
        return cls(id=row.id, token=row.connection_token, institution_id=row.institution_id, exam_id=row.exam_id,
                   status=ConnectionStatus(row.status), changed_ms=row.changed_ms, created_ms=row.created_ms,
                   client_address=row.client_address, user_session_id=row.user_session_id,
                   lms_user_session_id=row.lms_user_session_id, last_ping_ms=row.last_ping_ms)

    def refresh(self, row: ClientConnection | Any) -> None:
        """Take over what another process (or a handshake call) changed; keep the newer local ping."""
        self.exam_id = row.exam_id
        self.status = ConnectionStatus(row.status)
        self.changed_ms = row.changed_ms
        self.client_address = row.client_address
        self.user_session_id = row.user_session_id
        self.lms_user_session_id = row.lms_user_session_id
        if row.last_ping_ms is not None and (self.last_ping_ms is None or row.last_ping_ms > self.last_ping_ms):
            self.last_ping_ms = row.last_ping_ms

    def enqueue(self, instruction: Instruction) -> None:
        if any(queued.id == instruction.id for queued in self.instructions if instruction.id):
            return
        self.instructions.append(instruction)

    def next_instruction(self, now_ms: int) -> Instruction | None:
        """The next unexpired instruction; ones needing confirmation go back to the tail until confirmed."""
        while self.instructions:
            instruction = self.instructions.popleft()
            if instruction.expired(now_ms):
                continue
            if instruction.needs_confirmation:
                self.instructions.append(instruction)
            return instruction
        return None

    def confirm(self, instruction_id: int) -> Instruction | None:
        for instruction in self.instructions:
            if instruction.id == instruction_id:
                self.instructions.remove(instruction)
                return instruction
        return None

