"""The Meeting SDK JWT: Zoom's claim set, HS256 with the SDK app's secret, exp - iat within Zoom's bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sebframe_proctoring_zoom.tokens import MAX_VALIDITY, MIN_VALIDITY, sdk_token

NOW = datetime(2030, 1, 1, 10, 0, tzinfo=UTC)
SECRET = "sdk-client-secret-0123456789abcdef"


def _claims(token: str) -> dict[str, object]:
    return jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False})


def test_claims_are_zooms_set_signed_with_the_sdk_secret() -> None:
    token = sdk_token("sdk-id", SECRET, "81234567890", role=1, expires_at=NOW + timedelta(hours=4),
                      now=NOW.timestamp())
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = _claims(token)
    assert list(claims) == ["appKey", "sdkKey", "mn", "role", "iat", "exp", "tokenExp"]
    assert (claims["appKey"], claims["sdkKey"], claims["mn"], claims["role"]) == ("sdk-id", "sdk-id",
                                                                                  "81234567890", 1)
    assert claims["exp"] == claims["tokenExp"] == int((NOW + timedelta(hours=4)).timestamp())  # the exam's end
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-0123456789abcdefgh", algorithms=["HS256"],
                   options={"verify_exp": False})


@pytest.mark.parametrize("expires_in", [timedelta(minutes=5), timedelta(seconds=-60), timedelta(days=10)])
def test_validity_stays_within_zooms_bounds(expires_in: timedelta) -> None:
    claims = _claims(sdk_token("id", SECRET, "1", role=0, expires_at=NOW + expires_in, now=NOW.timestamp()))
    assert MIN_VALIDITY <= claims["exp"] - claims["iat"] <= MAX_VALIDITY  # type: ignore[operator]
    assert claims["iat"] <= NOW.timestamp()  # type: ignore[operator]
