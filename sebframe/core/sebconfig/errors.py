"""Exceptions raised by :mod:`sebframe.core.sebconfig`.

Every error carries a message meant for humans (the admin UI shows ``str(exc)``); low-level
exceptions from zlib, expat or cryptography never escape the public functions.

::

    SebConfigError
    ├── InputTooLargeError         input or decompressed data exceeds the caller's size limit
    ├── CorruptFileError           the data is damaged or not what it claims to be
    │   ├── CompressionError       invalid or truncated gzip stream
    │   ├── IntegrityError         HMAC mismatch although the key is known to be right
    │   └── InvalidPlistError      not XML, or XML that is not a valid property list
    ├── UnsupportedFormatError     unknown 4-byte prefix, unknown RNCryptor version/options
    ├── PasswordRequiredError      file is password protected and no (working) password was given
    ├── WrongPasswordError         the password does not open the file (or the file is damaged)
    └── CertificateError           certificates, identities and RSA
        ├── IdentityRequiredError  no identity matches the file's public-key hash
        └── IdentityPasswordError  a PKCS#12 identity cannot be opened with the given password
"""

from __future__ import annotations

__all__ = [
    "CertificateError",
    "CompressionError",
    "CorruptFileError",
    "IdentityPasswordError",
    "IdentityRequiredError",
    "InputTooLargeError",
    "IntegrityError",
    "InvalidPlistError",
    "PasswordRequiredError",
    "SebConfigError",
    "UnsupportedFormatError",
    "WrongPasswordError",
]


class SebConfigError(Exception):
    """Base class of all errors of the SEB configuration library."""


class InputTooLargeError(SebConfigError):
    """The input, or what it decompresses to, is larger than the allowed limit."""


class CorruptFileError(SebConfigError):
    """The data is damaged, truncated or malformed."""


class CompressionError(CorruptFileError):
    """A gzip layer is invalid or truncated."""


class IntegrityError(CorruptFileError):
    """An HMAC check failed although the key is known to be correct (the data was altered)."""


class InvalidPlistError(CorruptFileError):
    """The data is not XML or not a valid property list."""


class UnsupportedFormatError(SebConfigError):
    """The data uses a format, prefix or version this library does not understand."""


class PasswordRequiredError(SebConfigError):
    """The file is password protected and no password (or only an empty one) was given."""


class WrongPasswordError(SebConfigError):
    """The given password does not decrypt the file.

    RNCryptor cannot tell a wrong password from a damaged file (both fail the HMAC check), so the
    message mentions both.
    """


class CertificateError(SebConfigError):
    """A certificate, identity or RSA operation failed."""


class IdentityRequiredError(CertificateError):
    """The file is encrypted for a certificate whose private key (identity) was not provided."""


class IdentityPasswordError(CertificateError):
    """A PKCS#12 identity could not be opened (wrong password or damaged file)."""
