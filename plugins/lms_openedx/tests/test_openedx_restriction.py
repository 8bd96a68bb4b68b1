"""SEB restriction through seb-openedx: the exact wire JSON, defaults and filters, status semantics, the test."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sebframe_lms_openedx.restriction import OpenEdxRestrictionApi, to_wire, wire_json

from sebframe.testing.fakes.openedx import FakeClient, FakeOpenEdx
from sebframe.types import QuizData, SebRestriction

pytestmark = pytest.mark.anyio

ApiFor = Callable[..., OpenEdxRestrictionApi]
COURSE = "course-v1:ETH+SEB101+2026_T1"
CONFIGURATION = f"/seb-openedx/api/v1/course/{COURSE}/configuration/"
CK = "1f" * 32
BEK = "ab" * 32


def quiz(course_id: str = COURSE) -> QuizData:
    return QuizData(id=course_id, name="Exam", start_time=None, end_time=None, start_url="x", course_id=course_id)


def test_empty_restriction_is_seb_servers_json() -> None:
    # SEB Server's OpenEdxSebRestrictionTest.testEmpty2, byte for byte
    assert wire_json(SebRestriction()) == (
        b'{"CONFIG_KEYS":[],"BROWSER_KEYS":[],"WHITELIST_PATHS":[],"BLACKLIST_CHAPTERS":[],'
        b'"PERMISSION_COMPONENTS":["AlwaysAllowStaff"],"USER_BANNING_ENABLED":false}'
    )


def test_default_permissions_follow_the_keys_given() -> None:
    assert to_wire(SebRestriction(config_keys=(CK,)))["PERMISSION_COMPONENTS"] == [
        "AlwaysAllowStaff", "CheckSEBHashConfigKey"]
    assert to_wire(SebRestriction(browser_exam_keys=(BEK,)))["PERMISSION_COMPONENTS"] == [
        "AlwaysAllowStaff", "CheckSEBHashBrowserExamKey"]
    assert to_wire(SebRestriction(config_keys=(CK,), browser_exam_keys=(BEK,)))["PERMISSION_COMPONENTS"] == [
        "AlwaysAllowStaff", "CheckSEBHashConfigKey", "CheckSEBHashBrowserExamKey"]


def test_properties_are_filtered_like_seb_server() -> None:
    wire = to_wire(SebRestriction(config_keys=(CK,), properties={
        "WHITELIST_PATHS": "about, wiki,admin,,courseware",
        "BLACKLIST_CHAPTERS": ["c1", " c2 ", "", "c1"],
        "PERMISSION_COMPONENTS": "AlwaysGrantAccess,CheckSEBHashBrowserExamKeyOrConfigKey",
        "USER_BANNING_ENABLED": "true",
    }))
    assert wire == {"CONFIG_KEYS": [CK], "BROWSER_KEYS": [], "WHITELIST_PATHS": ["about", "wiki", "courseware"],
                    "BLACKLIST_CHAPTERS": ["c1", "c2"],
                    "PERMISSION_COMPONENTS": ["CheckSEBHashBrowserExamKeyOrConfigKey"], "USER_BANNING_ENABLED": True}
    only_unknown = to_wire(SebRestriction(properties={"PERMISSION_COMPONENTS": ["AlwaysDenyAccess"]}))
    assert only_unknown["PERMISSION_COMPONENTS"] == []  # given but filtered away: no defaults (as SEB Server)
    for flag, expected in ((True, True), ("yes", True), ("false", False), (None, False), ("nonsense", False)):
        assert to_wire(SebRestriction(properties={"USER_BANNING_ENABLED": flag}))["USER_BANNING_ENABLED"] is expected


def test_keys_seb_openedx_would_refuse_are_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="letters and digits"):
        to_wire(SebRestriction(config_keys=("not-hex!",)))


async def test_apply_sends_seb_servers_json_with_put(restriction_api: OpenEdxRestrictionApi,
                                                     fake: FakeOpenEdx) -> None:
    restriction = SebRestriction(config_keys=(CK,), browser_exam_keys=(BEK,), properties={
        "WHITELIST_PATHS": ["about", "wiki"], "BLACKLIST_CHAPTERS": "5e1f0a0c7d9b4a6e8e2f3b4c5d6e7f80",
        "USER_BANNING_ENABLED": True})
    stored = await restriction_api.apply(quiz(), restriction)
    [put] = fake.requests_to(CONFIGURATION, "PUT")
    assert put.body == (
        b'{"CONFIG_KEYS":["' + CK.encode() + b'"],"BROWSER_KEYS":["' + BEK.encode() + b'"],'
        b'"WHITELIST_PATHS":["about","wiki"],"BLACKLIST_CHAPTERS":["5e1f0a0c7d9b4a6e8e2f3b4c5d6e7f80"],'
        b'"PERMISSION_COMPONENTS":["AlwaysAllowStaff","CheckSEBHashConfigKey","CheckSEBHashBrowserExamKey"],'
        b'"USER_BANNING_ENABLED":true}'
    )
    assert put.headers["content-type"] == "application/json"
    assert put.headers["authorization"].startswith("Bearer ")
    assert fake.restrictions[COURSE]["CONFIG_KEYS"] == [CK]
    assert stored == SebRestriction(config_keys=(CK,), browser_exam_keys=(BEK,), properties={
        "WHITELIST_PATHS": "about,wiki", "BLACKLIST_CHAPTERS": "5e1f0a0c7d9b4a6e8e2f3b4c5d6e7f80",
        "PERMISSION_COMPONENTS": "AlwaysAllowStaff,CheckSEBHashConfigKey,CheckSEBHashBrowserExamKey",
        "USER_BANNING_ENABLED": "true"})
    assert await restriction_api.get(quiz()) == stored
    [get] = fake.requests_to(CONFIGURATION, "GET")
    assert get.headers["cache-control"] == "no-cache, no-store, must-revalidate"


async def test_get_without_configuration_is_none_and_release_deletes(restriction_api: OpenEdxRestrictionApi,
                                                                     fake: FakeOpenEdx) -> None:
    assert await restriction_api.get(quiz()) is None
    fake.restrictions[COURSE] = {"CONFIG_KEYS": []}  # any stored configuration counts, even without keys
    held = await restriction_api.get(quiz())
    assert held is not None and not held.is_restricting and held.properties == {"USER_BANNING_ENABLED": "false"}
    await restriction_api.release(quiz())
    assert COURSE not in fake.restrictions
    assert [r.method for r in fake.requests_to(CONFIGURATION)] == ["GET", "GET", "DELETE"]


async def test_old_style_course_ids_keep_their_slashes(restriction_api: OpenEdxRestrictionApi,
                                                       fake: FakeOpenEdx) -> None:
    await restriction_api.apply(quiz("ETHx/SEB1/2019"), SebRestriction(config_keys=(CK,)))
    assert fake.restrictions["ETHx/SEB1/2019"]["CONFIG_KEYS"] == [CK]


async def test_lms_validation_errors_surface(restriction_api: OpenEdxRestrictionApi) -> None:
    with pytest.raises(httpx.HTTPStatusError) as raised:  # seb-openedx's course id pattern: no such route
        await restriction_api.apply(quiz("not a course key"), SebRestriction(config_keys=(CK,)))
    assert raised.value.response.status_code == 404


async def test_restriction_test(fake: FakeOpenEdx, restriction_for: ApiFor) -> None:
    result = await restriction_for(fake).test()
    assert result.ok, result.message
    assert [r.path for r in fake.requests_to("/seb-openedx/")] == [
        "/seb-openedx/seb-info", "/seb-openedx/api/v1/course/course-v1:sebframe+connection-test+0/configuration/"]


async def test_restriction_test_without_the_plugin(restriction_for: ApiFor) -> None:
    with FakeOpenEdx(seb_plugin=False) as lms:
        result = await restriction_for(lms).test()
    assert not result.ok and result.error_kind == "api" and "seb-openedx plugin is not installed" in result.message


async def test_restriction_test_needs_a_staff_client(restriction_for: ApiFor) -> None:
    with FakeOpenEdx(clients=[FakeClient("plain", "secret", staff=False)]) as lms:
        result = await restriction_for(lms).test()
    assert not result.ok and result.error_kind == "unauthorized" and "global staff" in result.message


async def test_restriction_test_with_bad_credentials(restriction_for: ApiFor) -> None:
    with FakeOpenEdx(reject_token=True) as lms:
        result = await restriction_for(lms).test()
    assert not result.ok and result.error_kind == "unauthorized"


async def test_non_staff_apply_is_refused(restriction_for: ApiFor) -> None:
    with FakeOpenEdx(clients=[FakeClient("plain", "secret", staff=False)]) as lms:
        with pytest.raises(httpx.HTTPStatusError) as raised:
            await restriction_for(lms).apply(quiz(), SebRestriction(config_keys=(CK,)))
    assert raised.value.response.status_code == 403
