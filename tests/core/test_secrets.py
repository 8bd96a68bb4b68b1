from __future__ import annotations

import pytest

from sebframe.core.secrets import SecretBox, SecretDecryptionError


def test_round_trip_and_ciphertext_hides_the_plaintext() -> None:
    box = SecretBox("server-secret")
    token = box.encrypt("lms-client-secret")
    assert "lms-client-secret" not in token
    assert box.decrypt(token) == "lms-client-secret"
    assert box.decrypt_bytes(box.encrypt_bytes(b"\x00key")) == b"\x00key"


def test_other_key_cannot_read_and_says_why() -> None:
    token = SecretBox("server-secret").encrypt("x")
    with pytest.raises(SecretDecryptionError, match="SEBFRAME_SECRET_KEY"):
        SecretBox("another-secret").decrypt(token)


def test_rotated_key_still_reads_old_values() -> None:
    token = SecretBox("old-secret").encrypt("x")
    assert SecretBox("new-secret", ["old-secret"]).decrypt(token) == "x"
