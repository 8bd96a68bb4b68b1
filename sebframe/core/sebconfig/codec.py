"""Decode and encode ``.seb`` files.

A ``.seb`` file is plain XML (optionally gzipped) or ``[gzip](PREFIX || payload)`` with::

    plnd  gzip(xml) or xml
    pswd  RNCryptor(password, gzip(xml))                       "starting an exam"
    pwcc  RNCryptor(sha256hex(password) or "", gzip(xml))      "configuring a client"
    pkhs  keyhash(20) || RSA-PKCS1v1.5 blocks of an inner block (plnd/pswd/pwcc...)
    phsk  keyhash(20) || keylen(int32 LE) || RSA(key) || RNCryptor(base64(key), inner block)

The reader peels layers in a loop (any number of gzip layers, prefixes nest), like SEB for
Windows, SEB for macOS and SEB Server do. The writer produces SEB Server's layout:
``gzip(prefix || payload)`` with RNCryptor v3.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import unicodedata
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from . import rncryptor
from .certificate_keys import Identity, public_key_hash
from .config_key import config_key
from .errors import (
    CertificateError,
    CompressionError,
    CorruptFileError,
    IdentityRequiredError,
    InputTooLargeError,
    IntegrityError,
    InvalidPlistError,
    PasswordRequiredError,
    UnsupportedFormatError,
    WrongPasswordError,
)
from .plist import parse_plist, serialize_plist

__all__ = [
    "DEFAULT_MAX_SIZE",
    "ConfigPurpose",
    "SebFile",
    "decode_seb",
    "encode_seb",
    "hash_password",
    "package_xml",
]

DEFAULT_MAX_SIZE = 20 * 1024 * 1024
# More layers than any real file has (gzip, phsk, pswd, gzip, xml); stops gzip-in-gzip games.
MAX_LAYERS = 12

PLAIN = b"plnd"
PASSWORD = b"pswd"
PASSWORD_CONFIGURING_CLIENT = b"pwcc"
PUBLIC_KEY_HASH = b"pkhs"
PUBLIC_KEY_HASH_SYMMETRIC = b"phsk"

_GZIP_MAGIC = b"\x1f\x8b\x08"  # ID1 ID2 CM=deflate, the check SEB Server and SEB for Windows use
_HASH_LEN = 20
# pkhs costs one RSA operation per 256 bytes; 1 MB of gzip-compressed settings is plenty.
MAX_PKHS_SIZE = 1024 * 1024
# What a decrypted pkhs/phsk payload can start with: an inner block, gzip or XML.
_INNER_STARTS = (PLAIN, PASSWORD, PASSWORD_CONFIGURING_CLIENT, _GZIP_MAGIC, b"<")


class ConfigPurpose(IntEnum):
    """Value of the ``sebConfigPurpose`` setting; selects ``pswd`` or ``pwcc`` encryption."""

    START_EXAM = 0
    CONFIGURE_CLIENT = 1


@dataclass(frozen=True)
class SebFile:
    """A decoded ``.seb`` file: the settings and how they were packaged.

    ``layers`` lists what was peeled off, outermost first, e.g.
    ``("gzip", "pswd", "gzip", "xml")``; entries are ``gzip``, the prefixes and finally ``xml``.
    ``xml`` is the decrypted plist exactly as stored, ``rncryptor_version`` the version byte (2 or 3)
    of the ``pswd``/``pwcc`` block, ``certificate_hash`` the public-key hash of a ``pkhs``/``phsk``
    layer.
    """

    settings: dict[str, Any]
    xml: bytes
    layers: tuple[str, ...]
    rncryptor_version: int | None = None
    certificate_hash: bytes | None = None

    @property
    def encrypted(self) -> bool:
        return any(layer in ("pswd", "pwcc", "pkhs", "phsk") for layer in self.layers)

    @property
    def password_protected(self) -> bool:
        return "pswd" in self.layers or "pwcc" in self.layers

    @property
    def certificate_encrypted(self) -> bool:
        return "pkhs" in self.layers or "phsk" in self.layers

    @property
    def purpose(self) -> ConfigPurpose | None:
        """Purpose implied by the password prefix (``None`` without password encryption)."""
        if "pwcc" in self.layers:
            return ConfigPurpose.CONFIGURE_CLIENT
        if "pswd" in self.layers:
            return ConfigPurpose.START_EXAM
        return None

    def config_key(self) -> str:
        return config_key(self.settings)


def hash_password(password: str) -> str:
    """Lowercase hex SHA-256 of the UTF-8 password, as SEB stores admin/quit passwords."""
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------ decoding


def decode_seb(
    data: bytes,
    *,
    password: str | None = None,
    identities: Sequence[Identity] = (),
    max_size: int = DEFAULT_MAX_SIZE,
) -> SebFile:
    """Decode a ``.seb`` file (any supported packaging) into its settings.

    ``password`` is the settings password as typed (for ``pwcc`` it is hashed here; an already
    hashed value also works). ``identities`` are tried for certificate-encrypted files.
    ``max_size`` limits the input and every decompressed layer. Raises subclasses of
    :class:`~sebframe.core.sebconfig.errors.SebConfigError` only.
    """
    data = bytes(data)
    if len(data) > max_size:
        raise InputTooLargeError(f"The file is larger than the allowed {_size_text(max_size)}.")
    if not data:
        raise CorruptFileError("The file is empty.")
    layers: list[str] = []
    version: int | None = None
    cert_hash: bytes | None = None
    for _ in range(MAX_LAYERS):
        if not data:
            raise CorruptFileError(f"The file is damaged: nothing follows the {layers[-1]!r} layer.")
        prefix = data[:4]
        if data.startswith(_GZIP_MAGIC):
            data = _gunzip(data, max_size)
            layers.append("gzip")
        elif prefix == PLAIN:
            data = data[4:]
            layers.append("plnd")
        elif prefix in (PASSWORD, PASSWORD_CONFIGURING_CLIENT):
            version = data[4] if len(data) > 4 else None
            data = _open_password_block(data[4:], password, hashed=prefix == PASSWORD_CONFIGURING_CLIENT)
            layers.append(prefix.decode("ascii"))
        elif prefix == PUBLIC_KEY_HASH:
            cert_hash = _key_hash(data)
            data = _open_pkhs(data[4 + _HASH_LEN :], _find_identity(cert_hash, identities))
            layers.append("pkhs")
        elif prefix == PUBLIC_KEY_HASH_SYMMETRIC:
            cert_hash = _key_hash(data)
            data = _open_phsk(data[4 + _HASH_LEN :], _find_identity(cert_hash, identities))
            layers.append("phsk")
        elif _looks_like_xml(data):
            layers.append("xml")
            settings = parse_plist(data)
            if not isinstance(settings, dict):
                raise InvalidPlistError("The property list does not contain a settings dictionary.")
            return SebFile(settings, data, tuple(layers), version, cert_hash)
        else:
            raise UnsupportedFormatError(
                f"Unknown SEB configuration format (the data starts with {data[:4]!r}); "
                "expected XML, gzip or one of the prefixes plnd, pswd, pwcc, pkhs, phsk."
            )
    raise CorruptFileError(f"The file has more than {MAX_LAYERS} nested layers.")


def _size_text(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    return f"{size} bytes"


def _gunzip(data: bytes, limit: int) -> bytes:
    """Gunzip all members, refusing output beyond ``limit`` bytes (decompression bombs)."""
    out = bytearray()
    rest = data
    while True:
        d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        buf = rest
        try:
            while True:
                room = limit + 1 - len(out)
                chunk = d.decompress(buf, room)
                out += chunk
                if len(out) > limit:
                    raise InputTooLargeError(
                        f"The file expands to more than {_size_text(limit)} when decompressed "
                        "(refused as a possible decompression bomb)."
                    )
                buf = d.unconsumed_tail
                # A full output buffer may hide pending output even if all input was consumed.
                if d.eof or (not buf and len(chunk) < room):
                    break
        except zlib.error:
            raise CompressionError("The file is damaged: invalid gzip compressed data.") from None
        if not d.eof:
            raise CompressionError("The file is damaged: the gzip compressed data is truncated.")
        rest = d.unused_data
        if not rest.startswith(_GZIP_MAGIC):
            return bytes(out)  # trailing bytes after the last member are ignored, as in Java


def _looks_like_xml(data: bytes) -> bool:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 BOM
        return True
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.lstrip(b" \t\r\n").startswith(b"<")


def _password_candidates(password: str, hashed: bool) -> list[str]:
    if not hashed:
        return [password]
    # pwcc: SEB hashes the password (Windows plain, macOS NFC-normalised); callers may pass the
    # hash itself; macOS also accepts an uppercase hash; "" is used without admin password.
    candidates = [
        hash_password(password) if password else "",
        hash_password(unicodedata.normalize("NFC", password)) if password else "",
        password,
        hash_password(password).upper() if password else "",
        "",
    ]
    return list(dict.fromkeys(candidates))


def _open_password_block(payload: bytes, password: str | None, *, hashed: bool) -> bytes:
    candidates = _password_candidates(password, hashed) if password is not None else [""]
    for secret in candidates:
        try:
            return rncryptor.decrypt(payload, secret)
        except WrongPasswordError:
            continue
    if password is None or password == "":
        raise PasswordRequiredError("This configuration file is password protected; a password is required.")
    raise WrongPasswordError(
        "The password is wrong (or the file is damaged): the configuration file could not be decrypted."
    )


def _key_hash(data: bytes) -> bytes:
    if len(data) < 4 + _HASH_LEN:
        raise CorruptFileError("The file is damaged: the certificate-encrypted block is truncated.")
    return data[4 : 4 + _HASH_LEN]


def _find_identity(key_hash: bytes, identities: Sequence[Identity]) -> Identity:
    for identity in identities:
        if identity.public_key_hash == key_hash:
            return identity
    raise IdentityRequiredError(
        "This configuration file is encrypted for a certificate whose private key is not available "
        f"(public-key hash {key_hash.hex()})."
    )


def _open_pkhs(body: bytes, identity: Identity) -> bytes:
    key = identity.private_key
    block = key.key_size // 8
    if not body:
        raise CorruptFileError("The file is damaged: the certificate-encrypted block is empty.")
    if len(body) > MAX_PKHS_SIZE:
        # One RSA operation per block: a huge pkhs body would burn CPU for minutes.
        raise InputTooLargeError(
            f"The certificate-encrypted (pkhs) block is larger than the allowed {_size_text(MAX_PKHS_SIZE)}."
        )
    out = bytearray()
    for start in range(0, len(body), block):
        try:
            out += key.decrypt(body[start : start + block], PKCS1v15())
        except ValueError:
            raise CertificateError(
                f"The file could not be decrypted with the identity {identity.name}."
            ) from None
        if start == 0 and not out.startswith(_INNER_STARTS):
            # RSA decryption with a wrong key yields random bytes (implicit rejection); stop early.
            raise CertificateError(f"The file could not be decrypted with the identity {identity.name}.")
    return bytes(out)


def _open_phsk(body: bytes, identity: Identity) -> bytes:
    if len(body) < 4:
        raise CorruptFileError("The file is damaged: the certificate-encrypted block is truncated.")
    key_len = int.from_bytes(body[:4], "little", signed=True)
    if key_len <= 0 or 4 + key_len > len(body):
        raise CorruptFileError("The file is damaged: invalid encrypted key length.")
    try:
        sym_key = identity.private_key.decrypt(body[4 : 4 + key_len], PKCS1v15())
    except ValueError:
        raise CertificateError(
            f"The file's symmetric key could not be decrypted with the identity {identity.name}."
        ) from None
    try:
        return rncryptor.decrypt(body[4 + key_len :], base64.b64encode(sym_key).decode("ascii"))
    except WrongPasswordError:
        # The key came from RSA, so an HMAC mismatch means the data (or key block) was altered.
        raise IntegrityError(
            "The file is damaged: the certificate-encrypted data fails its HMAC check."
        ) from None


# ------------------------------------------------------------------------------------ encoding


def encode_seb(
    settings: Mapping[str, Any],
    *,
    password: str | None = None,
    purpose: ConfigPurpose | None = None,
    password_is_hash: bool = False,
    certificate: x509.Certificate | RSAPublicKey | None = None,
    asymmetric_only: bool = False,
    compress: bool = True,
    plain_prefix: bool = True,
    xml_indent: str | None = None,
) -> bytes:
    """Serialize settings and package them as a ``.seb`` file.

    ``purpose`` defaults to the ``sebConfigPurpose`` setting (1 = configure client -> ``pwcc``).
    See :func:`package_xml` for the other options.
    """
    if purpose is None:
        purpose = (
            ConfigPurpose.CONFIGURE_CLIENT
            if settings.get("sebConfigPurpose") == ConfigPurpose.CONFIGURE_CLIENT
            else ConfigPurpose.START_EXAM
        )
    xml = serialize_plist(settings, indent=xml_indent)
    return package_xml(
        xml,
        password=password,
        purpose=purpose,
        password_is_hash=password_is_hash,
        certificate=certificate,
        asymmetric_only=asymmetric_only,
        compress=compress,
        plain_prefix=plain_prefix,
    )


def package_xml(
    xml: bytes,
    *,
    password: str | None = None,
    purpose: ConfigPurpose = ConfigPurpose.START_EXAM,
    password_is_hash: bool = False,
    certificate: x509.Certificate | RSAPublicKey | None = None,
    asymmetric_only: bool = False,
    compress: bool = True,
    plain_prefix: bool = True,
) -> bytes:
    """Package plist XML bytes as a ``.seb`` file (the layout SEB Server writes).

    * ``password`` set: ``pswd`` (START_EXAM, password as given) or ``pwcc`` (CONFIGURE_CLIENT,
      SHA-256 hex of the password unless ``password_is_hash``; an empty password stays ``""``).
    * ``certificate`` set: the inner block is wrapped in ``phsk`` (or ``pkhs`` with
      ``asymmetric_only``).
    * otherwise ``plnd`` + gzip(xml); with ``plain_prefix=False`` just the XML.
    * ``compress``: gzip the result once more (SEB Server omits this for exam-config downloads).
    """
    if password is not None:
        if purpose == ConfigPurpose.CONFIGURE_CLIENT:
            secret = password if password_is_hash or password == "" else hash_password(password)
            inner = PASSWORD_CONFIGURING_CLIENT + rncryptor.encrypt(_gzip(xml), secret)
        else:
            inner = PASSWORD + rncryptor.encrypt(_gzip(xml), password)
    elif certificate is not None or plain_prefix:
        inner = PLAIN + _gzip(xml)
    else:
        inner = bytes(xml)
    if certificate is not None:
        public = certificate.public_key() if isinstance(certificate, x509.Certificate) else certificate
        if not isinstance(public, RSAPublicKey):
            raise CertificateError("Only RSA certificates can be used for SEB configuration encryption.")
        inner = _wrap_pkhs(inner, public) if asymmetric_only else _wrap_phsk(inner, public)
    return _gzip(inner) if compress else inner


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)  # mtime=0: identical input gives identical files


def _wrap_pkhs(inner: bytes, public: RSAPublicKey) -> bytes:
    block = public.key_size // 8
    chunk = block - 32  # SEB for Windows' chunk size (224 bytes for RSA-2048), below the k-11 limit
    out = bytearray(PUBLIC_KEY_HASH + public_key_hash(public))
    for start in range(0, len(inner), chunk):
        out += public.encrypt(inner[start : start + chunk], PKCS1v15())
    return bytes(out)


def _wrap_phsk(inner: bytes, public: RSAPublicKey) -> bytes:
    sym_key = os.urandom(32)
    encrypted_key = public.encrypt(sym_key, PKCS1v15())
    body = rncryptor.encrypt(inner, base64.b64encode(sym_key).decode("ascii"))
    return (
        PUBLIC_KEY_HASH_SYMMETRIC
        + public_key_hash(public)
        + len(encrypted_key).to_bytes(4, "little")
        + encrypted_key
        + body
    )
