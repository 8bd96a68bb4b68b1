"""An exam's SEB client checks: the app-signature-key check with its grants and trust threshold, the allowed
SEB versions and the alternative Browser Exam Key. Stored on the exam row; the session runtime applies them
(rules in :mod:`sebframe.core.session.ask` and :mod:`sebframe.core.exams.seb_versions`)."""

from __future__ import annotations

from sebframe.core.db.models import Exam
from sebframe.core.exams.schemas import ExamUpdate
from sebframe.core.exams.seb_versions import AllowedVersion, parse_allowed_versions


def signature_key_grants(exam: Exam) -> list[str]:
    """The ASK hashes registered as trusted for the exam (stored one per line)."""
    return [line for line in exam.signature_key_grants.splitlines() if line]


def allowed_versions(exam: Exam) -> tuple[AllowedVersion, ...]:
    """The exam's allowed SEB versions; empty: no version check. Stored validated, so it parses."""
    return parse_allowed_versions(exam.allowed_seb_versions)


def apply_client_checks(exam: Exam, data: ExamUpdate) -> list[str]:
    """Set what ``data`` gives (validated already); returns what changed, for the activity log."""
    changes: list[str] = []
    enabled = data.signature_key_check_enabled
    if enabled is not None and enabled != exam.signature_key_check_enabled:
        exam.signature_key_check_enabled = enabled
        changes.append(f"app signature key check {'on' if enabled else 'off'}")
    threshold = data.signature_key_trust_threshold
    if threshold is not None and threshold != exam.signature_key_trust_threshold:
        exam.signature_key_trust_threshold = threshold
        changes.append(f"trust threshold {threshold}")
    grants = data.signature_key_grants
    if grants is not None and grants != signature_key_grants(exam):
        exam.signature_key_grants = "\n".join(grants)
        changes.append(f"{len(grants)} granted app signature key(s)")
    versions = data.allowed_seb_versions
    if versions is not None and versions != exam.allowed_seb_versions:
        exam.allowed_seb_versions = versions
        changes.append(f"allowed SEB versions {versions or 'any'}")
    bek = data.alternative_bek or None  # "" removes it
    if data.alternative_bek is not None and bek != exam.alternative_bek:
        exam.alternative_bek = bek
        changes.append("alternative Browser Exam Key " + ("set" if bek else "removed"))
    return changes
