"""Exam-configuration values: defaults, validation (clear messages), canonical form, diff."""

from __future__ import annotations

import json

import pytest

from sebframe.core.sebconfig import (
    Catalogue,
    Change,
    SettingsValidationError,
    default_row,
    default_values,
    diff,
    format_decimal,
    load_catalogue,
    mark_imported_password,
    parse_inline_table,
    validate_row,
    validate_value,
    validate_values,
)
from sebframe.core.sebconfig.settings import canonical_blank, format_inline_table, is_blank, is_seb_version


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


# ------------------------------------------------------------------------------------ defaults


def test_every_default_validates_to_itself(cat: Catalogue) -> None:
    for attr in cat.attributes():
        if attr.is_table:
            continue
        assert validate_value(attr, attr.default) == attr.default, attr.name
        if attr.default is not None:
            assert validate_value(attr, attr.default.strip() + "") == attr.default, attr.name


def test_default_values_shape(cat: Catalogue) -> None:
    values = default_values()
    assert set(values) == {a.name for a in cat.root_attributes()}
    assert values["allowQuit"] == "true"
    assert values["hashedAdminPassword"] is None
    assert values["originatorVersion"] == "SEB_Server_0.3.0"
    assert values["kioskMode"] == "0"
    assert values["URLFilterRules"] == [] and values["downloadFileTypes"] == []
    # initialPermittedProcesses.xml is empty upstream
    assert values["permittedProcesses"] == []
    # initialProhibitedProcesses.xml: 38 entries, complete rows
    prohibited = values["prohibitedProcesses"]
    assert len(prohibited) == 38
    assert prohibited[0] == {
        "active": "true",
        "currentUser": "true",
        "description": "",
        "executable": "remoting_host.exe",
        "identifier": "",
        "ignoreInAAC": "true",
        "originalName": "remoting_host.exe",
        "os": "1",
        "strongKill": "false",
        "user": None,
    }
    assert "Teams.exe" in {r["executable"] for r in prohibited}
    # proxies: one row of column defaults (createDefaultValue=true)
    assert values["proxies"] == [default_row("proxies")]
    assert values["proxies"][0]["HTTPPort"] == "80" and values["proxies"][0]["FTPPassive"] == "true"
    assert len(values["proxies"][0]) == 37
    assert default_values(cat) == values
    # fresh objects each time (callers may mutate)
    values["prohibitedProcesses"][0]["active"] = "false"
    assert default_values()["prohibitedProcesses"][0]["active"] == "true"


def test_values_are_json_serialisable(cat: Catalogue) -> None:
    values = default_values(cat)
    assert json.loads(json.dumps(values)) == values
    assert validate_values(values, cat) == values


def test_initial_rows_fill_only_the_columns_a_custom_catalogue_has() -> None:
    cat = Catalogue.from_records(
        [
            {"id": 1, "name": "prohibitedProcesses", "type": "TABLE", "parent_id": None},
            {"id": 2, "name": "prohibitedProcesses.executable", "type": "TEXT_FIELD", "parent_id": 1},
            {"id": 3, "name": "flag", "type": "CHECKBOX", "parent_id": None, "default_value": "true"},
        ]
    )
    values = default_values(cat)
    assert values["flag"] == "true"
    assert len(values["prohibitedProcesses"]) == 38
    assert values["prohibitedProcesses"][1] == {"executable": "CiscoWebExStart.exe"}


# ---------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("allowQuit", " TRUE ", "true"),
        ("allowQuit", False, "false"),
        ("exitKey1", "07", "7"),
        ("exitKey1", 3, "3"),
        ("audioVolumeLevel", "+100", "100"),
        ("browserMessagingPingTime", "-5", "-5"),
        ("taskBarHeight", "55", "55"),  # combo: free integer
        ("allowMacOSVersionNumberMajor", "15", "15"),
        ("mainBrowserWindowWidth", " 75% ", "75%"),
        ("mainBrowserWindowWidth", "1024", "1024"),
        ("defaultPageZoomLevel", "1.50", "1.5"),
        ("defaultPageZoomLevel", "4", "4"),
        ("defaultPageZoomLevel", 0.25, "0.25"),
        ("batteryChargeThresholdLow", "-0.0", "0"),
        ("screenProctoringImageDownscale", "2", "2.0"),
        ("screenProctoringImageDownscale", "1.50", "1.5"),
        ("kioskMode", "1", "1"),
        ("lockScreenBackgroundColor", "#00ff00", "#00ff00"),
        ("allowSpellCheckDictionary", "en-GB,,fr-FR", "en-GB,fr-FR"),
        ("allowSpellCheckDictionary", "", ""),
        ("sebAllowedVersions", "Win.3.1, Mac.3.0.1.AE,iOS.3.0.min", "Win.3.1,Mac.3.0.1.AE,iOS.3.0.min"),
        ("sebAllowedVersions", " ", None),
        ("browserUserAgent", "   ", None),  # default NULL: blank is stored as None
        ("logDirectoryWin", "\t", ""),  # default "": blank is ""
        ("browserMessagingSocket", "", ""),  # non-blank default: explicit empty stays ""
        ("quitURL", "line1\r\nline2\r", "line1\nline2\n"),
        ("quitURL", "  keep spaces  ", "  keep spaces  "),
        ("hashedQuitPassword", "secret", "secret"),
        ("hashedQuitPassword", "", None),
        (
            "permittedProcesses.arguments",
            "argument=-a|active=TRUE,active=false",
            "active=true|argument=-a,active=false|argument=",
        ),
        ("permittedProcesses.arguments", "", None),
        ("allowQuit", None, "true"),  # None = reset to default
        ("hashedAdminPassword", None, None),
    ],
)
def test_validate_value_canonical_form(cat: Catalogue, name: str, text, expected) -> None:
    assert validate_value(cat[name], text) == expected


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("allowQuit", "yes", r"Allow quit \(allowQuit\): expected true or false, got 'yes'"),
        ("allowQuit", "", "expected true or false"),
        ("exitKey1", "12", r"'12' is not one of the options 0, 1, 2, .*11"),
        ("exitKey1", "F1", "is not one of the options"),
        ("kioskMode", "3", r"Kiosk mode \(kioskMode\): '3' is not one of the options 0, 1, 2"),
        ("audioVolumeLevel", "101", "101 is outside the range 0 to 100"),
        ("audioVolumeLevel", "1.5", "expected a whole number, got '1.5'"),
        ("browserMessagingPingTime", "abc", "expected a whole number, got 'abc'"),
        ("browserMessagingPingTime", "", "a value is required"),
        ("browserMessagingPingTime", "3000000000", "out of the range of a 32-bit whole number"),
        ("HTTPPort", "http", r"HTTP port \(HTTPPort\): expected a whole number"),
        ("taskBarHeight", "big", "expected a whole number"),
        ("mainBrowserWindowWidth", "wide", r"expected a size in pixels \(800\) or percent \(50%\)"),
        ("defaultPageZoomLevel", "5", "5 is outside the range 0.25 to 4.0"),
        ("defaultPageZoomLevel", "0.1", "outside the range"),
        ("defaultPageZoomLevel", "one", "expected a decimal number such as 1.5, got 'one'"),
        ("defaultPageZoomLevel", "nan", "expected a decimal number"),
        ("screenProctoringImageDownscale", "2.5", "is not one of the options 1.0, 1.1"),
        ("lockScreenBackgroundColor", "red", "expected a colour like #FF0000, got 'red'"),
        ("lockScreenBackgroundColor", "#FF00000", "expected a colour"),
        ("allowSpellCheckDictionary", "en-GB,xx-XX", r"'xx-XX' not among the options da-DK"),
        ("sebAllowedVersions", "Win.3.1,Linux.1.0", r"'Linux.1.0' is not a SEB version such as Win.3.1"),
        ("quitURL", "bell\x07", "control characters"),
        ("permittedProcesses.arguments", "active=true|argument=a=b", "cannot represent"),
        ("permittedProcesses.arguments", "active=maybe|argument=x", "expects true or false"),
        ("permittedProcesses.arguments", "colour=red", "unknown column 'colour'"),
        ("URLFilterRules", "x", "is a table"),
    ],
)
def test_validate_value_errors_are_clear(cat: Catalogue, name: str, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_value(cat[name], text)


def test_validate_value_rejects_non_text(cat: Catalogue) -> None:
    with pytest.raises(ValueError, match="expected text, got list"):
        validate_value(cat["quitURL"], ["x"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("Win.3.0", True),
        ("win.3.0.1", True),
        ("Mac.3.0.1.AE", True),
        ("iOS.3.0.min", True),
        ("Win.3.0.1.AE.minimal", True),
        ("Win.3", False),
        ("Linux.3.0", False),
        ("Win.x.0", False),
        ("Win.3.0.beta", False),
        ("Win.3.0.AE.AE", False),
    ],
)
def test_seb_version_format(text: str, valid: bool) -> None:
    assert is_seb_version(text) is valid


def test_blank_helpers(cat: Catalogue) -> None:
    assert is_blank(None) and is_blank("") and is_blank(" \t\n")
    assert not is_blank("\u00a0")  # Java's isWhitespace is false for no-break space
    assert canonical_blank(cat["browserUserAgent"]) is None
    assert canonical_blank(cat["logDirectoryWin"]) == ""


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.25, "0.25"),
        (0.1, "0.1"),
        (1e-05, "0.00001"),
        (1 / 3, "0.33333333333333"),
        (2 / 3, "0.66666666666667"),
        (123456789.0, "123456789"),
        (-1.5, "-1.5"),
        (-0.0, "-0"),
    ],
)
def test_format_decimal_like_java_decimalformat(value: float, text: str) -> None:
    assert format_decimal(value) == text


def test_inline_table_helpers(cat: Catalogue) -> None:
    attr = cat["permittedProcesses.arguments"]
    rows = parse_inline_table(attr, "active=true|argument=--kiosk,argument=x")
    assert rows == [{"active": "true", "argument": "--kiosk"}, {"active": "false", "argument": "x"}]
    assert format_inline_table(attr, rows) == "active=true|argument=--kiosk,active=false|argument=x"
    assert format_inline_table(attr, [{"active": True, "argument": None}]) == "active=true|argument="
    assert format_inline_table(attr, []) is None
    assert parse_inline_table(attr, None) == []
    with pytest.raises(ValueError, match="not an inline table"):
        parse_inline_table(cat["quitURL"], "x")
    with pytest.raises(ValueError, match="unknown column"):
        format_inline_table(attr, [{"other": "1"}])


def test_validate_row(cat: Catalogue) -> None:
    table = cat["URLFilterRules"]
    row = validate_row(table, {"expression": "example.org", "action": 1})
    assert row == {"action": "1", "active": "true", "expression": "example.org", "regex": "false"}
    assert list(row) == ["action", "active", "expression", "regex"]
    with pytest.raises(ValueError, match="unknown column"):
        validate_row(table, {"expresion": "typo"})
    with pytest.raises(ValueError, match="not one of the options 0, 1"):
        validate_row(table, {"action": "2"})
    with pytest.raises(ValueError, match="is not a table"):
        validate_row(cat["allowQuit"], {})
    assert default_row("URLFilterRules") == {"action": "0", "active": "true", "expression": "", "regex": "false"}


def test_validate_values_whole_configuration(cat: Catalogue) -> None:
    values = default_values(cat)
    values["allowQuit"] = "FALSE"
    values["URLFilterRules"] = [{"expression": "a.org"}]
    del values["quitURL"]
    result = validate_values(values, cat)
    assert result["allowQuit"] == "false"
    assert result["quitURL"] is None
    assert result["URLFilterRules"] == [{"action": "0", "active": "true", "expression": "a.org", "regex": "false"}]

    bad = default_values(cat)
    bad["exitKey2"] = bad["exitKey1"]
    bad["audioVolumeLevel"] = "loud"
    bad["proxies"] = [default_row("proxies"), default_row("proxies")]
    bad["URLFilterRules"] = [{"action": "9"}]
    bad["noSuchSetting"] = "1"
    with pytest.raises(SettingsValidationError) as info:
        validate_values(bad, cat)
    errors = info.value.errors
    assert set(errors) == {"exitKey2", "audioVolumeLevel", "proxies", "URLFilterRules[0]", "noSuchSetting"}
    assert "must differ from exitKey1" in errors["exitKey2"]
    assert "at most one row" in errors["proxies"]
    assert errors["noSuchSetting"] == "unknown setting"
    assert "audioVolumeLevel: " in str(info.value)


def test_imported_password_marker(cat: Catalogue) -> None:
    stored = mark_imported_password("ab" * 32)
    assert stored.endswith("_IMPORTED_PASSWORD")
    assert validate_value(cat["hashedAdminPassword"], stored) == stored


# ---------------------------------------------------------------------------------------- diff


def test_diff_scalars_and_tables() -> None:
    old = {
        "allowQuit": "true",
        "quitURL": None,
        "URLFilterRules": [{"expression": "a", "action": "0"}],
        "prohibitedProcesses": [{"executable": "x.exe"}, {"executable": "y.exe"}],
    }
    new = {
        "allowQuit": "false",
        "quitURL": "https://q",
        "URLFilterRules": [{"expression": "b", "action": "0"}, {"expression": "c", "action": "1"}],
        "prohibitedProcesses": [{"executable": "x.exe"}],
        "hashedQuitPassword": "pw",
    }
    changes = diff(old, new)
    assert changes == [
        Change("allowQuit", "true", "false"),
        Change("hashedQuitPassword", None, "pw"),
        Change("prohibitedProcesses", {"executable": "y.exe"}, None, row=1),
        Change("quitURL", None, "https://q"),
        Change("URLFilterRules", "a", "b", row=0, column="expression"),
        Change("URLFilterRules", None, {"expression": "c", "action": "1"}, row=1),
    ]
    assert [c.path for c in changes][-2:] == ["URLFilterRules[0].expression", "URLFilterRules[1]"]
    assert diff(old, old) == []
