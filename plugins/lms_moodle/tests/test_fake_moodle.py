"""The fake Moodle itself: routes, PHP parameter parsing, validation, full-integration callback, self-stop."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from sebframe.testing.fakes.moodle import SEB_SERVER_SERVICE, FakeMoodle, parse_php_params


def test_php_parameter_parsing() -> None:
    pairs = [("a[]", "1"), ("a[]", "2"), ("b[0]", "x"), ("b[5]", "y"), ("b[]", "z"), ("options[ids][0]", "5"),
             ("data[quizid]", "7"), ("plain", "1"), ("plain", "2"), ("weird]", "w")]
    assert parse_php_params(pairs) == {"a": {0: "1", 1: "2"}, "b": {0: "x", 5: "y", 6: "z"},
                                       "options": {"ids": {0: "5"}}, "data": {"quizid": "7"}, "plain": "2",
                                       "weird]": "w"}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeMoodle]:
    with FakeMoodle() as fake:
        yield fake


_HTTP = httpx.Client(timeout=5)  # one client: building one per request costs more than the request


def _token(fake: FakeMoodle, *, in_query: bool) -> httpx.Response:
    creds = {"username": fake.username, "password": fake.password, "service": SEB_SERVER_SERVICE}
    if in_query:
        return _HTTP.post(f"{fake.url}/login/token.php", params=creds)
    return _HTTP.post(f"{fake.url}/login/token.php", data=creds)


def _call(fake: FakeMoodle, token: str, function: str, body: Any = None, **query: str) -> Any:
    params = {"wstoken": token, "wsfunction": function, "moodlewsrestformat": "json", **query}
    response = _HTTP.post(f"{fake.url}/webservice/rest/server.php", params=params, data=body)
    assert response.status_code == 200
    return response.json()


def test_token_endpoint(server: FakeMoodle) -> None:
    by_query = _token(server, in_query=True).json()  # how SEB Server sends the credentials
    assert by_query["token"] and by_query["privatetoken"] is None
    assert _token(server, in_query=False).json()["token"] == by_query["token"]  # same service: same token
    wrong = _HTTP.post(f"{server.url}/login/token.php", params={"username": "x", "password": "y", "service": "s"})
    assert wrong.status_code == 200 and wrong.json()["errorcode"] == "invalidlogin"
    unknown = _HTTP.post(f"{server.url}/login/token.php",
                         params={"username": server.username, "password": server.password, "service": "nope"})
    assert unknown.json()["errorcode"] == "servicenotavailable"
    missing = _HTTP.post(f"{server.url}/login/token.php", params={"username": server.username})
    assert missing.json() == {"error": "A required parameter (password) was missing", "errorcode": "missingparam",
                              "stacktrace": None, "debuginfo": None, "reproductionlink": None}


def test_rest_calls_take_arguments_from_query_or_body_and_validate_them(server: FakeMoodle) -> None:
    token = _token(server, in_query=False).json()["token"]
    in_query = _call(server, token, "core_user_get_users_by_field", None, field="id", **{"values[0]": "42"})
    in_body = _call(server, token, "core_user_get_users_by_field", {"field": "id", "values[]": "42"})
    assert in_query == in_body and in_body[0]["lastname"] == "Hopper"
    scalar = _call(server, token, "core_user_get_users_by_field", {"field": "id", "values": "42"})
    assert scalar["errorcode"] == "invalidparameter" and "Only arrays accepted" in scalar["debuginfo"]
    unexpected = _call(server, token, "quizaccess_sebserver_set_restriction", {"quitlink": "x"}, quizid="101")
    assert unexpected["debuginfo"] == "Unexpected keys (quitlink) detected in parameter array."
    not_int = _call(server, token, "quizaccess_sebserver_get_restriction", None, quizid="abc")
    assert not_int["exception"] == "invalid_parameter_exception" and '"int" type' in not_int["debuginfo"]
    no_courseid = _call(server, token, "quizaccess_sebserver_get_exams", {"perpage": "1"})
    assert no_courseid["exception"] == "ValueError"  # the plugin's max([]) on PHP 8
    beyond = _call(server, token, "quizaccess_sebserver_get_exams", {"courseid[0]": "0", "startneedle": "500"})
    assert beyond["errorcode"] == "nocoursefound"


def test_core_course_functions_need_their_service(server: FakeMoodle) -> None:
    token = server.issue_token("moodle_mobile_app")
    courses = _call(server, token, "core_course_get_courses", {"options[ids][0]": "2"})
    assert [course["shortname"] for course in courses] == ["c2"]
    search = _call(server, token, "core_course_search_courses", {"criterianame": "search", "criteriavalue": "",
                                                                 "page": "1", "perpage": "5"})
    assert search["total"] == 21 and [course["id"] for course in search["courses"]] == [6, 7, 8, 9, 10]
    padded = _call(server, token, "mod_quiz_get_quizzes_by_courses", {"courseids[0]": "1", "courseids[1]": "0"})
    assert [quiz["id"] for quiz in padded["quizzes"]] == [101, 111]
    assert padded["warnings"] == [{"item": "course", "itemid": 0, "warningcode": "1",
                                   "message": "No access rights in course context"}]  # SEB Server issue #74
    by_field = _call(server, token, "core_course_get_courses_by_field", {"field": "shortname", "value": "c3"})
    assert [course["idnumber"] for course in by_field["courses"]] == ["i3"]
    denied = _call(server, token, "quizaccess_sebserver_get_exams", {"courseid[0]": "0"})
    assert denied["errorcode"] == "accessexception" and "is not allowed" in denied["debuginfo"]


def test_quiz_page_and_user_php(server: FakeMoodle) -> None:
    page = _HTTP.get(f"{server.url}/mod/quiz/view.php", params={"id": "501"})
    assert page.status_code == 200 and "quiz 101" in page.text
    assert _HTTP.get(f"{server.url}/mod/quiz/view.php", params={"id": "1"}).status_code == 404
    user_php = f"{server.url}/mod/quiz/accessrule/sebserver/classes/external/user.php"
    assert _HTTP.get(user_php).status_code == 303
    answer = _HTTP.get(user_php, headers={"Cookie": f"MoodleSession={server.login_session(12)}"})
    assert answer.text == "12" and answer.headers["X-LMS-USER-USERNAME"] == "ada"
    assert answer.headers["X-LMS-USER-IDNUMBER"] == "S-12"


class _SebServer(BaseHTTPRequestHandler):
    received: list[tuple[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.received.append((self.path, self.headers.get("Authorization", "")))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self.wfile.write(b"SEB-CONFIG")

    def log_message(self, *args: Any) -> None:
        pass


def test_full_integration_calls_seb_server_back() -> None:
    seb_server = ThreadingHTTPServer(("127.0.0.1", 0), _SebServer)
    threading.Thread(target=seb_server.serve_forever, daemon=True).start()
    try:
        with FakeMoodle() as fake:
            token = fake.issue_token()
            connection = {"id": "conn-1", "name": "sebframe", "access_token": "lms-api-token",
                          "url": f"http://127.0.0.1:{seb_server.server_address[1]}/lms-api/v1", "exam_templates": []}
            assert _call(fake, token, "quizaccess_sebserver_connection",
                         {"connection": json.dumps(connection)}) == {"success": True, "warnings": []}
            other = _call(fake, token, "quizaccess_sebserver_connection", {"connection": json.dumps({"id": "x"})})
            assert other["warnings"][0]["warningcode"] == "connectiondoesntmatch"
            del fake.sebserver[102]
            added = _call(fake, token, "quizaccess_sebserver_set_exam_data",
                          {"data[quizid]": "102", "data[addordelete]": "1", "data[templateid]": "0",
                           "data[showquitlink]": "1", "data[quitlink]": "https://q", "data[quitsecret]": "s"})
            assert added["success"] is True and fake.sebserver[102].enabled
            assert fake.seb_config_files[102] == b"SEB-CONFIG"
            assert _SebServer.received[-1] == ("/lms-api/v1/seb_config?id=conn-1&course_id=2&quiz_id=102",
                                               "Bearer lms-api-token")
            deleted = _call(fake, token, "quizaccess_sebserver_connection_delete", {"id": "conn-1"})
            assert deleted["success"] is True and fake.connection is None
            failed = _call(fake, token, "quizaccess_sebserver_set_exam_data",
                           {"data[quizid]": "102", "data[addordelete]": "0"})
            assert failed["success"] is False and "no SEB Server connection" in failed["warnings"][-1]["message"]
    finally:
        seb_server.shutdown()
        seb_server.server_close()


def test_failure_switches_and_self_stop() -> None:
    with FakeMoodle(fail_status=502, base_path="moodle/") as fake:
        assert fake.url.endswith("/moodle")
        assert _HTTP.post(f"{fake.url}/login/token.php").status_code == 502
        fake.fail_status = None
        assert _HTTP.post(f"{fake.url}/webservice/rest/server.php", params={"wstoken": "x"}).json()["errorcode"] \
            == "invalidtoken"
        assert fake.requests_to("/webservice/rest/server.php")[0].path == "/webservice/rest/server.php"
    fake = FakeMoodle(lifetime=0.1).start()  # forgotten: it stops by itself
    port = fake.port
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                break
        time.sleep(0.02)
    else:
        pytest.fail("the fake Moodle did not stop after its lifetime")
    fake.stop()
