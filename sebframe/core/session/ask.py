"""The app-signature-key (ASK) check of SEB clients, as SEB Server does it.

The server hands each client the exam's salt (``SEBExamSalt``); the client encrypts its app signature key with a
key derived from its connection token and that salt and sends it on the final handshake (``seb_signature_key``).
The server decrypts it, keeps only the SHA-256 of the plain key and later grants or denies the connection. The
grant is a monitoring flag only: it never refuses a handshake. (SEB Server: ``Cryptor.decryptASK``,
``SecurityKeyServiceImpl``.)
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

SALT_BYTES = 8  # SEB Server's KeyGenerators.string(): 8 random bytes as hex
IV_BYTES = 16  # the ciphertext starts with a 16-byte GCM nonce
TAG_BYTES = 16  # 128-bit GCM tag at the end
KEY_BYTES = 32  # AES-256
PBKDF2_ITERATIONS = 1024
# SEB Server gives newly imported exams NUMERICAL_TRUST_THRESHOLD 2 (property
# ``sebserver.webservice.api.admin.exam.app.signature.key.numerical.threshold``); the 1 it falls back to
# applies only to exams imported before the feature existed, which we do not have.
DEFAULT_TRUST_THRESHOLD = 2


def new_exam_salt() -> str:
    """A fresh ``SEBExamSalt``: 16 lowercase hex characters."""
    return secrets.token_hex(SALT_BYTES)


def derive_key(connection_token: str, salt_hex: str) -> bytes:
    """PBKDF2-HMAC-SHA1 of the connection token over the exam salt; ``ValueError`` if the salt is not hex."""
    kdf = PBKDF2HMAC(algorithm=hashes.SHA1(), length=KEY_BYTES, salt=bytes.fromhex(salt_hex),
                     iterations=PBKDF2_ITERATIONS)
    return kdf.derive(connection_token.encode("utf-8"))


def decrypt_app_signature_key(encrypted_hex: str, connection_token: str, salt_hex: str) -> str | None:
    """The plain app signature key a client sent, or None if it cannot be decrypted (the caller only logs that)."""
    try:
        data = bytes.fromhex(encrypted_hex)
        if len(data) < IV_BYTES + TAG_BYTES:
            return None
        key = derive_key(connection_token, salt_hex)
        plain = AESGCM(key).decrypt(data[:IV_BYTES], data[IV_BYTES:], None)
        return plain.decode("utf-8")
    except (ValueError, TypeError, InvalidTag):  # bad hex, empty salt, wrong key or tag, not UTF-8
        return None


def app_signature_key_hash(plain: str) -> str:
    """What is stored and compared: the lowercase hex SHA-256 of the plain key."""
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def grant_decision(ask_hash: str | None, granted_keys: Collection[str], same_key_count: int,
                   trust_threshold: int) -> bool:
    """Whether a connection's ASK is trusted (SEB Server's ``applyAppSignatureCheck``).

    * No ASK (the client sent none or it did not decrypt): not granted.
    * Granted if ``ask_hash`` is a registered grant; pass the exam's grants together with the institution's.
    * Otherwise the numerical check: granted if ``same_key_count`` (the connections of the exam whose ASK has
      this hash, *including* the one being checked) is greater than ``trust_threshold``. With the default
      threshold 2, a key is trusted once three connections of the exam share it; 0 trusts any key.
    """
    if not ask_hash:
        return False
    wanted = ask_hash.lower()
    if any(key.lower() == wanted for key in granted_keys):
        return True
    return same_key_count > 0 and same_key_count > trust_threshold
