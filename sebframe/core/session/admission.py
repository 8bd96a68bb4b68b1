"""Runs the plugins' admission checks (``sebframe_admission_checks``) for the session domain: at the
handshake steps that bind an exam, over the list of exams a new client is offered, and again when a bound
client shows up from a new address.

A check that raises refuses the client (503) at a handshake step: an admission check guards the exam, so an
error must not let clients in. After an address change a refusal cannot stop the ping; it is logged on the
connection (so monitoring shows it) and, if the check asks, answered with SEB_QUIT.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sebframe.core.plugins import PluginRegistry
from sebframe.core.session.errors import AdmissionRefused, ExamApiError
from sebframe.core.session.origin import Origin
from sebframe.types import AdmissionDecision, AdmissionRequest

log = logging.getLogger(__name__)


class Admission:
    def __init__(self, plugins: PluginRegistry) -> None:
        self.plugins = plugins

    @property
    def active(self) -> bool:
        return bool(self.plugins.admission_checks())

    @staticmethod
    def request(step: str, institution_id: int, exam_id: int | None, token: str, origin: Origin, *,
                connection_id: int | None = None, user_session_id: str | None = None,
                previous_address: str | None = None) -> AdmissionRequest:
        resolved = origin.resolved
        return AdmissionRequest(
            step=step, institution_id=institution_id, exam_id=exam_id, connection_token=token,
            client_address=resolved.client, user_session_id=user_session_id, connection_id=connection_id,
            peer_address=resolved.peer, forwarded_chain=resolved.chain, address_problem=resolved.problem,
            forwarding_ignored=resolved.untrusted_forwarding, previous_address=previous_address,
            user_agent=origin.user_agent, request_line=origin.request_line)

    async def admit(self, request: AdmissionRequest) -> None:
        """Raise ``AdmissionRefused`` (403) at the first denial."""
        for check in self.plugins.admission_checks():
            try:
                decision = await check.check(request)
            except Exception:
                log.exception("admission check %s failed; refusing the client", check.name)
                raise ExamApiError(503, "1100", "Unexpected internal server-side error",
                                   f"admission check {check.name} failed") from None
            if not decision.allowed:
                raise AdmissionRefused(decision, check.name)

    async def visible_exams(self, request: AdmissionRequest, exam_ids: Sequence[int]) -> set[int]:
        """The exams every check lets the new client see; a failing filter hides nothing (it only hides)."""
        visible = set(exam_ids)
        for check in self.plugins.admission_checks():
            if check.filter_exams is None or not visible:
                continue
            try:
                visible &= set(await check.filter_exams(request, sorted(visible)))
            except Exception:
                log.exception("admission check %s failed to filter the exam list; listing all", check.name)
        return visible

    async def recheck(self, request: AdmissionRequest) -> list[tuple[str, AdmissionDecision]]:
        """The refusals of the checks for an "address-change" request, by check name."""
        refusals = []
        for check in self.plugins.admission_checks():
            try:
                decision = await check.check(request)
            except Exception:
                log.exception("admission check %s failed after an address change", check.name)
                continue
            if not decision.allowed:
                refusals.append((check.name, decision))
        return refusals
