"""Exam-API failures with SEB Server's status codes and ``APIMessage`` bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sebframe.types import AdmissionDecision


@dataclass
class ExamApiError(Exception):
    """Sent as ``[{"messageCode":..,"systemMessage":..,"details":..,"attributes":[]}]``."""

    status: int
    message_code: str
    system_message: str
    details: str

    def body(self) -> bytes:
        return json.dumps([{"messageCode": self.message_code, "systemMessage": self.system_message,
                            "details": self.details, "attributes": []}]).encode()


def illegal_argument(details: str) -> ExamApiError:
    return ExamApiError(400, "1010", "Illegal API request argument", details)


def not_found(details: str) -> ExamApiError:
    return ExamApiError(404, "1002", "resource not found", details)


def forbidden(details: str) -> ExamApiError:
    return ExamApiError(403, "1001", "FORBIDDEN", details)


def unexpected(details: str) -> ExamApiError:
    return ExamApiError(500, "1100", "Unexpected internal server-side error", details)


@dataclass
class AdmissionRefused(Exception):
    """A plugin's admission check refused the client at a handshake step: 403 with the reason."""

    decision: AdmissionDecision
    check_name: str

    def body(self) -> bytes:
        body = {**self.decision.details, "error": self.decision.code or "admission_denied",
                "message": self.decision.reason or "access to this exam is not allowed"}
        return json.dumps(body).encode()
