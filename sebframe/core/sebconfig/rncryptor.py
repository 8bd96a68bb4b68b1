"""RNCryptor data format v2/v3 (AES-256-CBC + HMAC-SHA256), as used inside ``.seb`` files.

Layout (big-endian, RNCryptor-Spec v3)::

    password based (options 0x01):
        version(1) options(1) encSalt(8) hmacSalt(8) IV(16) ciphertext HMAC(32)
    key based (options 0x00):
        version(1) options(1) IV(16) ciphertext HMAC(32)

    keys    = PBKDF2-HMAC-SHA1(password, salt, 10000 iterations, 32 bytes)
    HMAC    = HMAC-SHA256(hmacKey, everything before the HMAC)

v2 differs from v3 only in a bug of the reference implementation: the UTF-8 password was cut to
its *character* count (UTF-16 units) before PBKDF2. SEB for Windows writes v2 but always derives
from the full password, so v2 decryption tries the full password first, then the truncated one.
v1 (HMAC over the ciphertext only) is not used by SEB and not supported.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .errors import CorruptFileError, IntegrityError, UnsupportedFormatError, WrongPasswordError

__all__ = [
    "PBKDF2_ITERATIONS",
    "decrypt",
    "decrypt_with_keys",
    "encrypt",
    "encrypt_with_keys",
    "password_key",
]

PBKDF2_ITERATIONS = 10000
KEY_SIZE = 32
SALT_SIZE = 8
IV_SIZE = 16
HMAC_SIZE = 32
OPTION_PASSWORD = 0x01
SUPPORTED_VERSIONS = (2, 3)

_PW_HEADER = 2 + SALT_SIZE + SALT_SIZE + IV_SIZE  # 34
_KEY_HEADER = 2 + IV_SIZE  # 18


def password_key(password: str, salt: bytes, version: int = 3) -> bytes:
    """Derive one 32-byte key from a password (PBKDF2-HMAC-SHA1, 10000 iterations)."""
    return hashlib.pbkdf2_hmac("sha1", _password_bytes(password, version), salt, PBKDF2_ITERATIONS, KEY_SIZE)


def _password_bytes(password: str, version: int) -> bytes:
    data = password.encode("utf-8")
    if version == 2:
        # v2 bug: NSString length (UTF-16 code units) used as the byte count of the UTF-8 data.
        data = data[: len(password.encode("utf-16-le")) // 2]
    return data


def _password_candidates(password: str, version: int) -> list[bytes]:
    full = password.encode("utf-8")
    if version != 2:
        return [full]
    truncated = _password_bytes(password, 2)
    return [full] if truncated == full else [full, truncated]


def _check_header(data: bytes, *, password_based: bool) -> int:
    minimum = (_PW_HEADER if password_based else _KEY_HEADER) + HMAC_SIZE
    if len(data) < 2:
        raise CorruptFileError("The encrypted data is truncated (no RNCryptor header).")
    version, options = data[0], data[1]
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedFormatError(
            f"Unsupported RNCryptor format version {version} (only versions 2 and 3 are supported)."
        )
    if options not in (0, OPTION_PASSWORD):
        raise UnsupportedFormatError(f"Unsupported RNCryptor options byte 0x{options:02x}.")
    if bool(options & OPTION_PASSWORD) != password_based:
        kind = "password" if options & OPTION_PASSWORD else "key"
        raise UnsupportedFormatError(f"The data is {kind}-based RNCryptor, which this call cannot open.")
    if len(data) < minimum or (len(data) - minimum) % 16:
        raise CorruptFileError("The encrypted data is truncated or has an invalid length.")
    return version


def _aes_decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise CorruptFileError("The decrypted data has invalid padding.") from None


def _aes_encrypt(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def decrypt(data: bytes, password: str) -> bytes:
    """Decrypt a password-based RNCryptor v2/v3 message.

    The HMAC is checked (in constant time) before anything is decrypted. Raises
    :class:`WrongPasswordError` if it does not match, :class:`CorruptFileError` for truncated
    data and :class:`UnsupportedFormatError` for other versions/options.
    """
    version = _check_header(data, password_based=True)
    enc_salt = data[2:10]
    hmac_salt = data[10:18]
    iv = data[18:34]
    message, tag = data[:-HMAC_SIZE], data[-HMAC_SIZE:]
    for secret in _password_candidates(password, version):
        # Only the HMAC key is needed to test a candidate; the AES key costs a second PBKDF2.
        hmac_key = hashlib.pbkdf2_hmac("sha1", secret, hmac_salt, PBKDF2_ITERATIONS, KEY_SIZE)
        if hmac.compare_digest(_hmac(hmac_key, message), tag):
            enc_key = hashlib.pbkdf2_hmac("sha1", secret, enc_salt, PBKDF2_ITERATIONS, KEY_SIZE)
            return _aes_decrypt(enc_key, iv, data[_PW_HEADER:-HMAC_SIZE])
    raise WrongPasswordError("The password is wrong, or the encrypted data is damaged.")


def encrypt(
    plaintext: bytes,
    password: str,
    *,
    version: int = 3,
    encryption_salt: bytes | None = None,
    hmac_salt: bytes | None = None,
    iv: bytes | None = None,
) -> bytes:
    """Encrypt with a password (RNCryptor v3 by default).

    Salts and IV are random unless given; fixed values are only for reproducing test vectors.
    ``version=2`` reproduces the v2 password truncation (for test vectors only).
    """
    if version not in SUPPORTED_VERSIONS:
        raise ValueError("RNCryptor version must be 2 or 3.")
    enc_salt = encryption_salt if encryption_salt is not None else os.urandom(SALT_SIZE)
    mac_salt = hmac_salt if hmac_salt is not None else os.urandom(SALT_SIZE)
    iv = iv if iv is not None else os.urandom(IV_SIZE)
    if len(enc_salt) != SALT_SIZE or len(mac_salt) != SALT_SIZE or len(iv) != IV_SIZE:
        raise ValueError("Salts must be 8 bytes and the IV 16 bytes.")
    enc_key = password_key(password, enc_salt, version)
    hmac_key = password_key(password, mac_salt, version)
    message = (
        bytes([version, OPTION_PASSWORD]) + enc_salt + mac_salt + iv + _aes_encrypt(enc_key, iv, plaintext)
    )
    return message + _hmac(hmac_key, message)


def decrypt_with_keys(data: bytes, encryption_key: bytes, hmac_key: bytes) -> bytes:
    """Decrypt a key-based RNCryptor v2/v3 message (options 0).

    An HMAC mismatch raises :class:`IntegrityError` (the keys are given, so the data was altered).
    """
    _check_header(data, password_based=False)
    message, tag = data[:-HMAC_SIZE], data[-HMAC_SIZE:]
    if not hmac.compare_digest(_hmac(hmac_key, message), tag):
        raise IntegrityError("The encrypted data is damaged (HMAC check failed).")
    return _aes_decrypt(encryption_key, data[2:18], data[_KEY_HEADER:-HMAC_SIZE])


def encrypt_with_keys(
    plaintext: bytes, encryption_key: bytes, hmac_key: bytes, *, iv: bytes | None = None, version: int = 3
) -> bytes:
    """Encrypt with explicit 32-byte keys (RNCryptor key-based format, options 0)."""
    iv = iv if iv is not None else os.urandom(IV_SIZE)
    if len(encryption_key) != KEY_SIZE or len(iv) != IV_SIZE:
        raise ValueError("The encryption key must be 32 bytes and the IV 16 bytes.")
    message = bytes([version, 0]) + iv + _aes_encrypt(encryption_key, iv, plaintext)
    return message + _hmac(hmac_key, message)
