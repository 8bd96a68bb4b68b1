"""SEB setting catalogue: the shipped SEB Server attribute/orientation data and its model."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from importlib import resources

import pytest

from sebframe.core.sebconfig import (
    VIEWS,
    AttributeType,
    Catalogue,
    InlineColumn,
    TitleOrientation,
    ValueKind,
    load_catalogue,
)
from sebframe.core.sebconfig.catalogue import ATTRIBUTES_FILE, ORIENTATIONS_FILE, data_file, label_for
from sebframe.core.sebconfig.config_key import seb_sort_key


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


def test_counts_match_the_reference(cat: Catalogue) -> None:
    assert len(cat) == 393
    assert len(cat.root_attributes()) == 319
    assert sum(1 for a in cat.attributes() if not a.is_root) == 74
    assert {t: len(cat.children(t)) for t in ("permittedProcesses", "prohibitedProcesses", "URLFilterRules")} == {
        "permittedProcesses": 20,
        "prohibitedProcesses": 10,
        "URLFilterRules": 4,
    }
    assert len(cat.children("downloadFileTypes")) == 3
    assert len(cat.children("proxies")) == 37


def test_type_counts_match_the_reference(cat: Catalogue) -> None:
    counts = Counter(a.type for a in cat.attributes())
    assert counts == {
        AttributeType.CHECKBOX: 251,
        AttributeType.TEXT_FIELD: 67,
        AttributeType.SINGLE_SELECTION: 23,
        AttributeType.RADIO_SELECTION: 13,
        AttributeType.INTEGER: 12,
        AttributeType.COMBO_SELECTION: 9,
        AttributeType.DECIMAL: 4,
        AttributeType.TABLE: 4,
        AttributeType.PASSWORD_FIELD: 2,
        AttributeType.TEXT_AREA: 2,
        AttributeType.TEXT_FIELD_LIST: 1,
        AttributeType.MULTI_CHECKBOX_SELECTION: 1,
        AttributeType.COMPOSITE_TABLE: 1,
        AttributeType.SLIDER: 1,
        AttributeType.INLINE_TABLE: 1,
        AttributeType.COLOR_SELECTOR: 1,
    }
    tables = sorted((a.name for a in cat.attributes() if a.type == AttributeType.TABLE), key=seb_sort_key)
    assert tables == ["downloadFileTypes", "permittedProcesses", "prohibitedProcesses", "URLFilterRules"]
    assert cat["sebAllowedVersions"].type == AttributeType.TEXT_FIELD_LIST
    assert cat["allowSpellCheckDictionary"].type == AttributeType.MULTI_CHECKBOX_SELECTION
    assert cat["lockScreenBackgroundColor"].type == AttributeType.COLOR_SELECTOR


def test_views_and_orientations(cat: Catalogue) -> None:
    assert [v.name for v in cat.views()] == [
        "general",
        "user_interface",
        "browser",
        "down_upload",
        "exam",
        "applications",
        "resources",
        "network",
        "security",
        "registry",
        "hooked_keys",
        "proctoring",
    ]
    assert cat.views() == VIEWS
    assert cat.view("general").columns == 4 and cat.view("network").columns == 12
    assert cat.view("down_upload").label == "Down/Uploads"
    placed = Counter(a.orientation.view for a in cat.attributes() if a.orientation is not None)
    assert placed == {
        "general": 3,
        "user_interface": 30,
        "browser": 40,
        "down_upload": 16,
        "exam": 12,
        "applications": 31,
        "network": 46,
        "security": 40,
        "registry": 11,
        "hooked_keys": 20,
        "proctoring": 44,
    }
    assert sum(placed.values()) == 293
    assert len(cat.hidden_attributes()) == 98
    assert {"originatorVersion", "sebConfigPurpose", "exitKey1"} <= {a.name for a in cat.hidden_attributes()}


def test_by_view_lists_root_settings_in_grid_order(cat: Catalogue) -> None:
    views = cat.by_view()
    assert list(views) == [v.name for v in VIEWS]
    assert [a.name for a in views["general"]] == ["hashedAdminPassword", "allowQuit", "hashedQuitPassword"]
    assert views["resources"] == ()
    for attrs in views.values():
        assert all(a.is_root for a in attrs)
        positions = [(a.orientation.y, a.orientation.x) for a in attrs]
        assert positions == sorted(positions)
    assert cat["URLFilterRules"] in views["network"]
    assert cat["URLFilterRules.expression"] not in views["network"]
    assert sum(len(v) for v in views.values()) == 319 - 98


def test_orientation_fields(cat: Catalogue) -> None:
    o = cat["mainBrowserWindowPositioning"].orientation
    assert o is not None
    assert (o.view, o.group, o.x, o.y, o.width, o.height, o.title) == (
        "user_interface",
        "winsize",
        5,
        4,
        2,
        1,
        TitleOrientation.LEFT_SPAN,
    )
    assert cat["allowQuit"].orientation.group is None
    assert cat["downloadFileTypes.extension"].orientation.view == "down_upload"


def test_tree_and_keys(cat: Catalogue) -> None:
    rules = cat["URLFilterRules"]
    assert rules.is_root and rules.is_table and rules.parent is None
    assert [c.key for c in cat.children("URLFilterRules")] == ["action", "active", "expression", "regex"]
    expr = cat["URLFilterRules.expression"]
    assert expr.parent == "URLFilterRules" and expr.key == "expression" and not expr.is_root
    assert cat.child("URLFilterRules", "regex") is cat["URLFilterRules.regex"]
    assert cat.child("URLFilterRules", "nope") is None
    # proxies columns have no prefix
    assert cat["HTTPPort"].parent == "proxies" and cat["HTTPPort"].key == "HTTPPort"
    keys = [c.key for c in cat.children("prohibitedProcesses")]
    assert keys == sorted(keys, key=seb_sort_key)
    assert cat.get("noSuchSetting") is None
    with pytest.raises(KeyError):
        cat["noSuchSetting"]


def test_parsed_resources_validators_dependencies(cat: Catalogue) -> None:
    assert cat["exitKey1"].options == tuple(str(i) for i in range(12))
    assert cat["exitKey1"].validator == "ExitKeySequenceValidator"
    assert cat["exitKey1"].dependency("resourceLocTextKey") == "sebserver.examconfig.props.label.exitKey"
    assert cat["audioVolumeLevel"].value_range == ("0", "100")
    assert cat["defaultPageZoomLevel"].value_range == ("0.25", "4.0")
    assert cat["batteryChargeThresholdLow"].value_range is None
    assert cat["mainBrowserWindowWidth"].options == ("50%", "100%", "800", "1000")
    args = cat["permittedProcesses.arguments"]
    assert args.resources == (
        InlineColumn(1, "active", AttributeType.CHECKBOX),
        InlineColumn(4, "argument", AttributeType.TEXT_FIELD),
    )
    assert [c.name for c in args.columns] == ["active", "argument"]
    assert args.raw_resources == "1:active:CHECKBOX|4:argument:TEXT_FIELD"
    assert cat["proxies"].resources[0] == ("active", "TABLE_ENTRY")
    assert cat["HTTPPort"].dependencies == (("groupId", "http"), ("createDefaultValue", "true"))
    assert cat["allowQuit"].options == () and cat["allowQuit"].value_range is None


def test_defaults_null_versus_empty(cat: Catalogue) -> None:
    assert cat["hashedAdminPassword"].default is None
    assert cat["logDirectoryWin"].default == ""
    assert cat["browserUserAgent"].default is None
    assert cat["originatorVersion"].default == "SEB_Server_0.3.0"
    assert cat["sebConfigPurpose"].default == "0"
    assert cat["kioskMode"].default == "0"
    assert cat["sendBrowserExamKey"].default == "true"
    assert cat["browserWindowWebView"].default == "2"
    assert not {"startURL", "examKeySalt", "sebServerURL"} & set(cat)


def test_value_kinds_converter_by_name_first(cat: Catalogue) -> None:
    kinds = {
        "allowQuit": ValueKind.BOOLEAN,
        "exitKey1": ValueKind.INTEGER,
        "audioVolumeLevel": ValueKind.INTEGER,
        "browserViewMode": ValueKind.INTEGER,
        "taskBarHeight": ValueKind.INTEGER,  # COMBO_SELECTION, by name
        "allowMacOSVersionNumberMajor": ValueKind.INTEGER,
        "mainBrowserWindowWidth": ValueKind.STRING,  # COMBO_SELECTION, by type
        "defaultPageZoomLevel": ValueKind.REAL,
        "screenProctoringImageDownscale": ValueKind.REAL,  # SINGLE_SELECTION, by name
        "batteryChargeThresholdCritical": ValueKind.REAL,
        "hashedQuitPassword": ValueKind.STRING,
        "lockScreenBackgroundColor": ValueKind.STRING,
        "allowSpellCheckDictionary": ValueKind.STRING_ARRAY,
        "sebAllowedVersions": ValueKind.STRING_ARRAY,
        "ExceptionsList": ValueKind.STRING_ARRAY,  # TEXT_AREA, by name
        "AutoConfigurationJavaScript": ValueKind.STRING,
        "URLFilterRules": ValueKind.TABLE,
        "proxies": ValueKind.COMPOSITE_TABLE,
        "permittedProcesses.arguments": ValueKind.INLINE_TABLE,
        "kioskMode": ValueKind.KIOSK_MODE,
    }
    assert {name: cat[name].value_kind for name in kinds} == kinds
    assert all(a.value_kind != ValueKind.NONE for a in cat.attributes())


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("allowQuit", "Allow quit"),
        ("URLFilterEnable", "URL filter enable"),
        ("enableF5", "Enable F5"),
        ("exitKey1", "Exit key 1"),
        ("HTTPSProxy", "HTTPS proxy"),
        ("allowiOSBetaVersionNumber", "Allow iOS beta version number"),
        ("minMacOSVersion", "Min macOS version"),
        ("insideSebEnableVmWareClientShade", "Inside SEB enable VMware client shade"),
        ("permittedProcesses.os", "OS"),
        ("hashedAdminPassword", "Administrator password"),
        ("allowWlan", "Allow WLAN"),
    ],
)
def test_labels_are_derived_from_names(name: str, label: str) -> None:
    assert label_for(name) == label


def test_every_attribute_has_label_and_description(cat: Catalogue) -> None:
    for attr in cat.attributes():
        assert attr.label and attr.description, attr.name
        assert attr.key in attr.description
    assert "One of 0, 1, 2" in cat["kioskMode"].description
    assert "from 0.25 to 4.0" in cat["defaultPageZoomLevel"].description
    assert "SHA-256" in cat["hashedQuitPassword"].description
    assert "columns action, active, expression, regex" in cat["URLFilterRules"].description


def test_catalogue_is_loaded_once_and_immutable(cat: Catalogue) -> None:
    assert load_catalogue() is cat
    with pytest.raises(AttributeError):
        cat["allowQuit"].default = "false"  # type: ignore[misc]
    assert hash(cat) == hash(load_catalogue())


def test_data_files_ship_inside_the_package() -> None:
    folder = resources.files("sebframe.core.sebconfig").joinpath("data")
    names = {p.name for p in folder.iterdir()}
    assert {
        ATTRIBUTES_FILE,
        ORIENTATIONS_FILE,
        "initialProhibitedProcesses.xml",
        "initialPermittedProcesses.xml",
        "README.md",
    } <= names
    rows = list(csv.DictReader(data_file(ATTRIBUTES_FILE).decode().splitlines(), delimiter="\t"))
    assert len(rows) == 393 and list(rows[0]) == [
        "id",
        "name",
        "type",
        "parent_id",
        "resources",
        "validator",
        "dependencies",
        "default_value",
    ]


# SHA-256 of the tables derived from SEB Server's Flyway scripts (tests/data/README.md, "derived"): the shipped
# copies must stay byte-identical to them.
DERIVED_TABLE_SHA256 = {
    ATTRIBUTES_FILE: "ebf85fc0a523971bc831a121550281203fc570d808d648c8c7b445a48440cf1d",
    ORIENTATIONS_FILE: "120c1404311ed3466ff2bc1500ffa5d254b065b8927eeca3601cfbe4f70c8210",
}


def test_shipped_tsvs_equal_the_derived_tables() -> None:
    assert {name: hashlib.sha256(data_file(name)).hexdigest() for name in DERIVED_TABLE_SHA256} == DERIVED_TABLE_SHA256


def test_custom_catalogue_from_records() -> None:
    cat = Catalogue.from_records(
        [
            {"id": 1, "name": "table", "type": "TABLE", "parent_id": None},
            {"id": 2, "name": "table.b", "type": "TEXT_FIELD", "parent_id": 1, "default_value": ""},
            {"id": 3, "name": "table.a", "type": "CHECKBOX", "parent_id": 1, "default_value": "true"},
        ]
    )
    assert [a.name for a in cat.root_attributes()] == ["table"]
    assert cat["table"].children == ("table.a", "table.b")
    with pytest.raises(ValueError, match="unknown parent"):
        Catalogue.from_records([{"id": 2, "name": "x.y", "type": "TEXT_FIELD", "parent_id": 9}])
