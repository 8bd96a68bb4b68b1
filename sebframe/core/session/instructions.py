"""Instructions a SEB client receives as the answer to a ping, with SEB Server's exact JSON and lifetime."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

# Instructions older than this are dropped undelivered (SEB Server's one-minute cleanup).
INSTRUCTION_TTL_MS = 60_000
# Per-connection queue length; the oldest is dropped when full (SEB Server's ``SizedArrayNonBlockingQueue``).
MAX_QUEUED = 10
CONFIRM_ATTRIBUTE = "instruction-confirm"


class InstructionType(StrEnum):
    SEB_QUIT = "SEB_QUIT"
    SEB_FORCE_LOCK_SCREEN = "SEB_FORCE_LOCK_SCREEN"
    NOTIFICATION_CONFIRM = "NOTIFICATION_CONFIRM"
    SEB_PROCTORING = "SEB_PROCTORING"
    SEB_RECONFIGURE_SETTINGS = "SEB_RECONFIGURE_SETTINGS"


# Proctoring joins and reconfigurations are re-sent until the client confirms them; the rest go once.
CONFIRMED_TYPES = frozenset({InstructionType.SEB_PROCTORING, InstructionType.SEB_RECONFIGURE_SETTINGS})


@dataclass(slots=True)
class Instruction:
    id: int
    type: str
    attributes: Mapping[str, str] | None  # None: no "attributes" key at all (automated quit)
    needs_confirmation: bool
    created_ms: int
    body: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.body = instruction_json(self.type, self.attributes)

    def expired(self, now_ms: int) -> bool:
        return now_ms - self.created_ms > INSTRUCTION_TTL_MS


def instruction_json(instruction_type: str, attributes: Mapping[str, str] | None) -> bytes:
    """``{"instruction":"T"}`` or ``{"instruction":"T","attributes":{...}}`` with string values."""
    if attributes is None:
        return json.dumps({"instruction": instruction_type}, separators=(",", ":")).encode()
    return json.dumps({"instruction": instruction_type, "attributes": dict(attributes)},
                      separators=(",", ":"), ensure_ascii=False).encode()


def encode_attributes(attributes: Mapping[str, str] | None) -> str:
    return "" if attributes is None else json.dumps(dict(attributes), ensure_ascii=False)


def decode_attributes(text: str) -> dict[str, str] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
