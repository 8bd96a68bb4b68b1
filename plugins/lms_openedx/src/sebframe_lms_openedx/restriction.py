"""SEB restriction of Open edX courses through the seb-openedx plugin (SEB Server's ``OpenEdxCourseRestriction``).

The LMS needs https://github.com/eduNEXT/seb-openedx, and the OAuth client's user must be global staff.
``apply`` sends ``PUT /seb-openedx/api/v1/course/{course id}/configuration/`` with SEB Server's JSON: always
all six keys, in SEB Server's order. ``SebRestriction.properties`` use the wire names; values may be lists or
comma-separated strings (and ``"true"``/``"false"`` or a bool for ``USER_BANNING_ENABLED``). Read back, they
are comma-joined strings as SEB Server keeps them (``USER_BANNING_ENABLED`` always present).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from sebframe.types import ConnectionTestResult, IntegrationContext, QuizData, SebRestriction
from sebframe_lms_openedx.adapter import client_for, url_problem
from sebframe_lms_openedx.client import (
    SEB_CONFIGURATION_PATH,
    SEB_INFO_PATH,
    TOKEN_PATH,
    OpenEdxClient,
    SebConfiguration,
    describe_failure,
)
from sebframe_lms_openedx.fields import (
    ALWAYS_ALLOW_STAFF,
    BLACKLIST_CHAPTERS,
    BROWSER_KEYS,
    CHECK_BROWSER_EXAM_KEY,
    CHECK_CONFIG_KEY,
    CONFIG_KEYS,
    PERMISSION_COMPONENT_CHOICES,
    PERMISSION_COMPONENTS,
    USER_BANNING_ENABLED,
    WHITELIST_PATH_CHOICES,
    WHITELIST_PATHS,
)

# A well-formed course key no course uses: reading its configuration checks the staff permission.
PROBE_COURSE_ID = "course-v1:sebframe+connection-test+0"
_KEY = re.compile(r"^[a-zA-Z0-9]+$")  # what seb-openedx accepts for Config Keys and Browser Exam Keys
_TRUE = {"true", "on", "yes", "y", "t", "1"}  # Apache BooleanUtils.toBoolean, as SEB Server reads the flag


def to_wire(restriction: SebRestriction) -> dict[str, Any]:
    """The seb-openedx configuration for a restriction, as SEB Server builds it (``OpenEdxSEBRestriction.from``):
    whitelist paths and permission components filtered to the known values; without permission components,
    ``AlwaysAllowStaff`` plus the key checks for the kinds of keys given."""
    properties = restriction.properties or {}
    config_keys = _keys(restriction.config_keys, "Config Key")
    browser_keys = _keys(restriction.browser_exam_keys, "Browser Exam Key")
    whitelist = [path for path in _values(properties.get(WHITELIST_PATHS)) if path in WHITELIST_PATH_CHOICES]
    chapters = _values(properties.get(BLACKLIST_CHAPTERS))
    requested = _values(properties.get(PERMISSION_COMPONENTS))
    if requested:
        permissions = [item for item in requested if item in PERMISSION_COMPONENT_CHOICES]
    else:
        permissions = [ALWAYS_ALLOW_STAFF]
        if config_keys:
            permissions.append(CHECK_CONFIG_KEY)
        if browser_keys:
            permissions.append(CHECK_BROWSER_EXAM_KEY)
    return {
        CONFIG_KEYS: config_keys,
        BROWSER_KEYS: browser_keys,
        WHITELIST_PATHS: whitelist,
        BLACKLIST_CHAPTERS: chapters,
        PERMISSION_COMPONENTS: permissions,
        USER_BANNING_ENABLED: _flag(properties.get(USER_BANNING_ENABLED)),
    }


def wire_json(restriction: SebRestriction) -> bytes:
    """The request body of ``apply``: compact JSON, byte for byte what SEB Server sends."""
    return json.dumps(to_wire(restriction), separators=(",", ":"), ensure_ascii=False).encode()


def from_wire(configuration: SebConfiguration) -> SebRestriction:
    """A stored seb-openedx configuration as a ``SebRestriction`` (SEB Server's ``SEBRestriction.from``)."""
    properties: dict[str, str] = {}
    for name, values in ((WHITELIST_PATHS, configuration.whitelist_paths),
                         (BLACKLIST_CHAPTERS, configuration.blacklist_chapters),
                         (PERMISSION_COMPONENTS, configuration.permission_components)):
        if values:
            properties[name] = ",".join(values)
    properties[USER_BANNING_ENABLED] = "true" if configuration.user_banning_enabled else "false"
    return SebRestriction(config_keys=tuple(configuration.config_keys),
                          browser_exam_keys=tuple(configuration.browser_keys), properties=properties)


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    return list(dict.fromkeys(text for text in (str(item).strip() for item in items) if text))


def _keys(keys: Iterable[str], kind: str) -> list[str]:
    cleaned = _values(list(keys))
    for key in cleaned:
        if not _KEY.match(key):
            raise ValueError(f"{kind} {key!r} cannot be sent to seb-openedx: it accepts letters and digits only")
    return cleaned


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return value is not None and str(value).strip().lower() in _TRUE


def course_id_of(quiz: QuizData) -> str:
    return quiz.course_id or quiz.id


class OpenEdxRestrictionApi:
    """``RestrictionApi`` for one Open edX LMS setup."""

    def __init__(self, context: IntegrationContext, *, client: OpenEdxClient | None = None, **options: Any) -> None:
        self.context = context
        self.client = client or client_for(context, **options)

    async def test(self) -> ConnectionTestResult:
        problem = url_problem(self.context.url)
        if problem:
            return ConnectionTestResult.failure("api", problem)
        try:
            await self.client.fetch_token()
        except Exception as exc:
            return describe_failure(exc, self.client.url(TOKEN_PATH))
        info_url = self.client.url(SEB_INFO_PATH)
        try:
            status = await self.client.seb_info_status()
        except Exception as exc:
            return describe_failure(exc, info_url)
        if status == 404:
            return ConnectionTestResult.failure(
                "api", f"{info_url} answered HTTP 404: the seb-openedx plugin is not installed on this LMS "
                       "(https://github.com/eduNEXT/seb-openedx)")
        probe_url = self.client.url(SEB_CONFIGURATION_PATH.format(course_id=PROBE_COURSE_ID))
        try:
            await self.client.get_seb_configuration(PROBE_COURSE_ID)
        except Exception as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status in (401, 403):
                return ConnectionTestResult.failure(
                    "unauthorized", f"{probe_url} refused the OAuth client (HTTP {status}): the seb-openedx API "
                                    "needs an application whose user is global staff (is_staff)")
            return describe_failure(exc, probe_url)
        return ConnectionTestResult.success("the seb-openedx plugin answers and accepts the OAuth client")

    async def get(self, quiz: QuizData) -> SebRestriction | None:
        """The course's configuration, or ``None`` when it has none (any stored configuration counts)."""
        configuration = await self.client.get_seb_configuration(course_id_of(quiz))
        return None if configuration is None else from_wire(configuration)

    async def apply(self, quiz: QuizData, restriction: SebRestriction) -> SebRestriction:
        """Create or replace the course's configuration (PUT); returns what seb-openedx stored."""
        stored = await self.client.put_seb_configuration(course_id_of(quiz), wire_json(restriction))
        return from_wire(stored)

    async def release(self, quiz: QuizData) -> None:
        await self.client.delete_seb_configuration(course_id_of(quiz))
