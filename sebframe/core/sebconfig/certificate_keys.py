"""RSA certificates and identities whose keys encrypt and open ``pkhs``/``phsk`` ``.seb`` files.

Pure (bytes in, keys out); the institution's stored certificates are the service in :mod:`.certificates`.

A ``.seb`` file names its recipient by a 20-byte public-key hash: SHA-1 of the DER ``RSAPublicKey``
(PKCS#1), i.e. the contents of the certificate's ``subjectPublicKey`` BIT STRING. This matches SEB
for Windows (``PublicKey.EncodedKeyValue``) and SEB Server (``getPublicKeyData()``).
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, pkcs12
from cryptography.utils import CryptographyDeprecationWarning

from .errors import CertificateError, IdentityPasswordError

__all__ = [
    "Identity",
    "load_certificate",
    "load_identity",
    "public_key_hash",
]


def public_key_hash(key: x509.Certificate | RSAPublicKey | RSAPrivateKey) -> bytes:
    """SHA-1 of the PKCS#1 DER public key, as written after ``pkhs``/``phsk`` (20 bytes)."""
    if isinstance(key, x509.Certificate):
        public = key.public_key()
    elif isinstance(key, RSAPrivateKey):
        public = key.public_key()
    else:
        public = key
    if not isinstance(public, RSAPublicKey):
        raise CertificateError("Only RSA certificates can be used for SEB configuration encryption.")
    return hashlib.sha1(public.public_bytes(Encoding.DER, PublicFormat.PKCS1)).digest()


@dataclass(frozen=True)
class Identity:
    """An RSA private key with its certificate, able to open files encrypted for that certificate."""

    private_key: RSAPrivateKey
    certificate: x509.Certificate | None = None

    @property
    def public_key_hash(self) -> bytes:
        return public_key_hash(self.private_key)

    @property
    def name(self) -> str:
        """The certificate subject (for messages), or the hash if there is no certificate."""
        if self.certificate is not None:
            return self.certificate.subject.rfc4514_string()
        return self.public_key_hash.hex()


def load_identity(data: bytes, password: str | bytes | None = None) -> Identity:
    """Load an RSA identity (private key + certificate) from PKCS#12 (``.pfx``/``.p12``) data.

    An empty password may be stored either as "no password" or as an empty string, so both are
    tried. Raises :class:`IdentityPasswordError` for a wrong password or damaged data.
    """
    secret = password.encode("utf-8") if isinstance(password, str) else password
    attempts: list[bytes | None] = [secret]
    if not secret:
        attempts = [b"", None]
    bundle = None
    for attempt in attempts:
        try:
            with warnings.catch_warnings():
                # Old test/Fiddler certificates have negative serials; cryptography only warns.
                warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                bundle = pkcs12.load_pkcs12(data, attempt)
            break
        except (ValueError, TypeError):
            continue
    if bundle is None:
        raise IdentityPasswordError(
            "The PKCS#12 identity could not be opened: the password is wrong or the file is damaged."
        )
    if bundle.key is None:
        raise CertificateError("The PKCS#12 file contains no private key.")
    if not isinstance(bundle.key, RSAPrivateKey):
        raise CertificateError("Only RSA identities can be used for SEB configuration encryption.")
    cert = bundle.cert.certificate if bundle.cert is not None else None
    return Identity(private_key=bundle.key, certificate=cert)


def load_certificate(data: bytes) -> x509.Certificate:
    """Load an X.509 certificate from PEM or DER data. Raises :class:`CertificateError`."""
    stripped = data.lstrip()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            if stripped.startswith(b"-----BEGIN"):
                cert = x509.load_pem_x509_certificate(stripped)
            else:
                cert = x509.load_der_x509_certificate(data)
            public = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise CertificateError("The data is not a valid X.509 certificate (PEM or DER).") from None
    if not isinstance(public, RSAPublicKey):
        raise CertificateError("Only RSA certificates can be used for SEB configuration encryption.")
    return cert
