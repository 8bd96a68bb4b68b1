"""Malformed input gives the specific SebConfigError subclass with a readable message."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from sebframe.core.sebconfig import (
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
    decode_seb,
    encode_seb,
    load_certificate,
    load_identity,
    serialize_plist,
)

ENCRYPTED = "moodle-quizaccess_seb/encrypted.seb"


def _expect(error: type[SebConfigError], data: bytes, **kwargs: object) -> str:
    with pytest.raises(error) as info:
        decode_seb(data, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert message and message[0].isupper() and message.endswith(".")
    for leak in ("zlib", "Error -3", "expat", "Traceback", "ValueError"):
        assert leak not in message
    return message


def test_error_tree() -> None:
    for cls in (CompressionError, IntegrityError, InvalidPlistError):
        assert issubclass(cls, CorruptFileError)
    for cls in (IdentityRequiredError, IdentityPasswordError):
        assert issubclass(cls, CertificateError)
    for cls in (
        CorruptFileError,
        UnsupportedFormatError,
        PasswordRequiredError,
        WrongPasswordError,
        CertificateError,
        InputTooLargeError,
    ):
        assert issubclass(cls, SebConfigError)


def test_empty_file() -> None:
    assert "empty" in _expect(CorruptFileError, b"")


def test_truncated_gzip(test_data: Path) -> None:
    data = (test_data / ENCRYPTED).read_bytes()
    assert "truncated" in _expect(CompressionError, data[: len(data) // 2], password="test")


def test_damaged_gzip() -> None:
    data = bytearray(gzip.compress(serialize_plist({"a": "b" * 100})))
    data[-6] ^= 0xFF  # CRC32 trailer
    _expect(CompressionError, bytes(data))
    _expect(CompressionError, b"\x1f\x8b\x08\x00garbage-garbage-garbage")


def test_unknown_prefix() -> None:
    assert "plnd" in _expect(UnsupportedFormatError, gzip.compress(b"abcd" + bytes(50)))
    _expect(UnsupportedFormatError, b"\x00\x01\x02\x03")


def test_bad_hmac(test_data: Path) -> None:
    inner = bytearray(gzip.decompress((test_data / ENCRYPTED).read_bytes()))
    inner[-1] ^= 0x01  # last HMAC byte
    message = _expect(WrongPasswordError, gzip.compress(bytes(inner)), password="test")
    assert "damaged" in message


def test_wrong_and_missing_password(test_data: Path) -> None:
    data = (test_data / ENCRYPTED).read_bytes()
    assert "password" in _expect(WrongPasswordError, data, password="nope")
    assert "password" in _expect(PasswordRequiredError, data)
    _expect(PasswordRequiredError, data, password="")


def test_non_plist_xml() -> None:
    assert "not a property list" in _expect(InvalidPlistError, b'<?xml version="1.0"?><html><body/></html>')
    _expect(InvalidPlistError, b"<?xml version='1.0'?><plist><dict><key>a</key>")
    _expect(InvalidPlistError, serialize_plist(["not", "a", "dict"]))
    _expect(InvalidPlistError, gzip.compress(b"plnd" + gzip.compress(b"<plist><integer>x</integer></plist>")))


def test_truncated_blocks() -> None:
    _expect(CorruptFileError, b"pswd\x03\x01" + bytes(20), password="x")
    _expect(CorruptFileError, b"phsk" + bytes(10))
    _expect(CorruptFileError, b"plnd")


def test_unsupported_rncryptor_version() -> None:
    assert "version 1" in _expect(UnsupportedFormatError, b"pswd\x01\x01" + bytes(80), password="x")


def test_size_limits() -> None:
    data = encode_seb({"a": "b"})
    assert "larger than" in _expect(InputTooLargeError, data, max_size=len(data) - 1)
    bomb = gzip.compress(serialize_plist({"a": " " * 3_000_000}))
    assert len(bomb) < 100_000
    assert "decompression bomb" in _expect(InputTooLargeError, bomb, max_size=1024 * 1024)
    deep = serialize_plist({"a": 1})
    for _ in range(20):
        deep = gzip.compress(deep)
    assert "layers" in _expect(CorruptFileError, deep)


def test_certificate_errors(test_data: Path) -> None:
    pfx = (test_data / "seb-server" / "testIdentity123.pfx").read_bytes()
    with pytest.raises(IdentityPasswordError, match="password"):
        load_identity(pfx, "wrong")
    with pytest.raises(IdentityPasswordError):
        load_identity(b"not a pfx", "")
    with pytest.raises(CertificateError, match="X.509"):
        load_certificate(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    ident = load_identity(pfx, "123")
    other = load_identity((test_data / "seb-win-refactoring" / "UnitTestCert.pfx").read_bytes(), None)
    data = encode_seb({"a": 1}, certificate=ident.certificate)
    assert ident.public_key_hash.hex() in _expect(IdentityRequiredError, data)
    _expect(IdentityRequiredError, data, identities=[other])
    # phsk body altered after the RSA part: the key is right, so it is an integrity error
    raw = bytearray(gzip.decompress(data))
    raw[-1] ^= 0x01
    _expect(IntegrityError, bytes(raw), identities=[ident])


def test_pkhs_wrong_key_and_size(test_data: Path) -> None:
    win = load_identity((test_data / "seb-win-refactoring" / "UnitTestCert.pfx").read_bytes(), "")
    srv = load_identity((test_data / "seb-server" / "testIdentity123.pfx").read_bytes(), "123")
    raw = gzip.decompress(encode_seb({"a": 1}, certificate=srv.certificate, asymmetric_only=True))
    # claims to be for "win" but was encrypted for "srv"
    forged = b"pkhs" + win.public_key_hash + raw[24:]
    assert "could not be decrypted" in _expect(CertificateError, forged, identities=[win])
    huge = b"pkhs" + win.public_key_hash + bytes(2 * 1024 * 1024)
    assert "pkhs" in _expect(InputTooLargeError, huge, identities=[win])
