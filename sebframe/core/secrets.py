"""Secrets at rest (LMS credentials, OAuth client secrets, certificate keys): Fernet with a server-derived key.

The Fernet key is derived from the server's secret key with HKDF, so operators manage one secret. Older
secret keys can be listed to keep reading values written before a key rotation.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"sebframe secrets at rest v1"


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class SecretDecryptionError(Exception):
    """A stored secret cannot be read with the configured keys (wrong or rotated-away secret key)."""


class SecretBox:
    def __init__(self, secret_key: str, old_secret_keys: Sequence[str] = ()) -> None:
        self._fernet = MultiFernet([_fernet(secret_key), *(_fernet(old) for old in old_secret_keys)])

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise SecretDecryptionError(
                "a stored secret cannot be decrypted; was SEBFRAME_SECRET_KEY changed?"
            ) from exc

    def encrypt_bytes(self, plain: bytes) -> bytes:
        return self._fernet.encrypt(plain)

    def decrypt_bytes(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise SecretDecryptionError(
                "stored encrypted data cannot be decrypted; was SEBFRAME_SECRET_KEY changed?"
            ) from exc
