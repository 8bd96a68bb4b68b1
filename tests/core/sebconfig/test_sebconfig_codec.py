""".seb decode/encode: upstream files, every packaging variant, certificates and round trips."""

from __future__ import annotations

import base64
import gzip
import os
import re
from datetime import UTC
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from hypothesis import given, settings
from hypothesis import strategies as st

from sebframe.core.sebconfig import (
    ConfigPurpose,
    Identity,
    decode_seb,
    encode_seb,
    hash_password,
    load_certificate,
    load_identity,
    package_xml,
    parse_plist,
    public_key_hash,
    rncryptor,
    serialize_plist,
)
from tests.conftest import TEST_DATA

SETTINGS = {"startURL": "https://example.org/exam", "sebConfigPurpose": 0, "allowQuit": True, "n": 3}


@cache
def _identity(name: str) -> Identity:
    if name == "srv":
        return load_identity((TEST_DATA / "seb-server" / "testIdentity123.pfx").read_bytes(), "123")
    return load_identity((TEST_DATA / "seb-win-refactoring" / "UnitTestCert.pfx").read_bytes(), "")


# -------------------------------------------------------------------------------- vectors


def test_import_test_123(test_data: Path) -> None:
    seb = decode_seb((test_data / "seb-server" / "importTest_123.seb").read_bytes(), password="123")
    assert seb.layers == ("gzip", "pswd", "gzip", "xml")
    assert seb.rncryptor_version == 2
    assert seb.password_protected and seb.encrypted and not seb.certificate_encrypted
    assert seb.purpose is ConfigPurpose.START_EXAM
    assert b"\r\n" in seb.xml  # CRLF file parsed fine
    assert seb.settings


def test_moodle_encrypted_equals_unencrypted(test_data: Path) -> None:
    enc = decode_seb((test_data / "moodle-quizaccess_seb" / "encrypted.seb").read_bytes(), password="test")
    plain = decode_seb((test_data / "moodle-quizaccess_seb" / "unencrypted.seb").read_bytes())
    assert enc.layers == ("gzip", "pswd", "gzip", "xml") and enc.rncryptor_version == 2
    assert plain.layers == ("xml",) and not plain.encrypted and plain.purpose is None
    assert enc.settings == plain.settings


def test_seb_server_plain_strategy_vector() -> None:
    # SebConfigEncryptionServiceImplTest.testPlainText: "plnd" + raw text is a valid block.
    xml = serialize_plist({"a": 1})
    assert decode_seb(b"plnd" + xml).layers == ("plnd", "xml")
    made = package_xml(xml, compress=False)
    assert made.startswith(b"plnd") and gzip.decompress(made[4:]) == xml


# ------------------------------------------------------------------------------ packaging


def test_plain_variants_are_all_readable() -> None:
    xml = serialize_plist(SETTINGS)
    variants = [
        (("xml",), xml),
        (("xml",), b"\xef\xbb\xbf\r\n  " + xml),  # BOM and whitespace tolerated
        (("gzip", "xml"), gzip.compress(xml)),  # SEB macOS unencrypted
        (("gzip", "plnd", "gzip", "xml"), gzip.compress(b"plnd" + gzip.compress(xml))),  # SEB Server
        (("gzip", "gzip", "plnd", "xml"), gzip.compress(gzip.compress(b"plnd" + xml))),  # SEB Windows
        (("gzip", "xml"), gzip.compress(xml) + gzip.compress(b"")),  # multi-member gzip
        (("xml",), xml.decode().replace("utf-8", "utf-16").encode("utf-16")),  # UTF-16 with BOM
    ]
    for layers, data in variants:
        seb = decode_seb(data)
        assert seb.layers == layers
        assert seb.settings == SETTINGS


def test_encode_defaults_match_seb_server_layout() -> None:
    data = encode_seb(SETTINGS)
    assert data[:3] == b"\x1f\x8b\x08"
    inner = gzip.decompress(data)
    assert inner[:4] == b"plnd"
    assert gzip.decompress(inner[4:]) == serialize_plist(SETTINGS)
    assert encode_seb(SETTINGS) == data  # deterministic (gzip mtime 0)
    assert encode_seb(SETTINGS, compress=False, plain_prefix=False) == serialize_plist(SETTINGS)


def test_pswd_uses_plain_password() -> None:
    data = encode_seb(SETTINGS, password="s3cret")
    inner = gzip.decompress(data)
    assert inner[:4] == b"pswd" and inner[4] == 3 and inner[5] == 1  # RNCryptor v3, password option
    assert gzip.decompress(rncryptor.decrypt(inner[4:], "s3cret")) == serialize_plist(SETTINGS)
    seb = decode_seb(data, password="s3cret")
    assert seb.layers == ("gzip", "pswd", "gzip", "xml") and seb.rncryptor_version == 3


def test_pwcc_uses_hashed_password() -> None:
    client = {**SETTINGS, "sebConfigPurpose": 1}
    data = encode_seb(client, password="admin")  # purpose taken from sebConfigPurpose
    inner = gzip.decompress(data)
    assert inner[:4] == b"pwcc"
    rncryptor.decrypt(inner[4:], hash_password("admin"))  # hashed, lowercase hex
    assert decode_seb(data, password="admin").purpose is ConfigPurpose.CONFIGURE_CLIENT
    assert decode_seb(data, password=hash_password("admin")).settings == client  # caller has the hash


def test_pwcc_empty_password_and_variants() -> None:
    data = encode_seb(SETTINGS, password="", purpose=ConfigPurpose.CONFIGURE_CLIENT)
    rncryptor.decrypt(gzip.decompress(data)[4:], "")  # not hashed
    assert decode_seb(data).settings == SETTINGS  # "" is tried without a password
    # SEB macOS also writes/accepts the uppercase hash
    upper = b"pwcc" + rncryptor.encrypt(gzip.compress(serialize_plist(SETTINGS)), hash_password("pw").upper())
    assert decode_seb(upper, password="pw").settings == SETTINGS
    given_hash = encode_seb(SETTINGS, password=hash_password("pw"), purpose=1, password_is_hash=True)
    assert decode_seb(given_hash, password="pw").settings == SETTINGS


def test_exam_config_download_form() -> None:
    # SEB Server exam config download: "pswd" || RNCryptor without outer gzip
    data = encode_seb(SETTINGS, password="x", compress=False)
    assert data[:4] == b"pswd"
    assert decode_seb(data, password="x").layers == ("pswd", "gzip", "xml")


# ---------------------------------------------------------------------------- certificates


def test_identity_hashes(test_data: Path) -> None:
    assert _identity("win").public_key_hash.hex() == "9a6ff964feef5924c2d8027b384b1519395c53ba"
    assert _identity("srv").public_key_hash.hex() == "f45ee30dd1847ae18d679ede46e2e2322248bb21"
    cert = load_certificate((test_data / "seb-server" / "sebserver-test.cer").read_bytes())
    assert public_key_hash(cert).hex() == "3799dc54415d4587d74d390173eb19c0782fcb7e"
    assert "Unit Test Certificate" in _identity("win").name


def test_phsk_layout() -> None:
    ident = _identity("win")
    data = gzip.decompress(encode_seb(SETTINGS, certificate=ident.certificate))
    assert data[:4] == b"phsk" and data[4:24] == ident.public_key_hash
    key_len = int.from_bytes(data[24:28], "little")
    assert key_len == 256  # RSA-2048
    sym_key = ident.private_key.decrypt(data[28 : 28 + key_len], PKCS1v15())
    assert len(sym_key) == 32
    inner = rncryptor.decrypt(data[28 + key_len :], base64.b64encode(sym_key).decode())
    assert inner[:4] == b"plnd"
    seb = decode_seb(gzip.compress(data), identities=[_identity("srv"), ident])
    assert seb.layers == ("gzip", "phsk", "plnd", "gzip", "xml")
    assert seb.certificate_hash == ident.public_key_hash and seb.certificate_encrypted


def test_pkhs_multi_block_with_password() -> None:
    ident = _identity("srv")
    big = {f"key{i}": os.urandom(16) for i in range(40)}  # incompressible: several RSA blocks
    data = encode_seb(big, password="pw", certificate=ident.private_key.public_key(), asymmetric_only=True)
    raw = gzip.decompress(data)
    assert raw[:4] == b"pkhs" and (len(raw) - 24) % 256 == 0 and len(raw) - 24 > 256
    seb = decode_seb(data, password="pw", identities=[ident])
    assert seb.layers == ("gzip", "pkhs", "pswd", "gzip", "xml")
    assert seb.settings == big


# ------------------------------------------------------------------------------ round trips

_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12).filter(
    lambda s: not _INVALID.search(s)
)
_values = st.recursive(
    _text
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.binary(max_size=16)
    | st.datetimes(timezones=st.just(UTC)),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(_text, c, max_size=3),
    max_leaves=10,
)
_settings = st.dictionaries(_text, _values, max_size=6)


@settings(max_examples=40, deadline=None)
@given(value=_settings, compress=st.booleans(), indent=st.sampled_from([None, "\t"]))
def test_round_trip_plain(value: dict[str, object], compress: bool, indent: str | None) -> None:
    seb = decode_seb(encode_seb(value, compress=compress, xml_indent=indent))
    assert seb.settings == value and not seb.encrypted


@settings(max_examples=6, deadline=None)
@given(value=_settings, password=_text, purpose=st.sampled_from(list(ConfigPurpose)))
def test_round_trip_password(value: dict[str, object], password: str, purpose: ConfigPurpose) -> None:
    seb = decode_seb(encode_seb(value, password=password, purpose=purpose), password=password)
    assert seb.settings == value
    assert seb.purpose is purpose


@settings(max_examples=4, deadline=None)
@given(value=_settings, password=st.none() | _text, asymmetric_only=st.booleans())
def test_round_trip_certificate(
    value: dict[str, object], password: str | None, asymmetric_only: bool
) -> None:
    ident = _identity("win")
    data = encode_seb(
        value, password=password, certificate=ident.certificate, asymmetric_only=asymmetric_only
    )
    seb = decode_seb(data, password=password, identities=[ident])
    assert seb.settings == value
    assert seb.layers[1] == ("pkhs" if asymmetric_only else "phsk")


def test_parse_of_decoded_xml_matches_settings(test_data: Path) -> None:
    seb = decode_seb((test_data / "seb-server" / "importTest_123.seb").read_bytes(), password="123")
    assert parse_plist(seb.xml) == seb.settings
