"""XML plist reader/writer: upstream test_data, tolerance, layout and hypothesis round trips."""

from __future__ import annotations

import base64
import math
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sebframe.core.sebconfig.errors import InvalidPlistError
from sebframe.core.sebconfig.plist import (
    format_plist_date,
    parse_plist,
    parse_plist_date,
    serialize_plist,
)

# ------------------------------------------------------------------------------- vectors


def test_win_xml_test_data(test_data: Path) -> None:
    # SEB for Windows XmlParserTests.MustCorrectlyParseXml
    data = parse_plist((test_data / "seb-win-refactoring" / "XmlTestData.xml").read_bytes())
    assert data["someString"] == "test123"
    assert data["someInteger"] == 9876
    assert data["someData"] == base64.b64decode("/5vlF76sb+5vgkhjiNTOn7l1SN3Ho2UAMJD3TtLo49M=")
    assert data["someBoolean"] is True
    assert data["anotherBoolean"] is False
    assert data["someReal"] == 12.34
    assert data["someDate"] == datetime(2019, 2, 20, 12, 30, 0, 123000, tzinfo=UTC)
    assert data["anArray"] == [
        {"dictOneKeyOne": 3, "dictOneKeyTwo": 4},
        {"dictTwoKeyOne": 5, "dictTwoKeyTwo": 6},
        {"dictThreeKeyOne": 7, "dictThreeKeyTwo": [1, 2, 3, 4]},
    ]


def test_win_xml_test_settings(test_data: Path) -> None:
    # SEB for Windows XmlParserTests.MustCorrectlyParseTestSettings
    data = parse_plist((test_data / "seb-win-refactoring" / "XmlTestSettings.xml").read_bytes())
    # upstream asserts Keys.Browser.AllowConfigurationDownloads, whose raw key is this one
    assert data["downloadAndOpenSebConfig"] is True
    assert data["sebConfigPurpose"] == 0
    assert data["startURL"] == "https://safeexambrowser.org/start"
    assert data["enableF5"] is True
    assert data["embeddedCertificates"] == []  # <array></array>
    assert data["startResource"] == ""  # <string /> maps to ""


def test_seb_server_import_test(test_data: Path) -> None:
    # SEB Server UseCasesIntegrationTest import assertions
    data = parse_plist((test_data / "seb-server" / "importTest.seb").read_bytes())
    assert data["URLFilterEnable"] is True
    assert data["URLFilterRules"][0]["expression"] == "jrtjrtzj"


# ----------------------------------------------------------------------------- tolerance


def test_crlf_bom_whitespace_and_empty_elements() -> None:
    xml = (
        '\ufeff  \r\n<?xml version="1.0" encoding="utf-8"?>\r\n<plist version="1.0">\r\n<dict>\r\n'
        "\t<key>a</key>\r\n\t<array/>\r\n\t<key>b</key>\r\n\t<dict/>\r\n\t<key>c</key>\r\n\t<string />\r\n"
        "\t<key>d</key><string>x\r\ny</string>\r\n\t<key>e</key><integer> -5 </integer>\r\n"
        "\t<key>f</key><real>1E-05</real><key>g</key><data>\r\n  AAEC\r\n  Aw==\r\n</data>\r\n"
        "</dict>\r\n</plist>\r\n"
    ).encode("utf-8")
    assert parse_plist(xml) == {"a": [], "b": {}, "c": "", "d": "x\ny", "e": -5, "f": 1e-05, "g": b"\0\1\2\3"}


def test_root_without_plist_wrapper_and_specials() -> None:
    assert parse_plist("<array><real>+infinity</real><real>nan</real></array>")[0] == math.inf
    assert math.isnan(parse_plist("<array><real>nan</real></array>")[0])
    assert parse_plist("<plist><integer>0x1F</integer></plist>") == 31


def test_encodings() -> None:
    doc = '<?xml version="1.0" encoding="{}"?><plist><string>\u00e4</string></plist>'
    assert parse_plist(doc.format("utf-16")) == "\u00e4"  # str input: declaration irrelevant
    assert parse_plist(doc.format("utf-16").encode("utf-16")) == "\u00e4"
    assert parse_plist(doc.format("iso-8859-1").encode("latin-1")) == "\u00e4"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-02-20T12:30:00Z", datetime(2019, 2, 20, 12, 30, tzinfo=UTC)),
        ("2019-02-20T12:30:00.123+02:00", datetime(2019, 2, 20, 10, 30, 0, 123000, tzinfo=UTC)),
        ("2019-02-20T14:30:00.1230000+02:00", datetime(2019, 2, 20, 12, 30, 0, 123000, tzinfo=UTC)),
        ("2019-02-20T12:30:00.1234567-01:30", datetime(2019, 2, 20, 14, 0, 0, 123456, tzinfo=UTC)),
        ("2019-02-20T12:30:00", datetime(2019, 2, 20, 12, 30, tzinfo=UTC)),
        ("2019-02-20", datetime(2019, 2, 20, tzinfo=UTC)),
        ("1940-10-09T22:13:56Z", datetime(1940, 10, 9, 22, 13, 56, tzinfo=UTC)),
    ],
)
def test_dates(text: str, expected: datetime) -> None:
    assert parse_plist_date(text) == expected
    assert parse_plist(f"<date>{text}</date>") == expected


def test_date_formatting() -> None:
    assert format_plist_date(datetime(2019, 2, 20, 12, 30, tzinfo=UTC)) == "2019-02-20T12:30:00Z"
    assert format_plist_date(datetime(5, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)) == "0005-01-02T03:04:05.12Z"


@pytest.mark.parametrize(
    "xml",
    [
        "<html><body/></html>",
        "<plist><dict><key>a</key></dict></plist>",
        "<plist><dict><key>a</key><key>b</key><true/></dict></plist>",
        "<plist><key>a</key></plist>",
        "<key>a</key>",
        "<plist><plist/></plist>",
        "<plist><dict><string>a</string></dict></plist>",
        "<plist><integer>12a</integer></plist>",
        "<plist><real>1_0</real></plist>",
        "<plist><date>yesterday</date></plist>",
        "<plist><data>!!!</data></plist>",
        "<plist><string><b>x</b></string></plist>",
        "<plist><dict>text</dict></plist>",
        "<plist></plist>",
        "<plist><true/><false/></plist>",
        "<plist><dict>",
        "not xml at all",
        "",
        '<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "aaaa">]><plist><string>&a;</string></plist>',
        "<plist><integer>99999999999999999999999</integer></plist>",
    ],
)
def test_invalid(xml: str) -> None:
    with pytest.raises(InvalidPlistError) as info:
        parse_plist(xml)
    assert str(info.value)


def test_depth_limit() -> None:
    with pytest.raises(InvalidPlistError, match="nested"):
        parse_plist("<array>" * 200 + "</array>" * 200)


# -------------------------------------------------------------------------------- writer


def test_compact_layout_matches_seb_server() -> None:
    xml = serialize_plist({"a": True, "b": "", "c": [], "d": {"x": 1}, "e": "<&>"}).decode()
    assert xml == (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<!DOCTYPE plist PUBLIC "-//Apple Computer//DTD PLIST 1.0//EN" '
        '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">'
        '<plist version="1.0"><dict><key>a</key><true /><key>b</key><string /><key>c</key><array />'
        "<key>d</key><dict><key>x</key><integer>1</integer></dict><key>e</key><string>&lt;&amp;&gt;</string>"
        "</dict></plist>"
    )


def test_seb_server_converter_xml_vectors() -> None:
    # SEB Server TableConverterTest / ArrayOfStringConverterTest XML fragments
    table = serialize_plist({"table": [{"attr1": "1", "attr2": "2"}, {"attr1": "3", "attr2": "4"}]}).decode()
    assert (
        "<key>table</key><array><dict><key>attr1</key><string>1</string><key>attr2</key><string>2</string>"
        "</dict><dict><key>attr1</key><string>3</string><key>attr2</key><string>4</string></dict></array>"
    ) in table
    assert "<key>table</key><array />" in serialize_plist({"table": []}).decode()
    strings = serialize_plist({"attribute": ["one", "two", "tree"]}).decode()
    assert (
        "<key>attribute</key><array><string>one</string><string>two</string><string>tree</string></array>"
        in (strings)
    )


def test_indented_layout() -> None:
    xml = serialize_plist({"a": [1, {"b": False}]}, indent="\t").decode()
    assert xml.endswith(
        '<plist version="1.0">\n<dict>\n\t<key>a</key>\n\t<array>\n\t\t<integer>1</integer>\n'
        "\t\t<dict>\n\t\t\t<key>b</key>\n\t\t\t<false />\n\t\t</dict>\n\t</array>\n</dict>\n</plist>\n"
    )


def test_writer_rejects_unrepresentable() -> None:
    with pytest.raises(ValueError):
        serialize_plist({"a": "bad\x00char"})
    with pytest.raises(TypeError):
        serialize_plist({"a": object()})
    with pytest.raises(TypeError):
        serialize_plist({1: "x"})
    with pytest.raises(ValueError):
        serialize_plist({"a": 2**64})


def test_writer_keeps_carriage_returns() -> None:
    assert parse_plist(serialize_plist({"a": "x\r\ny\rz"})) == {"a": "x\r\ny\rz"}


# ---------------------------------------------------------------------------- round trip

_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
xml_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20).filter(
    lambda s: not _INVALID_XML_CHARS.search(s)
)
scalars = (
    xml_text
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.binary(max_size=40)
    | st.datetimes(timezones=st.just(UTC))
)
plist_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(xml_text, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(value=plist_values, indent=st.sampled_from([None, "\t", "  "]))
def test_round_trip(value: object, indent: str | None) -> None:
    assert parse_plist(serialize_plist(value, indent=indent)) == value
