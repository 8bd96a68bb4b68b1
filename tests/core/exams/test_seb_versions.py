"""Allowed SEB versions: SEB Server's entry format, client classification and matching (cases from its tests)."""

from __future__ import annotations

import pytest

from sebframe.core.exams.seb_versions import (
    AllowedVersion,
    ClientVersion,
    SebOs,
    client_version,
    format_allowed_versions,
    is_version_allowed,
    parse_allowed_version,
    parse_allowed_versions,
)

WIN = "Windows 10, Microsoft Windows NT 10.0.19043.0 (x64)"
MAC = "macOS Version 12.6.4 (Build 21G521)"
IPHONE = "iPhone (iOS 12.5.7)"
IPAD = "iPad (iPadOS 15.6.1)"


@pytest.mark.parametrize(("entry", "expected"), [
    ("Win.1.1", AllowedVersion(SebOs.WINDOWS, 1, 1)),
    ("WIN.1.1", AllowedVersion(SebOs.WINDOWS, 1, 1)),
    ("Win.1.1.1", AllowedVersion(SebOs.WINDOWS, 1, 1, 1)),
    ("Win.1.1.AE", AllowedVersion(SebOs.WINDOWS, 1, 1, None, alliance_edition=True)),
    ("Win.1.1.1.AE", AllowedVersion(SebOs.WINDOWS, 1, 1, 1, alliance_edition=True)),
    ("Win.1.1.min", AllowedVersion(SebOs.WINDOWS, 1, 1, None, minimal=True)),
    ("Win.1.1.1.min", AllowedVersion(SebOs.WINDOWS, 1, 1, 1, minimal=True)),
    ("Win.1.1.AE.min", AllowedVersion(SebOs.WINDOWS, 1, 1, None, True, True)),
    ("Win.1.1.min.AE", AllowedVersion(SebOs.WINDOWS, 1, 1, None, True, True)),
    ("Win.3.1.2.AE.min", AllowedVersion(SebOs.WINDOWS, 3, 1, 2, True, True)),
    ("Win.1.1.1.minimal", AllowedVersion(SebOs.WINDOWS, 1, 1, 1, minimal=True)),
    ("Mac.1.1.AE", AllowedVersion(SebOs.MAC, 1, 1, None, alliance_edition=True)),
    ("MAC.1.1.1", AllowedVersion(SebOs.MAC, 1, 1, 1)),
    ("iOS.1.1.1.AE", AllowedVersion(SebOs.IOS, 1, 1, 1, alliance_edition=True)),
    ("IOS.1.1.min", AllowedVersion(SebOs.IOS, 1, 1, None, minimal=True)),
    ("ios.1.1.1.MIN", AllowedVersion(SebOs.IOS, 1, 1, 1, minimal=True)),
    ("  Mac.3.3  ", AllowedVersion(SebOs.MAC, 3, 3)),
])
def test_valid_entries(entry: str, expected: AllowedVersion) -> None:
    assert parse_allowed_version(entry) == expected


@pytest.mark.parametrize(("entry", "reason"), [
    ("", "unknown OS ''"),
    ("1", "unknown OS '1'"),
    ("a", "unknown OS 'a'"),
    ("Linux.3.0", "unknown OS 'Linux'"),
    ("Win", "major and minor version are required"),
    ("WIN.1.", "major and minor version must be numbers"),
    ("WIN.1", "major and minor version are required"),
    ("WIN.1.1A", "major and minor version must be numbers"),
    ("WIN.1.ad.1", "major and minor version must be numbers"),
    ("Win.1.AE", "major and minor version must be numbers"),
    ("Win.1.min.AE", "major and minor version must be numbers"),
    ("Win.-1.2", "major and minor version must be numbers"),
    ("WIN.1.1.1.1.1.1.1", "unexpected part '1'"),
    ("WIN.1111.1111.baba", "unexpected part 'baba'"),
    ("Win.3.2.1.AE.AE", "unexpected part 'AE'"),
    ("Win.3.2.min.min", "unexpected part 'min'"),
    ("Win.3.2.AE.1", "unexpected part '1'"),
    ("Win.3.2.1.beta", "unexpected part 'beta'"),
])
def test_invalid_entries_name_the_entry_and_the_problem(entry: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_allowed_version(entry)
    message = str(raised.value)
    assert f"{entry.strip()!r} is not a SEB version: {reason}" in message
    assert "Win.3.5.0.min" in message  # the format hint


def test_list_parsing_and_canonical_form() -> None:
    versions = parse_allowed_versions(" win.3.5.0.MIN, Mac.3.3 ,iOS.3.2.0.AE,\nMac.3.3,,")
    assert [str(version) for version in versions] == ["Win.3.5.0.min", "Mac.3.3", "iOS.3.2.0.AE"]
    assert format_allowed_versions(versions) == "Win.3.5.0.min,Mac.3.3,iOS.3.2.0.AE"
    assert parse_allowed_versions("") == ()
    assert parse_allowed_versions(" , ") == ()


def test_list_error_names_the_bad_entry() -> None:
    with pytest.raises(ValueError, match="'Win.3' is not a SEB version"):
        parse_allowed_versions("Mac.3.3, Win.3, iOS.3.2")


@pytest.mark.parametrize(("os_name", "version", "expected"), [
    (WIN, "3.3.2 (x64)", ClientVersion(SebOs.WINDOWS, 3, 3, 2, False)),
    (WIN, "3.8.0 (x64)", ClientVersion(SebOs.WINDOWS, 3, 8, 0, False)),
    ("Windows 10, Microsoft Windows NT 10.0.19042.0 (x64)", "3.5.0 (x64) Alliance Edition",
     ClientVersion(SebOs.WINDOWS, 3, 5, 0, True)),
    ("Win", "3.2", ClientVersion(SebOs.WINDOWS, 3, 2, 0, False)),
    ("macOS Version 12.6.2 (Build 21G312)", "3.2.1AE", ClientVersion(SebOs.MAC, 3, 2, 1, True)),
    ("macOS Version 12.6.2 (Build 21G312)", "3.2.1 AE", ClientVersion(SebOs.MAC, 3, 2, 1, True)),
    (MAC, "3.2.4", ClientVersion(SebOs.MAC, 3, 2, 4, False)),
    ("macOS 14.1", "3.3.1 (x86_64)", ClientVersion(SebOs.MAC, 3, 3, 1, False)),
    (MAC, "3.2.13AE", ClientVersion(SebOs.MAC, 3, 2, 13, True)),  # SEB Server would read 1
    (IPAD, "3.3", ClientVersion(SebOs.IOS, 3, 3, 0, False)),
    (IPHONE, "3.2.3", ClientVersion(SebOs.IOS, 3, 2, 3, False)),
    ("", "", None),
    (None, None, None),
    (WIN, "   ", None),
    (WIN, "3.3.2 BETA (x64)", None),
    (WIN, "3.5.0 BETA (x64) Alliance Edition", None),
    (WIN, "3.5.0 beta", None),
    (WIN, "1.0.0.0", None),
    (WIN, "3.2.3.1", None),  # more than three parts
    (WIN, "v3.2.3", None),
    (WIN, "SEB 3.2.3", None),
    ("Linux 6.1", "3.2.3", None),
    ("Darwin 23.1", "3.2.3", None),  # "win" in lower case is not Windows
    ("", "3.2.3", None),
])
def test_client_version(os_name: str | None, version: str | None, expected: ClientVersion | None) -> None:
    assert client_version(os_name, version) == expected


# (allowed entry, os name, version, allowed?) — SEB Server's SEBClientVersionServiceImplTest plus edge cases.
MATCHES = [
    # exact
    ("Win.3.2.3", WIN, "3.2.3", True),
    ("Win.3.2.3", IPHONE, "3.2.3", False),
    ("Win.3.2.3", MAC, "3.2.3", False),
    ("Win.3.2.3", WIN, "3.2", False),
    ("Win.3.2.3", WIN, "3.2.3.1", False),
    ("Win.3.2.3", WIN, "3.2.3 AE", False),
    ("Win.3.2.3", WIN, "3.2.3 BETA", False),
    ("Win.3.2.3", WIN, "3.2.4", False),
    ("Mac.3.3", MAC, "3.3", True),  # a left-out patch is 0 ...
    ("Mac.3.3", MAC, "3.3.0", True),
    ("Mac.3.3", MAC, "3.3.1", False),  # ... and must be equal
    # exact Alliance Edition
    ("Win.3.2.3.AE", WIN, "3.2.3", False),
    ("Win.3.2.3.AE", IPHONE, "3.2.3", False),
    ("Win.3.2.3.AE", WIN, "3.2", False),
    ("Win.3.2.3.AE", WIN, "3.2.3.1", False),
    ("Win.3.2.3.AE", WIN, "3.2.3 AE", True),
    ("Win.3.2.3.AE", WIN, "3.2.3AE", True),
    ("Win.3.2.3.AE", WIN, "3.2.3 (x64) Alliance Edition", True),
    ("Win.3.2.3.AE", WIN, "3.2.3 AE BETA", False),
    # minimal
    ("Win.3.2.min", IPHONE, "3.2.3", False),
    ("Win.3.2.min", MAC, "3.2.3", False),
    ("Win.3.2.min", WIN, "3.1.13", False),
    ("Win.3.2.min", WIN, "3.2.3 AE", False),
    ("Win.3.2.min", WIN, "3.2", True),
    ("Win.3.2.min", WIN, "3.2.0", True),
    ("Win.3.2.min", WIN, "3.2.1", True),
    ("Win.3.2.min", WIN, "3.3.1", True),
    ("Win.3.2.min", WIN, "4.0 (x64)", True),
    ("Win.3.2.min", WIN, "3.3.1 BETA", False),
    ("mac.3.2.min", IPHONE, "3.2.3", False),
    ("mac.3.2.min", MAC, "3.2.3", True),
    ("mac.3.2.min", WIN, "3.3.1", False),
    ("ios.3.2.min", IPHONE, "3.2.3", True),
    ("ios.3.2.min", IPAD, "3.3", True),
    ("ios.3.2.min", IPHONE, "3.2.3 BETA", False),
    ("ios.3.2.min", MAC, "3.2.3", False),
    ("Win.3.2.1.min", WIN, "3.2", False),
    ("Win.3.2.1.min", WIN, "3.2.0", False),
    ("Win.3.2.1.min", WIN, "3.2.1", True),
    ("Win.3.2.1.min", WIN, "3.3.1", True),
    ("Win.3.2.1.min", WIN, "3.3.1 BETA", False),
    ("Win.3.5.0.min", WIN, "3.8.0 (x64)", True),
    ("Win.3.5.0.min", WIN, "3.4.9 (x64)", False),
    # minimal Alliance Edition
    ("Win.3.2.AE.min", WIN, "3.2.3", False),
    ("Win.3.2.AE.min", WIN, "3.3.1", False),
    ("Win.3.2.AE.min", MAC, "3.2.3 AE", False),
    ("Win.3.2.AE.min", WIN, "3.1.13 AE", False),
    ("Win.3.2.AE.min", WIN, "3.2 AE", True),
    ("Win.3.2.AE.min", WIN, "3.2.0 AE", True),
    ("Win.3.2.AE.min", WIN, "3.2.1 AE", True),
    ("Win.3.2.AE.min", WIN, "3.3.1 AE", True),
]


@pytest.mark.parametrize(("entry", "os_name", "version", "allowed"), MATCHES)
def test_matching(entry: str, os_name: str, version: str, allowed: bool) -> None:
    assert is_version_allowed(parse_allowed_versions(entry), os_name, version) is allowed


def test_any_entry_of_the_list_may_match() -> None:
    allowed = parse_allowed_versions("Win.3.5.0.min, Mac.3.3.min, iOS.3.2.0.AE")
    assert is_version_allowed(allowed, WIN, "3.6.0 (x64)")
    assert is_version_allowed(allowed, MAC, "3.4")
    assert is_version_allowed(allowed, IPAD, "3.2 AE")
    assert not is_version_allowed(allowed, IPAD, "3.2")
    assert not is_version_allowed(allowed, WIN, "3.4.0 (x64)")
    assert not is_version_allowed(allowed, None, "3.6.0")


def test_empty_list_means_no_check() -> None:
    assert is_version_allowed((), None, None)
    assert is_version_allowed((), WIN, "3.3.2 BETA (x64)")
