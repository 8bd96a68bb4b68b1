"""The app-signature-key exchange: decryption as SEB Server's Cryptor.decryptASK, hashing, and the grant rule."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from hypothesis import given, settings
from hypothesis import strategies as st

from sebframe.core.session.ask import (
    DEFAULT_TRUST_THRESHOLD,
    app_signature_key_hash,
    decrypt_app_signature_key,
    grant_decision,
    new_exam_salt,
)

TOKEN = "0f6a3f4e-2b1c-4d5e-9a8b-7c6d5e4f3a2b"
SALT = "a1b2c3d4e5f60718"
PLAIN = "SEB-3.8.0-app-signature-4b1d9e"


def encrypt_like_seb(plain: str, token: str, salt_hex: str, iv: bytes | None = None) -> str:
    """What the SEB client sends, built independently: PBKDF2-HMAC-SHA1 (1024, 256 bit), AES-GCM, 16-byte IV first."""
    key = PBKDF2HMAC(algorithm=hashes.SHA1(), length=32, salt=bytes.fromhex(salt_hex), iterations=1024).derive(
        token.encode())
    iv = iv if iv is not None else os.urandom(16)
    return (iv + AESGCM(key).encrypt(iv, plain.encode(), None)).hex()


def test_salt_is_sixteen_lowercase_hex_characters_and_fresh() -> None:
    salts = {new_exam_salt() for _ in range(20)}
    assert len(salts) == 20
    for salt in salts:
        assert len(salt) == 16 and salt == salt.lower() and bytes.fromhex(salt)


def test_decrypts_what_the_client_encrypted() -> None:
    assert decrypt_app_signature_key(encrypt_like_seb(PLAIN, TOKEN, SALT), TOKEN, SALT) == PLAIN


# Encrypted with a zero IV (and the key derived by hashlib instead of cryptography, as a cross-check).
VECTOR = ("00000000000000000000000000000000"
          "aed8f6a5b76dacec0490696cc268d5887c4f4abe26cdfb34430cbe886ffbb67673c60eca35926a2b52f4e9cd61fc")


def test_fixed_vector() -> None:
    key = hashlib.pbkdf2_hmac("sha1", TOKEN.encode(), bytes.fromhex(SALT), 1024, 32)
    assert AESGCM(key).encrypt(bytes(16), PLAIN.encode(), None).hex() == VECTOR[32:]
    assert decrypt_app_signature_key(VECTOR, TOKEN, SALT) == PLAIN
    assert decrypt_app_signature_key(VECTOR.upper(), TOKEN, SALT.upper()) == PLAIN  # hex of any case


@pytest.mark.parametrize(("value", "token", "salt"), [
    pytest.param(encrypt_like_seb(PLAIN, TOKEN, SALT), "another-token", SALT, id="wrong token"),
    pytest.param(encrypt_like_seb(PLAIN, TOKEN, SALT), TOKEN, "1111111111111111", id="wrong salt"),
    pytest.param(encrypt_like_seb(PLAIN, TOKEN, SALT), TOKEN, "not-hex", id="salt not hex"),
    pytest.param(encrypt_like_seb(PLAIN, TOKEN, SALT)[:-2], TOKEN, SALT, id="truncated"),
    pytest.param(encrypt_like_seb(PLAIN, TOKEN, SALT)[:-2] + "00", TOKEN, SALT, id="tampered tag"),
    pytest.param("zz" * 40, TOKEN, SALT, id="garbage"),
    pytest.param("abc", TOKEN, SALT, id="odd hex"),
    pytest.param("00" * 31, TOKEN, SALT, id="shorter than IV and tag"),
    pytest.param("", TOKEN, SALT, id="empty"),
])
def test_undecryptable_gives_none(value: str, token: str, salt: str) -> None:
    assert decrypt_app_signature_key(value, token, salt) is None


def test_not_utf8_gives_none() -> None:
    key = PBKDF2HMAC(algorithm=hashes.SHA1(), length=32, salt=bytes.fromhex(SALT), iterations=1024).derive(
        TOKEN.encode())
    iv = bytes(16)
    value = (iv + AESGCM(key).encrypt(iv, b"\xff\xfe", None)).hex()
    assert decrypt_app_signature_key(value, TOKEN, SALT) is None


_ENCODABLE = st.characters(exclude_categories=("Cs",))  # lone surrogates have no UTF-8 form


@settings(max_examples=40, deadline=None)
@given(plain=st.text(_ENCODABLE, max_size=200), token=st.text(_ENCODABLE, min_size=1, max_size=60),
       salt=st.binary(min_size=1, max_size=32))
def test_round_trip(plain: str, token: str, salt: bytes) -> None:
    assert decrypt_app_signature_key(encrypt_like_seb(plain, token, salt.hex()), token, salt.hex()) == plain


def test_hash_is_lowercase_sha256_of_the_plain_key() -> None:
    assert app_signature_key_hash(PLAIN) == hashlib.sha256(PLAIN.encode()).hexdigest()
    assert app_signature_key_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


ASK = app_signature_key_hash(PLAIN)
OTHER = app_signature_key_hash("other")


@pytest.mark.parametrize(("ask_hash", "grants", "count", "threshold", "granted"), [
    (ASK, [ASK], 1, 2, True),  # registered grant
    (ASK, [ASK.upper()], 1, 2, True),  # hex case does not matter
    (ASK.upper(), [ASK], 1, 2, True),
    (ASK, [OTHER], 1, 2, False),  # another key's grant, alone
    (ASK, [], 2, 2, False),  # numerical: equal to the threshold is not enough
    (ASK, [], 3, 2, True),  # more connections share the key than the threshold
    (ASK, [], 2, 1, True),
    (ASK, [], 1, 1, False),
    (ASK, [], 1, 0, True),  # threshold 0 trusts any key
    (ASK, [], 0, 0, False),  # no connection with that key counted
    (None, [ASK], 5, 0, False),  # no ASK sent
    ("", [""], 5, 0, False),
])
def test_grant_decision(ask_hash: str | None, grants: list[str], count: int, threshold: int, granted: bool) -> None:
    assert grant_decision(ask_hash, grants, count, threshold) is granted


def test_default_threshold_is_seb_servers_import_default() -> None:
    assert DEFAULT_TRUST_THRESHOLD == 2
