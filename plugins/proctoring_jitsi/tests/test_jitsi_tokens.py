"""Tokens against the checker that applies Jitsi's rules, both deployments, and SEB Server's golden token."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError
from sebframe_proctoring_jitsi.settings import JitsiSettings
from sebframe_proctoring_jitsi.tokens import make_token

from sebframe.testing.fakes.jitsi import JitsiTokenChecker, TokenRejected

from .conftest import EXAM_END

NOW = datetime(2030, 1, 1, 10, 0, tzinfo=UTC).timestamp()
SECRET = "a-long-shared-app-secret-of-prosody"
SELF_HOSTED = {"app_id": "sebframe", "app_secret": SECRET}


def test_self_hosted_tokens_pass_jitsi_checks_with_moderator_only_for_proctors() -> None:
    settings = JitsiSettings.model_validate(SELF_HOSTED)
    checker = JitsiTokenChecker(domain="meet.example.org", secret=SECRET, issuers=("sebframe",),
                                audiences=("jitsi",))
    proctor = make_token(settings, "https://Meet.Example.org", "room-1", name="proctor", moderator=True,
                         expires_at=EXAM_END)
    client = make_token(settings, "https://meet.example.org", "room-1", name="alice", moderator=False,
                        expires_at=EXAM_END)
    checked = checker.check(proctor, "room-1", now=NOW)
    assert checked.moderator and checked.header["alg"] == "HS256"
    assert checked.claims["exp"] == int(EXAM_END.timestamp())  # seconds (RFC 7519), not milliseconds
    assert list(checked.claims) == ["context", "moderator", "aud", "iss", "sub", "room", "exp"]
    student = checker.check(client, "room-1", now=NOW)
    assert not student.moderator and student.user_name == "alice"
    with pytest.raises(TokenRejected, match="room"):
        checker.check(client, "room-2", now=NOW)
    with pytest.raises(TokenRejected, match="expired"):
        checker.check(client, "room-1", now=EXAM_END.timestamp() + 1)


def test_claims_are_configurable() -> None:
    settings = JitsiSettings.model_validate({**SELF_HOSTED, "issuer": "seb", "audience": "seb-client",
                                             "subject": "tenant1"})
    token = make_token(settings, "https://meet.example.org", "r", name="n", moderator=False, expires_at=EXAM_END)
    checker = JitsiTokenChecker(domain="meet.example.org", secret=SECRET, issuers=("seb",), audiences=("seb-client",))
    assert checker.check(token, "r", tenant="tenant1", now=NOW).claims["sub"] == "tenant1"
    with pytest.raises(TokenRejected, match="audience"):
        JitsiTokenChecker(domain="meet.example.org", secret=SECRET, audiences=("jitsi",)).check(
            token, "r", tenant="tenant1", now=NOW)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # SEB Server's test secret is short
def test_the_claim_set_is_seb_servers() -> None:
    """SEB Server's golden token (``ExamJITSIProctoringServiceTest``, copied from the reference note §5.5):
    same claims, same order, so a Prosody set up for SEB Server takes ours."""
    settings = JitsiSettings.model_validate({"app_id": "test-app", "app_secret": "fbvgeghergrgrthrehreg123",
                                             "audience": "test-client"})
    token = make_token(settings, "https://seb-jitsi.example.ch", "SomeRoom", name="Test Name", moderator=True,
                       expires_at=datetime.fromtimestamp(1609459200, UTC))
    assert token == (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJjb250ZXh0Ijp7InVzZXIiOnsibmFtZSI6IlRlc3QgTmFtZSJ9fSwibW9kZXJhdG9y"
        "Ijp0cnVlLCJhdWQiOiJ0ZXN0LWNsaWVudCIsImlzcyI6InRlc3QtYXBwIiwic3ViIjoic2ViLWppdHNpLmV4YW1wbGUuY2giLCJyb29tIjoi"
        "U29tZVJvb20iLCJleHAiOjE2MDk0NTkyMDB9.47qoBCXG34ITeMmrwxlTmDcc6JLSVVF1HAOlcSkCvqw")


def test_jaas_tokens_are_rs256_with_kid_audience_and_user_moderator(rsa_key: rsa.RSAPrivateKey,
                                                                     private_pem: str) -> None:
    app_id = "vpaas-magic-cookie-0123456789abcdef"
    settings = JitsiSettings.model_validate({"deployment": "jaas", "app_id": app_id, "key_id": "a1b2c3",
                                             "private_key": private_pem})
    checker = JitsiTokenChecker(domain="8x8.vc", public_keys={f"{app_id}/a1b2c3": rsa_key.public_key()},
                                audiences=("jitsi",), issuers=("chat",))
    proctor = make_token(settings, "https://8x8.vc", "room-1", name="proctor", moderator=True, expires_at=EXAM_END,
                         now=NOW)
    client = make_token(settings, "https://8x8.vc", "room-1", name="alice", moderator=False, expires_at=EXAM_END,
                        user_id="42", now=NOW)
    checked = checker.check(proctor, "room-1", tenant=app_id, now=NOW)
    assert checked.header == {"alg": "RS256", "kid": f"{app_id}/a1b2c3", "typ": "JWT"}
    assert checked.claims["aud"] == "jitsi" and checked.claims["context"]["user"]["moderator"] == "true"
    assert checked.moderator
    student = checker.check(client, "room-1", tenant=app_id, now=NOW)
    assert not student.moderator and student.claims["context"]["user"]["id"] == "42"
    with pytest.raises(TokenRejected, match="kid"):
        JitsiTokenChecker(domain="8x8.vc", public_keys={"other/key": rsa_key.public_key()}).check(
            client, "room-1", tenant=app_id, now=NOW)


@pytest.mark.parametrize(("given", "message"), [
    ({"app_id": "x"}, "app secret"),
    ({"app_id": "x", "deployment": "jaas", "private_key": "k"}, "key id"),
    ({"app_id": "x", "deployment": "jaas", "key_id": "k", "private_key": "not a key"}, "PEM"),
])
def test_settings_name_what_is_missing(given: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        JitsiSettings.model_validate(given)
