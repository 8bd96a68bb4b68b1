"""Errors raised by services; the web UI and the JSON APIs map them to status codes and messages.

    SebframeError
    ├── NotFound            unknown id, or an id the caller may not see (never tells which)  → 404
    ├── PermissionDenied    the caller can see the entity but lacks the privilege            → 403
    ├── ValidationFailed    bad input; carries per-field messages                             → 422
    ├── Conflict            the request clashes with current state (e.g. unique name)         → 409
    ├── AuthenticationFailed wrong credentials, inactive account, expired token               → 401
    └── TooManyAttempts     login throttling                                                  → 429
"""

from __future__ import annotations

from collections.abc import Mapping


class SebframeError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(SebframeError):
    status_code = 404


class PermissionDenied(SebframeError):
    status_code = 403


class Conflict(SebframeError):
    status_code = 409


class AuthenticationFailed(SebframeError):
    status_code = 401


class TooManyAttempts(SebframeError):
    status_code = 429

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ValidationFailed(SebframeError):
    """Input rejected; ``field_errors`` maps a form field name to the message shown below it."""

    status_code = 422

    def __init__(self, field_errors: Mapping[str, str], message: str | None = None) -> None:
        self.field_errors = dict(field_errors)
        if message is None:
            message = "; ".join(f"{field}: {text}" for field, text in self.field_errors.items()) or "invalid input"
        super().__init__(message)
