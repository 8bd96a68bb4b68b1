"""Export (values -> SEB Server plist/XML/Config Key) and import (.seb -> values) of exam configurations."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sebframe.core.sebconfig import (
    Attribute,
    AttributeType,
    Catalogue,
    ValueKind,
    WrongPasswordError,
    config_key,
    decode_seb,
    default_values,
    exam_config_file,
    exam_config_key,
    exam_config_xml,
    from_plist_dict,
    import_exam_config,
    load_catalogue,
    mark_imported_password,
    parse_plist,
    seb_server_config_key,
    seb_server_json,
    seb_sort_key,
    to_plist_dict,
    validate_row,
    validate_value,
)
from sebframe.core.sebconfig.catalogue import INITIAL_ROW_FILES, data_file, initial_table_rows


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def defaults(cat: Catalogue) -> dict[str, Any]:
    return default_values(cat)


def _with(values: dict[str, Any], **changes: Any) -> dict[str, Any]:
    result = dict(values)
    result.update(changes)
    return result


# -------------------------------------------------------------------------------------- export


def test_export_of_defaults_has_the_expected_plist_types(defaults: dict[str, Any]) -> None:
    xml = exam_config_xml(defaults)
    plist = parse_plist(xml)
    assert plist == to_plist_dict(defaults)
    expected = {
        "allowQuit": True,  # CHECKBOX
        "ignoreExitKeys": False,
        "exitKey1": 2,  # SINGLE_SELECTION
        "browserViewMode": 0,  # RADIO_SELECTION
        "audioVolumeLevel": 25,  # SLIDER
        "browserMessagingPingTime": 120000,  # INTEGER
        "taskBarHeight": 40,  # COMBO_SELECTION, integer by name
        "allowedDisplaysMaxNumber": 1,
        "allowMacOSVersionNumberMinor": 11,
        "mainBrowserWindowWidth": "100%",  # COMBO_SELECTION, string
        "defaultPageZoomLevel": 1.0,  # DECIMAL, real by name
        "batteryChargeThresholdLow": 0.2,
        "screenProctoringImageDownscale": 1.0,  # SINGLE_SELECTION, real by name
        "browserMessagingSocket": "ws://localhost:8706",  # TEXT_FIELD
        "browserUserAgent": "",  # TEXT_FIELD, NULL default
        "hashedAdminPassword": "",  # PASSWORD_FIELD, not set
        "lockScreenBackgroundColor": "#FF0000",  # COLOR_SELECTOR
        "allowSpellCheckDictionary": ["da-DK", "en-AU", "en-GB", "en-US", "es-ES", "fr-FR", "pt-PT", "sv-SE", "sv-FI"],
        "sebAllowedVersions": [],  # TEXT_FIELD_LIST
        "URLFilterRules": [],  # TABLE
        "permittedProcesses": [],
        "originatorVersion": "SEB_Server_0.3.0",
        "sebConfigPurpose": 0,
        "createNewDesktop": True,  # kioskMode 0
        "killExplorerShell": False,
        "sendBrowserExamKey": True,
        "browserWindowWebView": 2,
    }
    for key, value in expected.items():
        assert plist[key] == value, key
        assert type(plist[key]) is type(value), key
    assert "kioskMode" not in plist
    assert len(plist) == 319 + 1  # kioskMode written as two keys
    first = plist["prohibitedProcesses"][0]
    assert list(first) == sorted(first, key=seb_sort_key)
    assert first["os"] == 1 and first["active"] is True and first["user"] == ""
    proxies = plist["proxies"]
    assert isinstance(proxies, dict) and len(proxies) == 37
    assert proxies["HTTPPort"] == 80 and proxies["ExceptionsList"] == [] and proxies["FTPPassive"] is True


def test_xml_layout_is_seb_servers(defaults: dict[str, Any]) -> None:
    xml = exam_config_xml(defaults).decode("utf-8")
    assert xml.startswith(
        '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE plist PUBLIC "-//Apple Computer//DTD PLIST 1.0//EN" '
        '"http://www.apple.com/DTDs/PropertyList-1.0.dtd"><plist version="1.0"><dict><key>aacDnsPrePinning</key>'
        "<false />"
    )
    assert xml.endswith("</dict></plist>")
    assert "\n" not in xml and "> <" not in xml
    assert "<key>sebAllowedVersions</key><array></array>" in xml  # empty string list
    assert "<key>URLFilterRules</key><array />" in xml  # empty table
    assert "<key>ExceptionsList</key><array></array>" in xml
    assert "<key>hashedAdminPassword</key><string />" in xml
    assert "<key>defaultPageZoomLevel</key><real>1</real>" in xml
    assert "<key>batteryChargeThresholdCritical</key><real>0.1</real>" in xml
    assert "<key>createNewDesktop</key><true /><key>defaultPageZoomLevel</key>" in xml
    keys = list(parse_plist(xml.encode()))
    assert keys == sorted(keys, key=seb_sort_key)
    assert keys.index("enableF1") < keys.index("enableF10") < keys.index("enableF12") < keys.index("enableF2")
    assert keys.index("URLFilterEnable") < keys.index("URLFilterEnableContentFilter") < keys.index("URLFilterMessage")


def test_strings_are_escaped_for_xml_and_read_back_unchanged(defaults: dict[str, Any]) -> None:
    text = "a&b <c> \"d\" 'e' \x7f \u00e9 \U0001f600\ttab\nline"
    values = _with(defaults, quitURL=text, browserWindowTitleSuffix="   ")
    xml = exam_config_xml(values)
    assert b"a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#127; " in xml
    assert b"<key>browserWindowTitleSuffix</key><string />" in xml  # whitespace-only -> ""
    assert parse_plist(xml)["quitURL"] == text
    assert exam_config_key(values) == config_key(parse_plist(xml))


def test_password_fields_export_hashes(defaults: dict[str, Any]) -> None:
    sha_test = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # SRV UtilsTest
    imported = "4adfa806cb610693a6200e4cdbdafeaf352876a35f964a781d691457df9cd378"
    values = _with(defaults, hashedQuitPassword="test", hashedAdminPassword=mark_imported_password(imported))
    plist = to_plist_dict(values)
    assert plist["hashedQuitPassword"] == sha_test
    assert plist["hashedAdminPassword"] == imported
    assert to_plist_dict(_with(defaults, hashedQuitPassword="  "))["hashedQuitPassword"] == ""
    # HTTPPassword (a proxies column) is a plain text field, not hashed
    proxies = [dict(defaults["proxies"][0], HTTPPassword="pw")]
    assert to_plist_dict(_with(defaults, proxies=proxies))["proxies"]["HTTPPassword"] == "pw"


@pytest.mark.parametrize(("mode", "desktop", "shell"), [("0", True, False), ("1", False, True), ("2", False, False)])
def test_kiosk_mode_is_expanded(defaults: dict[str, Any], mode: str, desktop: bool, shell: bool) -> None:
    plist = to_plist_dict(_with(defaults, kioskMode=mode))
    assert (plist["createNewDesktop"], plist["killExplorerShell"]) == (desktop, shell)
    values, warnings = from_plist_dict(plist)
    assert values["kioskMode"] == mode and warnings == []


def test_tables_inline_tables_and_composites(defaults: dict[str, Any], cat: Catalogue) -> None:
    process = validate_row(
        cat["permittedProcesses"],
        {"executable": "calc.exe", "arguments": "active=true|argument=--a,active=false|argument="},
    )
    values = _with(defaults, permittedProcesses=[process], proxies=[], URLFilterRules=[{"expression": "x"}])
    plist = to_plist_dict(values)
    assert plist["permittedProcesses"][0]["arguments"] == [
        {"active": True, "argument": "--a"},
        {"active": False, "argument": ""},
    ]
    assert plist["permittedProcesses"][0]["executable"] == "calc.exe"
    assert plist["permittedProcesses"][0]["signature"] == ""
    assert plist["URLFilterRules"] == [{"action": 0, "active": True, "expression": "x", "regex": False}]
    assert "proxies" not in plist  # empty composite table: nothing written
    xml = exam_config_xml(values)
    assert (
        b"<key>arguments</key><array><dict><key>active</key><true /><key>argument</key><string>--a</string></dict>"
        b"<dict><key>active</key><false /><key>argument</key><string /></dict></array>"
    ) in xml
    assert b"<key>proxies</key>" not in xml
    assert parse_plist(xml) == plist


def test_lenient_export_of_broken_stored_values(defaults: dict[str, Any]) -> None:
    """Unvalidated stored data never breaks an export (SEB Server writes 0 for unparseable numbers)."""
    values = _with(defaults, audioVolumeLevel="loud", defaultPageZoomLevel="big", allowQuit="yes", unknownKey="1")
    plist = to_plist_dict(values)
    assert plist["audioVolumeLevel"] == 0 and plist["defaultPageZoomLevel"] == 0.0 and plist["allowQuit"] is False
    assert "unknownKey" not in plist
    del values["quitURL"], values["URLFilterRules"]
    plist = to_plist_dict(values)
    assert plist["quitURL"] == "" and plist["URLFilterRules"] == []
    assert to_plist_dict(_with(defaults, screenProctoringImageDownscale="5"))["screenProctoringImageDownscale"] == 1.5


def test_exam_config_file(defaults: dict[str, Any]) -> None:
    assert exam_config_file(defaults) == exam_config_xml(defaults)
    data = exam_config_file(defaults, password="secret")
    assert data.startswith(b"pswd")  # no outer gzip, like SEB Server's exam-config download
    seb = decode_seb(data, password="secret")
    assert seb.layers == ("pswd", "gzip", "xml")
    assert seb.settings == to_plist_dict(defaults)
    assert seb.config_key() == exam_config_key(defaults)


# ---------------------------------------------------------------------------------- Config Key


def test_config_key_equals_what_a_client_computes_from_the_file(defaults: dict[str, Any]) -> None:
    key = exam_config_key(defaults)
    assert key == config_key(parse_plist(exam_config_xml(defaults)))
    assert len(key) == 64
    # originatorVersion never changes the key
    assert exam_config_key(_with(defaults, originatorVersion="SEB_Win_3.0")) == key
    assert exam_config_key(_with(defaults, allowQuit="false")) != key
    # SEB Server's own algorithm agrees for ordinary values
    assert seb_server_config_key(defaults) == key


def test_where_seb_servers_own_config_key_differs(defaults: dict[str, Any]) -> None:
    tiny = _with(defaults, batteryChargeThresholdLow="0.00001")
    assert '"batteryChargeThresholdLow":0.00001,' in seb_server_json(tiny)
    assert seb_server_config_key(tiny) != exam_config_key(tiny)  # SEB writes 1E-05
    no_proxies = _with(defaults, proxies=[])
    assert ",," in seb_server_json(no_proxies)  # dangling separator upstream
    assert seb_server_config_key(no_proxies) != exam_config_key(no_proxies)
    assert exam_config_key(no_proxies) == config_key(parse_plist(exam_config_xml(no_proxies)))
    assert '"originatorVersion"' not in seb_server_json(defaults)


# ------------------------------------------------------------------- SEB Server converter vectors


def _mini(table_type: str) -> Catalogue:
    return Catalogue.from_records(
        [
            {"id": 1, "name": "table", "type": table_type, "parent_id": None},
            {"id": 2, "name": "attr1", "type": "TEXT_FIELD", "parent_id": 1},
            {"id": 3, "name": "attr2", "type": "TEXT_FIELD", "parent_id": 1},
        ]
    )


def test_table_converter_vectors() -> None:
    cat = _mini("TABLE")
    values = {"table": [{"attr1": "1", "attr2": "2"}, {"attr1": "3", "attr2": "4"}]}
    assert exam_config_xml(values, cat).endswith(
        b"<dict><key>table</key><array><dict><key>attr1</key><string>1</string><key>attr2</key><string>2</string>"
        b"</dict><dict><key>attr1</key><string>3</string><key>attr2</key><string>4</string></dict></array>"
        b"</dict></plist>"
    )
    assert seb_server_json(values, cat) == '{"table":[{"attr1":"1","attr2":"2"},{"attr1":"3","attr2":"4"}]}'
    assert exam_config_xml({"table": []}, cat).endswith(b"<dict><key>table</key><array /></dict></plist>")
    assert seb_server_json({"table": []}, cat) == '{"table":[]}'
    assert from_plist_dict(to_plist_dict(values, cat), cat) == (values, [])


def test_composite_table_converter_vectors() -> None:
    cat = _mini("COMPOSITE_TABLE")
    values = {"table": [{"attr1": "1", "attr2": "2"}]}
    assert seb_server_json(values, cat) == '{"table":{"attr1":"1","attr2":"2"}}'
    assert exam_config_xml(values, cat).endswith(
        b"<key>table</key><dict><key>attr1</key><string>1</string><key>attr2</key><string>2</string></dict>"
        b"</dict></plist>"
    )
    assert seb_server_json({"table": []}, cat) == "{}"  # empty composite: nothing
    assert to_plist_dict({"table": []}, cat) == {}
    assert from_plist_dict(to_plist_dict(values, cat), cat) == (values, [])


def test_array_of_string_converter_vectors() -> None:
    cat = Catalogue.from_records(
        [{"id": 1, "name": "attribute", "type": "TEXT_FIELD_LIST", "parent_id": None, "default_value": "defaultValue"}]
    )
    values = {"attribute": "one,two,tree"}
    assert seb_server_json(values, cat) == '{"attribute":["one","two","tree"]}'
    assert exam_config_xml(values, cat).endswith(
        b"<key>attribute</key><array><string>one</string><string>two</string><string>tree</string></array>"
        b"</dict></plist>"
    )
    assert seb_server_json({"attribute": ""}, cat) == '{"attribute":[]}'
    assert exam_config_xml({"attribute": ""}, cat).endswith(b"<key>attribute</key><array></array></dict></plist>")
    assert seb_server_json({"attribute": None}, cat) == '{"attribute":["defaultValue"]}'  # value not set
    assert from_plist_dict({"attribute": ["one", "two", "tree"]}, cat) == (values, [])


# -------------------------------------------------------------------------------------- import


def test_import_seb_servers_own_test_file(test_data) -> None:
    values, warnings = import_exam_config((test_data / "seb-server" / "importTest.seb").read_bytes())
    # SEB Server's UseCasesIntegrationTest assertions
    assert values["URLFilterEnable"] == "true"
    assert values["URLFilterRules"][0]["expression"] == "jrtjrtzj"
    assert values["URLFilterRules"][0] == {"action": "0", "active": "true", "expression": "jrtjrtzj", "regex": "true"}
    assert values["originatorVersion"] == "SEB_iOS_2.1.12_11838"  # kept as imported, like SEB Server
    assert values["kioskMode"] == "0"
    assert values["proxies"][0]["HTTPSProxy"] == "zilzklz" and values["proxies"][0]["HTTPSPort"] == "443"
    assert values["permittedProcesses"][1]["arguments"] == (
        "active=true|argument=erherh,active=true|argument=eherh,active=true|argument=rtherhe"
    )
    assert set(values) == {a.name for a in load_catalogue().root_attributes()}
    assert "additionalResources: unknown setting ignored." in warnings
    assert "permittedProcesses.allowedExecutables: unknown setting ignored." in warnings
    joined = "\n".join(warnings)
    for ignored in ("startURL", "sebServerURL", "examConfigKeyContainedKeys", "allowWLAN", "windowHandlingProcess"):
        assert ignored not in joined
    # re-export is consistent with what a client computes from the new file
    assert exam_config_key(values) == config_key(parse_plist(exam_config_xml(values)))
    assert from_plist_dict(to_plist_dict(values)) == (values, [])


def test_import_password_protected_test_file(test_data) -> None:
    data = (test_data / "seb-server" / "importTest_123.seb").read_bytes()
    values, _warnings = import_exam_config(data, password="123")
    assert values["URLFilterRules"][0]["expression"] == "jrtjrtzj"
    with pytest.raises(WrongPasswordError):
        import_exam_config(data, password="124")


def test_import_keeps_password_hashes(defaults: dict[str, Any]) -> None:
    digest = hashlib.sha256(b"quit").hexdigest()
    values, warnings = from_plist_dict({"hashedQuitPassword": digest, "hashedAdminPassword": ""})
    assert warnings == []
    assert values["hashedQuitPassword"] == digest + "_IMPORTED_PASSWORD"
    assert values["hashedAdminPassword"] is None
    assert to_plist_dict(values)["hashedQuitPassword"] == digest  # exported unchanged, not re-hashed


def test_import_reports_wrong_types_and_unknown_keys() -> None:
    values, warnings = from_plist_dict(
        {
            "allowQuit": 1,  # not convertible to a boolean -> default
            "exitKey1": "3",  # string for an integer -> converted
            "exitKey2": 42,  # integer outside the options -> kept as imported
            "defaultPageZoomLevel": 2,  # integer for a real: fine
            "URLFilterRules": "nope",
            "prohibitedProcesses": [{"executable": "a.exe", "colour": "red"}, "x"],
            "mainBrowserWindowWidth": 800,  # integer for a string -> converted
            "someFutureSetting": True,
            "startURL": "https://ignored.example",
            "createNewDesktop": False,
        }
    )
    assert values["allowQuit"] == "true"
    assert values["exitKey1"] == "3"
    assert values["exitKey2"] == "42"
    assert values["defaultPageZoomLevel"] == "2"
    assert values["URLFilterRules"] == []
    assert values["prohibitedProcesses"][0]["executable"] == "a.exe" and len(values["prohibitedProcesses"]) == 1
    assert values["mainBrowserWindowWidth"] == "800"
    assert values["kioskMode"] == "0"
    assert values["quitURL"] is None  # missing -> default
    assert warnings == [
        "allowQuit: expected a boolean, got integer 1; using the default 'true'.",
        "exitKey1: expected an integer, got string '3'; converted.",
        "exitKey2: Exit key 2 (exitKey2): '42' is not one of the options 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11. "
        "Kept as imported.",
        "URLFilterRules: expected an array of dictionaries, got string; ignored.",
        "prohibitedProcesses.colour: unknown setting ignored.",
        "prohibitedProcesses[1]: expected a dictionary, got string; ignored.",
        "mainBrowserWindowWidth: expected a string, got integer 800; converted.",
        "someFutureSetting: unknown setting ignored.",
        "kioskMode: killExplorerShell is missing, so the kiosk mode is left at its default.",
    ]


def test_import_of_data_and_dates_and_inline_problems() -> None:
    from datetime import UTC, datetime

    values, warnings = from_plist_dict(
        {
            "quitURL": b"\x00\x01",
            "restartExamText": datetime(2020, 1, 1, tzinfo=UTC),
            "permittedProcesses": [
                {
                    "executable": "x.exe",
                    "arguments": [
                        {"active": True, "argument": "--opt=1"},
                        {"active": True, "argument": "-b", "extra": 1},
                    ],
                }
            ],
            "sebAllowedVersions": ["Win.3.0", "Mac.3.1,Mac.3.2"],
        }
    )
    assert values["quitURL"] is None and values["restartExamText"] is None
    assert values["permittedProcesses"][0]["arguments"] == "active=true|argument=-b"
    assert values["sebAllowedVersions"] == "Win.3.0,Mac.3.1,Mac.3.2"
    assert "quitURL: expected a string, got data b'\\x00\\x01'; using the default None." in warnings
    assert any(w.startswith("restartExamText: expected a string, got date") for w in warnings)
    assert any("--opt=1" in w and "Entry dropped." in w for w in warnings)
    assert "permittedProcesses[0].arguments: unknown entry key 'extra' ignored." in warnings
    assert any("contains ','" in w for w in warnings)


def test_import_kiosk_mode_combinations() -> None:
    for desktop, shell, mode in [(True, True, "0"), (False, True, "1"), (False, False, "2")]:
        values, warnings = from_plist_dict({"createNewDesktop": desktop, "killExplorerShell": shell})
        assert values["kioskMode"] == mode and warnings == []


def test_initial_table_rows() -> None:
    rows = initial_table_rows()
    assert set(rows) == {"permittedProcesses", "prohibitedProcesses"}
    assert rows["permittedProcesses"] == [] and len(rows["prohibitedProcesses"]) == 38


def test_initial_table_rows_read_as_an_import_of_the_same_files_would() -> None:
    # The catalogue converts SEB Server's initial rows without the importer (no import circle); both agree.
    rows = initial_table_rows()
    for name in INITIAL_ROW_FILES:
        plist = parse_plist(data_file(name))
        values, warnings = from_plist_dict(plist)
        assert warnings == []
        for table in plist:
            assert rows[table] == values[table]


# --------------------------------------------------------------------------- round trips (hypothesis)

_TEXT = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), st.sampled_from("\t\n")),
    max_size=12,
)
_ARG_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters=",|="))
_VERSIONS = st.sampled_from(["Win.3.0", "Win.3.1.2", "Mac.3.0.1.AE", "iOS.3.0.min", "Mac.2.9.0.AE.minimal"])
_HEX64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


def _strategy(attr: Attribute, cat: Catalogue) -> st.SearchStrategy[Any]:
    kind, t = attr.value_kind, attr.type
    if attr.is_table:
        row = st.fixed_dictionaries({c.key: _strategy(c, cat) for c in cat.children(attr.name)})
        return st.lists(row, max_size=1 if kind == ValueKind.COMPOSITE_TABLE else 2)
    if kind == ValueKind.BOOLEAN:
        return st.sampled_from(["true", "false"])
    if attr.options and t != AttributeType.COMBO_SELECTION:
        if t == AttributeType.MULTI_CHECKBOX_SELECTION:
            return st.lists(st.sampled_from(attr.options), unique=True).map(",".join)
        return st.sampled_from(attr.options)
    if kind == ValueKind.INTEGER:
        if attr.value_range:
            return st.integers(int(attr.value_range[0]), int(attr.value_range[1])).map(str)
        if t == AttributeType.COMBO_SELECTION:
            return st.integers(0, 50).map(str)
        return st.integers(-(2**31), 2**31 - 1).map(str)
    if kind == ValueKind.REAL:
        low, high = attr.value_range or ("0", "1")
        return st.decimals(low, high, places=4).map(str)
    if t == AttributeType.COMBO_SELECTION:
        return st.one_of(
            st.sampled_from(attr.options), st.integers(0, 3000).map(str), st.integers(1, 100).map("{}%".format)
        )
    if t == AttributeType.COLOR_SELECTOR:
        return st.text(alphabet="0123456789abcdefABCDEF", min_size=6, max_size=6).map("#{}".format)
    if t == AttributeType.PASSWORD_FIELD:
        return st.one_of(st.none(), _HEX64.map(mark_imported_password))
    if t == AttributeType.TEXT_FIELD_LIST:
        return st.lists(_VERSIONS, max_size=3).map(",".join)
    if kind == ValueKind.STRING_ARRAY:  # ExceptionsList
        return st.lists(_TEXT.filter(lambda s: "," not in s), max_size=3).map(",".join)
    if kind == ValueKind.INLINE_TABLE:
        entry = st.tuples(st.booleans(), _ARG_TEXT.filter(lambda s: "\n" not in s))
        return st.lists(entry, max_size=3).map(
            lambda rows: ",".join(f"active={'true' if a else 'false'}|argument={v}" for a, v in rows)
        )
    return st.one_of(st.none(), _TEXT)


def _canonical(attr: Attribute, raw: Any, cat: Catalogue) -> Any:
    if attr.is_table:
        return [validate_row(attr, row, cat) for row in raw]
    return validate_value(attr, raw)


@st.composite
def _random_values(draw: st.DrawFn) -> dict[str, Any]:
    cat = load_catalogue()
    return {a.name: _canonical(a, draw(_strategy(a, cat)), cat) for a in cat.root_attributes()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_random_values())
def test_round_trip_of_random_valid_values(values: dict[str, Any]) -> None:
    plist = to_plist_dict(values)
    assert from_plist_dict(plist) == (values, [])
    xml = exam_config_xml(values)
    parsed = parse_plist(xml)
    assert parsed == plist and list(parsed) == list(plist)
    assert exam_config_key(values) == config_key(parsed)
    if values["proxies"]:
        assert seb_server_config_key(values) == exam_config_key(values)


def test_round_trip_of_defaults(defaults: dict[str, Any]) -> None:
    assert from_plist_dict(to_plist_dict(defaults)) == (defaults, [])
    assert from_plist_dict(parse_plist(exam_config_xml(defaults))) == (defaults, [])
