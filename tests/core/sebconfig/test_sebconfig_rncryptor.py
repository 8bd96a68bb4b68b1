"""RNCryptor v2/v3: the RNCryptor-Spec vector files, failure modes and a round trip."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sebframe.core.sebconfig import rncryptor
from sebframe.core.sebconfig.errors import (
    CorruptFileError,
    IntegrityError,
    UnsupportedFormatError,
    WrongPasswordError,
)


def _records(path: Path) -> list[dict[str, str]]:
    """Parse a spec vector file: blank-line separated ``name: value`` records, ``#`` comments."""
    records: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if current:
                records.append(current)
                current = {}
            continue
        name, _, value = line.partition(":")
        current[name.strip()] = value.strip()
    return records


def _hex(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


def _vector_file(test_data: Path, version: str, kind: str) -> list[dict[str, str]]:
    records = _records(test_data / "rncryptor-spec" / version / kind)
    assert records, f"no records in {version}/{kind}"
    return records


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_password_vectors(test_data: Path, version: str) -> None:
    for rec in _vector_file(test_data, version, "password"):
        ciphertext = _hex(rec["ciphertext_hex"])
        plaintext = _hex(rec.get("plaintext_hex", ""))
        made = rncryptor.encrypt(
            plaintext,
            rec["password"],
            version=int(rec["version"]),
            encryption_salt=_hex(rec["enc_salt_hex"]),
            hmac_salt=_hex(rec["hmac_salt_hex"]),
            iv=_hex(rec["iv_hex"]),
        )
        assert made == ciphertext, rec["title"]
        assert rncryptor.decrypt(ciphertext, rec["password"]) == plaintext, rec["title"]


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_kdf_vectors(test_data: Path, version: str) -> None:
    for rec in _vector_file(test_data, version, "kdf"):
        key = rncryptor.password_key(rec["password"], _hex(rec["salt_hex"]), int(rec["version"]))
        assert key == _hex(rec["key_hex"]), rec["title"]


def test_key_vectors_v3(test_data: Path) -> None:
    for rec in _vector_file(test_data, "v3", "key"):
        ciphertext = _hex(rec["ciphertext_hex"])
        plaintext = _hex(rec.get("plaintext_hex", ""))
        enc_key, hmac_key = _hex(rec["enc_key_hex"]), _hex(rec["hmac_key_hex"])
        assert rncryptor.encrypt_with_keys(plaintext, enc_key, hmac_key, iv=_hex(rec["iv_hex"])) == ciphertext
        assert rncryptor.decrypt_with_keys(ciphertext, enc_key, hmac_key) == plaintext


def test_v2_multibyte_password_is_read_like_seb_windows() -> None:
    # SEB for Windows writes v2 but derives keys from the full UTF-8 password.
    full = rncryptor.encrypt(b"data", "pässwörd", version=3)
    as_v2 = bytes([2]) + full[1:]
    # HMAC covers the version byte, so recompute it as Windows would have written it.
    hmac_key = rncryptor.password_key("pässwörd", as_v2[10:18], 3)
    body = as_v2[:-32]
    as_v2 = body + hmac.new(hmac_key, body, hashlib.sha256).digest()
    assert rncryptor.decrypt(as_v2, "pässwörd") == b"data"
    # ... and the truncating reference implementation's v2 output as well
    assert rncryptor.decrypt(rncryptor.encrypt(b"data", "pässwörd", version=2), "pässwörd") == b"data"


def test_wrong_password_and_tampering() -> None:
    data = rncryptor.encrypt(b"secret", "pw")
    with pytest.raises(WrongPasswordError, match="password"):
        rncryptor.decrypt(data, "other")
    flipped = data[:40] + bytes([data[40] ^ 1]) + data[41:]
    with pytest.raises(WrongPasswordError):
        rncryptor.decrypt(flipped, "pw")


def test_key_based_tampering() -> None:
    key = bytes(range(32))
    data = rncryptor.encrypt_with_keys(b"abc", key, key)
    with pytest.raises(IntegrityError, match="damaged"):
        rncryptor.decrypt_with_keys(data[:-1] + bytes([data[-1] ^ 0x80]), key, key)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", CorruptFileError),
        (b"\x03", CorruptFileError),
        (b"\x03\x01" + bytes(40), CorruptFileError),
        (b"\x01\x01" + bytes(80), UnsupportedFormatError),
        (b"\x03\x07" + bytes(80), UnsupportedFormatError),
        (b"\x03\x00" + bytes(80), UnsupportedFormatError),
    ],
)
def test_structural_errors(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        rncryptor.decrypt(data, "pw")
    assert str(info.value)


@settings(max_examples=8, deadline=None)
@given(
    plaintext=st.binary(max_size=100),
    password=st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
)
def test_round_trip(plaintext: bytes, password: str) -> None:
    assert rncryptor.decrypt(rncryptor.encrypt(plaintext, password), password) == plaintext
