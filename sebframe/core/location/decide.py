"""The location decision for one client address: overrides, exceptions, then the exam's profiles (reference
§3.2). Pure: the caller brings a loaded ``ExamRestriction`` and the clock.

An address allowed by any of the exam's profiles is allowed (profiles are OR-ed; a BLOCK in one profile
cannot veto another). An exception with a substitute profile replaces the exam's profiles for that user. An
unresolvable address is denied.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sebframe.core.location.rules import Action, CompiledProfile, Rule
from sebframe.core.location.schemas import ExceptionKind, OverrideScope, PolicyMode, ViolationAction
from sebframe.core.net import IPAddress, parse_address


class Reason(StrEnum):
    ALLOW_RULE = "ALLOW_RULE"
    BLOCK_RULE = "BLOCK_RULE"
    NO_MATCH = "NO_MATCH"
    UNRESOLVABLE = "UNRESOLVABLE"
    EXCEPTION = "EXCEPTION"
    OVERRIDE = "OVERRIDE"
    UNRESTRICTED = "UNRESTRICTED"  # the exam has no profiles (or is suspended): nothing is checked


@dataclass(frozen=True, slots=True)
class ProfileVersion:
    """One version of a profile, compiled for checks."""

    profile_id: int
    version: int
    name: str
    help_text: str
    default_room: str
    compiled: CompiledProfile
    location_name: str = ""


@dataclass(frozen=True, slots=True)
class PlannedException:
    id: int
    kind: ExceptionKind
    name: str
    members: frozenset[str]  # case-folded user ids (a user exception: its one id)
    substitute: ProfileVersion | None
    valid_from: datetime | None
    valid_to: datetime | None

    def applies(self, user_ids: Iterable[str], now: datetime) -> bool:
        if (self.valid_from is not None and now < self.valid_from) or (self.valid_to is not None
                                                                       and now >= self.valid_to):
            return False
        return any(user.casefold() in self.members for user in user_ids if user)


@dataclass(frozen=True, slots=True)
class ActiveOverride:
    id: int
    scope: OverrideScope
    connection_id: int | None
    user: str | None  # case-folded; for a CONNECTION override the user it was granted for
    address: str | None
    expires_at: datetime

    def covers(self, connection_id: int | None, user_ids: Iterable[str], address: str | None,
               now: datetime) -> bool:
        if now >= self.expires_at:
            return False
        if self.scope is OverrideScope.CONNECTION:
            # This client at this address: a later move is not covered (it may be a hand-over). SEB starts a
            # new connection when the student presses Retry, so the same user at the same address counts too.
            if address is None or address != self.address:
                return False
            return (connection_id is not None and connection_id == self.connection_id) or self._user_in(user_ids)
        if self.scope is OverrideScope.USER:
            return self._user_in(user_ids)
        return address is not None and address == self.address

    def _user_in(self, user_ids: Iterable[str]) -> bool:
        return self.user is not None and any(user.casefold() == self.user for user in user_ids if user)


@dataclass(frozen=True, slots=True)
class ExamRestriction:
    """What a check of one exam needs, loaded together (see ``LocationGate``)."""

    exam_id: int
    institution_id: int
    exam_name: str
    exam_end: datetime | None
    mode: PolicyMode
    hide_when_outside: bool
    on_violation: ViolationAction
    suspended: bool
    profiles: tuple[ProfileVersion, ...]
    exceptions: tuple[PlannedException, ...] = ()
    overrides: tuple[ActiveOverride, ...] = ()

    @property
    def restricted(self) -> bool:
        """Checks happen: profiles attached and not suspended (an exam without profiles is open, reference E12)."""
        return bool(self.profiles) and not self.suspended

    @property
    def help_text(self) -> str:
        texts = dict.fromkeys(profile.help_text.strip() for profile in self.profiles if profile.help_text.strip())
        return "\n\n".join(texts) or "Your computer is not in a location admitted for this exam."


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason
    address: str | None = None
    profile: ProfileVersion | None = None
    rule: Rule | None = None
    override_id: int | None = None
    exception_id: int | None = None
    substitute: bool = False  # decided by an exception's substitute profile

    @property
    def room(self) -> str:
        if self.rule is not None and self.rule.room:
            return self.rule.room
        return self.profile.default_room if self.profile is not None else ""

    @property
    def seat(self) -> str:
        return (self.rule.seat or "") if self.rule is not None else ""

    @property
    def rule_text(self) -> str:
        """``line:canonical rule`` as the audit log names it."""
        return f"{self.rule.line}:{self.rule.action.value} {self.rule.spec}" if self.rule is not None else ""


def evaluate(profiles: Sequence[ProfileVersion], address: IPAddress | None) -> Decision:
    """The profiles' verdict alone: allowed if any profile's deciding rule allows."""
    if address is None:
        return Decision(False, Reason.UNRESOLVABLE)
    text = str(address)
    blocked: Decision | None = None
    for profile in profiles:
        rule = profile.compiled.match(address)
        if rule is None:
            continue
        if rule.action is Action.ALLOW:
            return Decision(True, Reason.ALLOW_RULE, text, profile, rule)
        if blocked is None or blocked.rule is None or rule.size < blocked.rule.size:  # report the narrowest block
            blocked = Decision(False, Reason.BLOCK_RULE, text, profile, rule)
    return blocked or Decision(False, Reason.NO_MATCH, text)


def decide(restriction: ExamRestriction, address: str | None, *, connection_id: int | None,
           user_ids: Sequence[str], now: datetime) -> Decision:
    """The decision for a client of the exam (reference §3.2 steps 2-8); call only when ``restricted``."""
    parsed = parse_address(address) if address else None
    text = str(parsed) if parsed is not None else None
    for override in restriction.overrides:
        if override.covers(connection_id, user_ids, text, now):
            return Decision(True, Reason.OVERRIDE, text, override_id=override.id)
    if parsed is None:
        return Decision(False, Reason.UNRESOLVABLE)
    for exception in restriction.exceptions:
        if not exception.applies(user_ids, now):
            continue
        if exception.substitute is None:
            return Decision(True, Reason.EXCEPTION, text, exception_id=exception.id)
        verdict = evaluate((exception.substitute,), parsed)
        return Decision(verdict.allowed, verdict.reason, text, verdict.profile, verdict.rule,
                        exception_id=exception.id, substitute=True)
    return evaluate(restriction.profiles, parsed)
