"""The wire protocol: token requests, PHP-style arguments, Moodle's HTTP-200 errors, transport failures."""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx
import pytest
from pydantic import ValidationError
from sebframe_lms_moodle.client import MoodleAuthError, MoodleError, MoodleFunctionUnavailable, php_form
from sebframe_lms_moodle.settings import MoodleSettings

from sebframe import create_http_client
from sebframe.testing.fakes.moodle import MOBILE_APP_SERVICE, SEB_SERVER_SERVICE, FakeMoodle
from sebframe.types import IntegrationContext, LmsAdapter, QuizFilter

pytestmark = pytest.mark.anyio


# -- argument encoding --------------------------------------------------------------------------------------


def test_php_form_indexes_lists_and_nests_mappings() -> None:
    assert php_form({"courseids": [5]}) == [("courseids[0]", "5")]
    assert php_form({"options": {"ids": [1, 2]}, "flag": True, "off": False, "skip": None, "empty": []}) == [
        ("options[ids][0]", "1"), ("options[ids][1]", "2"), ("flag", "1"), ("off", "0")]
    assert php_form({"data": {"quizid": 7, "addordelete": 1}}) == [("data[quizid]", "7"), ("data[addordelete]", "1")]
    assert php_form({"configkeys": [""], "browserkeys": [""]}) == [("configkeys[0]", ""), ("browserkeys[0]", "")]


async def test_arguments_arrive_as_php_arrays(shared_moodle: FakeMoodle,
                                              adapter_for: Callable[..., LmsAdapter]) -> None:
    shared_moodle.clear_requests()
    await adapter_for(shared_moodle, "MOODLE_PLUGIN").find_quizzes(QuizFilter())
    call = shared_moodle.calls_of("quizaccess_sebserver_get_exams")[0]
    assert call.arg("courseid[0]") == "0" and call.arg("startneedle") == "0" and call.arg("perpage") == "1000"
    assert call.params["courseid"] == {0: "0"}  # a PHP array, as Moodle parses it
    assert ("wsfunction", "quizaccess_sebserver_get_exams") in call.query
    assert ("moodlewsrestformat", "json") in call.query
    assert call.arg("wstoken") and all(key != "wstoken" for key, _ in call.query)  # token in the body only

    shared_moodle.clear_requests()
    await adapter_for(shared_moodle, "MOODLE").get_quizzes(["507:7:c7:i7"])
    by_field = shared_moodle.calls_of("core_course_get_courses_by_field")[0]
    assert by_field.arg("field") == "ids" and by_field.arg("value") == "7"
    quizzes = shared_moodle.calls_of("mod_quiz_get_quizzes_by_courses")[0]
    assert quizzes.form[-1] == ("courseids[0]", "7") and quizzes.arg("courseids[1]") is None  # no padding 0

    shared_moodle.clear_requests()
    await adapter_for(shared_moodle).get_examinee("12")
    users = shared_moodle.calls_of("core_user_get_users_by_field")[0]
    assert users.arg("field") == "id" and users.arg("values[0]") == "12"


# -- token --------------------------------------------------------------------------------------------------


async def test_password_login_requests_one_token_and_reuses_it(moodle: FakeMoodle,
                                                               adapter_for: Callable[..., LmsAdapter]) -> None:
    assert (await adapter_for(moodle).test()).ok
    await adapter_for(moodle).find_quizzes(QuizFilter(name="quiz 101"))  # a new adapter, as the core builds them
    token_requests = moodle.requests_to("/login/token.php")
    assert len(token_requests) == 1
    request = token_requests[0]
    assert request.method == "POST" and request.query == ()  # credentials not in the URL
    assert request.arg("username") == moodle.username and request.arg("service") == SEB_SERVER_SERVICE


async def test_core_type_asks_for_the_mobile_service_and_a_custom_service_is_used(
        moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> None:
    assert (await adapter_for(moodle, "MOODLE").test()).ok
    assert moodle.requests_to("/login/token.php")[-1].arg("service") == MOBILE_APP_SERVICE
    moodle.services["exams"] = set(moodle.services[MOBILE_APP_SERVICE])
    assert (await adapter_for(moodle, "MOODLE", username=moodle.username, password=moodle.password,
                              service="exams").test()).ok
    assert moodle.requests_to("/login/token.php")[-1].arg("service") == "exams"


async def test_precreated_token_is_used_without_login(moodle: FakeMoodle,
                                                      adapter_for: Callable[..., LmsAdapter]) -> None:
    token = moodle.issue_token()
    adapter = adapter_for(moodle, token=token)
    assert (await adapter.test()).ok
    assert await adapter.find_quizzes(QuizFilter(name="quiz 101"))
    assert moodle.requests_to("/login/token.php") == []
    assert {call.arg("wstoken") for call in moodle.requests_to("/webservice")} == {token}


async def test_invalid_login_token_is_renewed_once(moodle: FakeMoodle,
                                                   adapter_for: Callable[..., LmsAdapter]) -> None:
    adapter = adapter_for(moodle)
    assert (await adapter.test()).ok
    moodle.revoke_tokens()  # expired or deleted in Moodle
    assert await adapter.find_quizzes(QuizFilter(name="quiz 101"))
    assert len(moodle.requests_to("/login/token.php")) == 2


async def test_invalid_configured_token_is_unauthorized(moodle: FakeMoodle,
                                                        adapter_for: Callable[..., LmsAdapter]) -> None:
    adapter = adapter_for(moodle, token="f" * 32)
    result = await adapter.test()
    assert not result.ok and result.error_kind == "unauthorized"
    assert "token" in result.message and "invalidtoken" in result.message
    with pytest.raises(MoodleAuthError, match="configured web-service token"):
        await adapter.find_quizzes(QuizFilter())
    assert moodle.requests_to("/login/token.php") == []


async def test_wrong_password_is_unauthorized(moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> None:
    result = await adapter_for(moodle, username=moodle.username, password="nope").test()
    assert not result.ok and result.error_kind == "unauthorized" and "user name or password" in result.message


def test_settings_need_a_token_or_user_and_password() -> None:
    assert MoodleSettings.model_validate({"token": "abc"}).has_token
    assert MoodleSettings.model_validate({"username": " u ", "password": "p"}).username == "u"
    for bad in ({}, {"username": "u"}, {"password": "p"}, {"username": "u", "password": ""}, {"token": "  "}):
        with pytest.raises(ValidationError, match="user name and password, or a web-service token"):
            MoodleSettings.model_validate(bad)
    assert "secret" not in repr(MoodleSettings.model_validate({"username": "u", "password": "secret"}))


# -- Moodle's HTTP-200 errors -------------------------------------------------------------------------------


async def test_plugin_not_installed(adapter_for: Callable[..., LmsAdapter]) -> None:
    with FakeMoodle(plugin=None) as plain:
        result = await adapter_for(plain, "MOODLE_PLUGIN").test()  # no SEB-Server-Webservice to get a token for
        assert not result.ok and result.error_kind == "api"
        assert "SEB Server Moodle plugin" in result.message and SEB_SERVER_SERVICE in result.message
        # With a token of another service, calling a function Moodle does not have at all (invalidrecord):
        adapter = adapter_for(plain, "MOODLE_PLUGIN", token=plain.issue_token(MOBILE_APP_SERVICE))
        with pytest.raises(MoodleFunctionUnavailable, match="SEB Server Moodle plugin is not installed or not enabled"):
            await adapter.find_quizzes(QuizFilter())
        assert plain.calls_of("quizaccess_sebserver_get_exams")  # it was asked, and said invalidrecord
        # The connection test checks the function list first:
        result = await adapter.test()
        assert "SEB Server Moodle plugin is not installed or not enabled for this web service" in result.message
        assert "quizaccess_sebserver_get_exams" in result.message


@pytest.mark.parametrize("debug", [True, False])
async def test_plugin_function_not_in_the_service(debug: bool, adapter_for: Callable[..., LmsAdapter]) -> None:
    # The plugin is installed, but the setup's service (here the mobile app's) does not include its functions.
    with FakeMoodle(debug=debug) as server:
        adapter = adapter_for(server, "MOODLE_PLUGIN", username=server.username, password=server.password,
                              service=MOBILE_APP_SERVICE)
        with pytest.raises(MoodleFunctionUnavailable, match="not installed or not enabled for this web service") \
                as raised:
            await adapter.find_quizzes(QuizFilter())
        assert f"'{MOBILE_APP_SERVICE}'" in raised.value.message
        # Without debug output an expired token looks the same, so a new token is tried once first.
        assert len(server.requests_to("/login/token.php")) == (1 if debug else 2)


async def test_generic_moodle_exception_keeps_moodles_message(moodle: FakeMoodle,
                                                             adapter_for: Callable[..., LmsAdapter]) -> None:
    moodle.responses["quizaccess_sebserver_get_exams"] = {
        "exception": "moodle_exception", "errorcode": "errorcoursecontextnotvalid",
        "message": "You cannot execute functions in the course context (course id:3)."}
    with pytest.raises(MoodleError) as raised:
        await adapter_for(moodle).find_quizzes(QuizFilter())
    assert raised.value.errorcode == "errorcoursecontextnotvalid" and raised.value.kind == "api"
    assert "quizaccess_sebserver_get_exams" in raised.value.message
    assert "You cannot execute functions in the course context (course id:3)." in raised.value.message


async def test_maintenance_mode(moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> None:
    moodle.maintenance = True
    result = await adapter_for(moodle).test()
    assert not result.ok and "maintenance" in result.message


async def test_web_services_or_rest_disabled(moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> None:
    token = moodle.issue_token()
    moodle.rest_enabled = False
    result = await adapter_for(moodle, token=token).test()
    assert not result.ok and "HTTP 403" in result.message and "REST protocol" in result.message
    moodle.webservices_enabled = False
    result = await adapter_for(moodle).test()
    assert not result.ok and "Enable web services" in result.message


async def test_unexpected_shape_is_named(moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> None:
    moodle.responses["quizaccess_sebserver_get_exams"] = {"results": [{"id": "one", "shortname": "c1"}]}
    with pytest.raises(MoodleError, match=r"unexpected shape \(results\.0\.id: "):
        await adapter_for(moodle).find_quizzes(QuizFilter())
    moodle.responses["core_webservice_get_site_info"] = {"username": "", "userid": 3}
    result = await adapter_for(moodle).test()
    assert not result.ok and "core_webservice_get_site_info" in result.message and "username" in result.message


# -- HTTP and transport failures ----------------------------------------------------------------------------


async def test_server_error(moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> None:
    moodle.fail_status = 500
    result = await adapter_for(moodle).test()
    assert not result.ok and result.error_kind == "api" and "HTTP 500" in result.message
    with pytest.raises(MoodleError, match="HTTP 500"):
        await adapter_for(moodle, token="a" * 32).find_quizzes(QuizFilter())


async def test_redirect_names_the_target(moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> None:
    moodle.redirect_to = "https://moodle.example.org"
    result = await adapter_for(moodle).test()
    assert not result.ok and "redirects (HTTP 303) to https://moodle.example.org/login/token.php" in result.message


async def test_wrong_url_is_a_404(moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> None:
    result = await adapter_for(moodle.url + "/not-moodle", username="u", password="p").test()
    assert not result.ok and "HTTP 404" in result.message and "Moodle root" in result.message


async def test_malformed_json(moodle: FakeMoodle, adapter_for: Callable[..., LmsAdapter]) -> None:
    token = moodle.issue_token()
    moodle.malformed_json = True  # PHP warnings printed before the JSON
    result = await adapter_for(moodle, token=token).test()
    assert not result.ok and result.error_kind == "api" and "not JSON" in result.message
    assert "Undefined variable" in result.message  # the start of what Moodle sent, to see the cause


async def test_timeout(context_for: Callable[..., IntegrationContext], lms_types: dict) -> None:  # type: ignore[type-arg]
    with FakeMoodle(delay=3) as slow:
        async with create_http_client(timeout=httpx.Timeout(0.3)) as client:
            adapter = lms_types["MOODLE_PLUGIN"].create_adapter(context_for(slow, client=client, token="a" * 32))
            result = await adapter.test()
    assert not result.ok and result.error_kind == "timeout" and "did not answer in time" in result.message


async def test_unreachable_port_is_refused(adapter_for: Callable[..., LmsAdapter]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await adapter_for(f"http://127.0.0.1:{port}", username="u", password="p").test()
    assert not result.ok and result.error_kind == "refused" and "cannot connect" in result.message
    with pytest.raises(MoodleError) as raised:
        await adapter_for(f"http://127.0.0.1:{port}", token="t").find_quizzes(QuizFilter())
    assert raised.value.kind == "refused"


async def test_missing_url(adapter_for: Callable[..., LmsAdapter]) -> None:
    result = await adapter_for("  ", token="t").test()
    assert not result.ok and result.error_kind == "config"
