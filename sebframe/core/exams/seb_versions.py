"""The "allowed SEB versions" check of an exam, with SEB Server's format and matching rules.

An exam lists the SEB versions it accepts as ``<OS>.<major>.<minor>[.<patch>][.AE][.min]`` entries separated by
commas, e.g. ``Win.3.5.0.min, Mac.3.3, iOS.3.2.0.AE``:

* OS ``Win``, ``Mac`` or ``iOS`` (any case); a left-out patch is 0, so ``Mac.3.3`` means exactly 3.3.0;
* ``.min`` (or ``.minimal``): this version or newer; without it the version must be equal;
* ``.AE``: the Alliance Edition, and only it (a plain entry never matches an Alliance Edition client).

The client is classified from what it sends on the handshake: ``seb_os_name`` names the OS
(``Windows 10, Microsoft Windows NT 10.0.19045.0 (x64)``, ``macOS Version 12.6.2 (Build 21G312)``,
``iPad (iPadOS 15.6.1)``), ``seb_version`` starts with the version (``3.8.0 (x64)``, ``3.2.1 AE``,
``3.5.0 (x64) Alliance Edition``). Pre-releases (``BETA``, ``1.0.0.0``) never pass. Like SEB Server's, the result
is a monitoring flag, not a refusal. (SEB Server: ``AllowedSEBVersion``, ``SEBClientVersionServiceImpl``.)

Differences: a malformed entry is an input error here (SEB Server silently drops it), and a version part like
``13AE`` reads as 13 (SEB Server reads only its first digit).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

FORMAT_HINT = "<OS>.<major>.<minor>[.<patch>][.AE][.min] with OS Win, Mac or iOS, e.g. Win.3.5.0.min"
_NUMBER = re.compile(r"^\d{1,9}$")
_LEADING_NUMBER = re.compile(r"^(\d{1,9})")
_MINIMAL_TAGS = frozenset({"min", "minimal"})
_ALLIANCE_TAG = "ae"
# Substrings of seb_version: pre-releases (in any case, SEB Server: exact case) and the Alliance Edition.
_RESTRICTED_VERSIONS = ("1.0.0.0", "BETA")
_ALLIANCE_MARKERS = ("AE", "Alliance")


class SebOs(StrEnum):
    WINDOWS = "Win"
    MAC = "Mac"
    IOS = "iOS"


# Substrings of seb_os_name, case-sensitive, first match wins (SEB Server's knownWindowsOSTags, ...).
_OS_TAGS: tuple[tuple[SebOs, tuple[str, ...]], ...] = (
    (SebOs.WINDOWS, ("Win", "Windows")),
    (SebOs.MAC, ("macOS",)),
    (SebOs.IOS, ("iOS", "iPad", "iPadOS")),
)
_OS_BY_NAME = {os.value.lower(): os for os in SebOs}


@dataclass(frozen=True, slots=True)
class ClientVersion:
    """What a connected SEB client runs, as far as the version check cares."""

    os: SebOs
    major: int
    minor: int
    patch: int
    alliance_edition: bool

    @property
    def number(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)


@dataclass(frozen=True, slots=True)
class AllowedVersion:
    """One entry of an exam's allowed SEB versions. ``patch`` None: not written (it counts as 0)."""

    os: SebOs
    major: int
    minor: int
    patch: int | None = None
    alliance_edition: bool = False
    minimal: bool = False

    @property
    def number(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch or 0)

    def matches(self, client: ClientVersion) -> bool:
        if client.os != self.os or client.alliance_edition != self.alliance_edition:
            return False
        return client.number >= self.number if self.minimal else client.number == self.number

    def __str__(self) -> str:
        parts = [self.os.value, str(self.major), str(self.minor)]
        if self.patch is not None:
            parts.append(str(self.patch))
        if self.alliance_edition:
            parts.append("AE")
        if self.minimal:
            parts.append("min")
        return ".".join(parts)


def parse_allowed_version(entry: str) -> AllowedVersion:
    """One entry like ``Win.3.5.0.min``; ``ValueError`` naming the entry and what is wrong with it."""
    text = entry.strip()

    def bad(reason: str) -> ValueError:
        return ValueError(f"{text[:60]!r} is not a SEB version: {reason} (expected {FORMAT_HINT})")

    parts = text.split(".")
    os = _OS_BY_NAME.get(parts[0].lower())
    if os is None:
        raise bad(f"unknown OS {parts[0][:20]!r}")
    if len(parts) < 3:
        raise bad("major and minor version are required")
    if not (_NUMBER.match(parts[1]) and _NUMBER.match(parts[2])):
        raise bad("major and minor version must be numbers")
    rest = parts[3:]
    patch = None
    if rest and _NUMBER.match(rest[0]):
        patch = int(rest.pop(0))
    alliance = minimal = False
    for tag in rest:
        lowered = tag.lower()
        if lowered == _ALLIANCE_TAG and not alliance:
            alliance = True
        elif lowered in _MINIMAL_TAGS and not minimal:
            minimal = True
        else:
            raise bad(f"unexpected part {tag[:20]!r}")
    return AllowedVersion(os, int(parts[1]), int(parts[2]), patch, alliance, minimal)


def parse_allowed_versions(text: str) -> tuple[AllowedVersion, ...]:
    """An exam's list, entries separated by commas (or line breaks); empty text: no version check."""
    entries = [entry for entry in re.split(r"[\s,]+", text) if entry]
    return tuple(dict.fromkeys(parse_allowed_version(entry) for entry in entries))


def format_allowed_versions(versions: Sequence[AllowedVersion]) -> str:
    """The stored form: canonical entries separated by commas."""
    return ",".join(str(version) for version in versions)


def classify_os(seb_os_name: str) -> SebOs | None:
    for os, tags in _OS_TAGS:
        if any(tag in seb_os_name for tag in tags):
            return os
    return None


def client_version(seb_os_name: str | None, seb_version: str | None) -> ClientVersion | None:
    """The client's OS and version, or None if they are unknown, unreadable or a pre-release."""
    if not seb_version or not seb_version.strip() or not seb_os_name:
        return None
    if any(marker in seb_version.upper() for marker in _RESTRICTED_VERSIONS):
        return None
    os = classify_os(seb_os_name)
    if os is None:
        return None
    parts = [part for part in seb_version.split()[0].split(".") if part]
    if not parts or len(parts) > 3:
        return None
    numbers = []
    for part in parts:
        match = _LEADING_NUMBER.match(part)
        if match is None:
            return None
        numbers.append(int(match.group(1)))
    numbers += [0] * (3 - len(numbers))
    alliance = any(marker in seb_version for marker in _ALLIANCE_MARKERS)
    return ClientVersion(os, numbers[0], numbers[1], numbers[2], alliance)


def is_version_allowed(allowed: Sequence[AllowedVersion], seb_os_name: str | None, seb_version: str | None) -> bool:
    """True if no versions are listed (no check) or the client matches one of them."""
    if not allowed:
        return True
    client = client_version(seb_os_name, seb_version)
    return client is not None and any(entry.matches(client) for entry in allowed)
