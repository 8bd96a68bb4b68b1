"""SEB configuration files: plist I/O, RNCryptor, ``.seb`` packaging and the Config Key.

Pure library (no database, no web). Spec: ``seb-config-formats.md`` in the shared reference.

Typical use::

    seb = decode_seb(data, password="secret")
    seb.settings["startURL"], seb.config_key(), seb.layers
    data = encode_seb(settings, password="secret")
"""

from __future__ import annotations

from .certificates import Identity, load_certificate, load_identity, public_key_hash
from .codec import (
    DEFAULT_MAX_SIZE,
    ConfigPurpose,
    SebFile,
    decode_seb,
    encode_seb,
    hash_password,
    package_xml,
)
from .config_key import config_key, seb_json, seb_sort_key
from .errors import (
    CertificateError,
    CompressionError,
    CorruptFileError,
    IdentityPasswordError,
    IdentityRequiredError,
    InputTooLargeError,
    IntegrityError,
    InvalidPlistError,
    PasswordRequiredError,
    SebConfigError,
    UnsupportedFormatError,
    WrongPasswordError,
)
from .plist import PlistValue, parse_plist, serialize_plist

__all__ = [
    "DEFAULT_MAX_SIZE",
    "CertificateError",
    "CompressionError",
    "ConfigPurpose",
    "CorruptFileError",
    "Identity",
    "IdentityPasswordError",
    "IdentityRequiredError",
    "InputTooLargeError",
    "IntegrityError",
    "InvalidPlistError",
    "PasswordRequiredError",
    "PlistValue",
    "SebConfigError",
    "SebFile",
    "UnsupportedFormatError",
    "WrongPasswordError",
    "config_key",
    "decode_seb",
    "encode_seb",
    "hash_password",
    "load_certificate",
    "load_identity",
    "package_xml",
    "parse_plist",
    "public_key_hash",
    "seb_json",
    "seb_sort_key",
    "serialize_plist",
]
