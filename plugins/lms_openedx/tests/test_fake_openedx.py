"""The fake Open edX itself (public in sebframe.testing): routes, shapes and status codes of the real system."""

from __future__ import annotations

import httpx
import pytest

from sebframe.testing.fakes.openedx import FakeClient, FakeCourse, FakeOpenEdx, validate_seb_configuration

CONFIG = "/seb-openedx/api/v1/course/course-v1:ETH+SEB101+2026_T1/configuration/"


def token(client: httpx.Client, client_id: str = "sebframe-client", secret: str = "sebframe-secret") -> dict[str, str]:
    answer = client.post("/oauth2/access_token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                       "client_secret": secret})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_token_endpoint() -> None:
    with FakeOpenEdx() as lms, httpx.Client(base_url=lms.url) as client:
        assert client.post("/oauth2/access_token", data={"grant_type": "password"}).status_code == 400
        assert client.post("/oauth2/access_token", json={"grant_type": "client_credentials"}).status_code == 400
        refused = client.post("/oauth2/access_token", data={"grant_type": "client_credentials", "client_id": "x",
                                                            "client_secret": "y"})
        assert refused.status_code == 401 and refused.json() == {"error": "invalid_client"}
        basic = client.post("/oauth2/access_token", data={"grant_type": "client_credentials"},
                            auth=(lms.client_id, lms.client_secret))
        assert basic.status_code == 200
        jwt = client.post("/oauth2/access_token", data={"grant_type": "client_credentials", "token_type": "jwt",
                                                        "client_id": lms.client_id,
                                                        "client_secret": lms.client_secret}).json()
        assert jwt["token_type"] == "JWT"
        accounts = "/api/user/v1/accounts?username=jdoe"
        assert client.get(accounts, headers={"Authorization": f"JWT {jwt['access_token']}"}).status_code == 200
        assert client.get(accounts, headers={"Authorization": f"Bearer {jwt['access_token']}"}).status_code == 401
        assert client.get(accounts).status_code == 401


def test_course_list_shapes_and_pages() -> None:
    with FakeOpenEdx(page_size=2) as lms, httpx.Client(base_url=lms.url) as client:
        first = client.get("/api/courses/v1/courses/").json()  # anonymous access is allowed
        assert set(first) == {"results", "pagination"} and len(first["results"]) == 2
        assert first["pagination"] == {"next": f"{lms.url}/api/courses/v1/courses/?page=2", "previous": None,
                                       "count": 5, "num_pages": 3}
        last = client.get("/api/courses/v1/courses/?page=3").json()
        assert last["pagination"]["next"] is None
        assert last["pagination"]["previous"] == f"{lms.url}/api/courses/v1/courses/?page=2"
        assert client.get("/api/courses/v1/courses/?page=4").status_code == 404
        assert len(client.get("/api/courses/v1/courses/?page_size=500").json()["results"]) == 5
        assert [c["id"] for c in client.get("/api/courses/v1/courses/?org=UZH").json()["results"]] == [
            "course-v1:UZH+Stat1+2025", "course-v1:UZH+Stat2+2030"]
        bad = client.get("/api/courses/v1/courses/", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401 and bad.json()["error_code"] == "token_nonexistent"
        lms.pagination = "flat"
        flat = client.get("/api/courses/v1/courses/").json()
        assert set(flat) == {"count", "next", "previous", "num_pages", "results"}
        course = flat["results"][0]
        assert {"id", "name", "short_description", "start", "end", "blocks_url", "org", "number"} <= set(course)


def test_course_detail_blocks_and_accounts() -> None:
    courses = [FakeCourse("course-v1:A+B+C", "Open", chapters=[("ch1", "One")]),
               FakeCourse("course-v1:A+B+D", "Locked", restricted=True)]
    clients = [FakeClient("staff", "s"), FakeClient("plain", "p", staff=False)]
    with FakeOpenEdx(courses=courses, clients=clients) as lms, httpx.Client(base_url=lms.url) as client:
        staff, plain = token(client, "staff", "s"), token(client, "plain", "p")
        assert client.get("/api/courses/v1/courses/course-v1:A+B+C", headers=staff).json()["name"] == "Open"
        assert client.get("/api/courses/v1/courses/course-v1:A+B+D", headers=staff).status_code == 403
        assert client.get("/api/courses/v1/courses/course-v1:A+B+X", headers=staff).status_code == 404
        params = {"depth": "1", "all_blocks": "true", "course_id": "course-v1:A+B+C"}
        blocks = client.get("/api/courses/v1/blocks/", params=params, headers=staff).json()
        assert blocks["root"] == "block-v1:A+B+C+type@course+block@course"
        assert {b["block_id"]: b["type"] for b in blocks["blocks"].values()} == {"course": "course", "ch1": "chapter"}
        assert client.get("/api/courses/v1/blocks/", params=params, headers=plain).status_code == 403
        assert client.get("/api/courses/v1/blocks/", params={"course_id": "course-v1:A+B+C"},
                          headers=staff).status_code == 400
        accounts = client.get("/api/user/v1/accounts", params={"username": "jdoe,mmuster"}, headers=staff).json()
        assert [a["username"] for a in accounts] == ["jdoe", "mmuster"] and accounts[0]["name"] == "Jane Doe"
        assert "name" not in client.get("/api/user/v1/accounts?username=jdoe", headers=plain).json()[0]
        assert client.get("/api/user/v1/accounts?username=ghost", headers=staff).status_code == 404


def test_seb_openedx_status_codes() -> None:
    clients = [FakeClient("staff", "s"), FakeClient("plain", "p", staff=False)]
    with FakeOpenEdx(clients=clients) as lms, httpx.Client(base_url=lms.url) as client:
        staff, plain = token(client, "staff", "s"), token(client, "plain", "p")
        assert client.get("/seb-openedx/seb-info", headers=staff).status_code == 403
        assert client.get(CONFIG).status_code == 401
        assert client.get(CONFIG, headers=plain).status_code == 403
        assert client.get(CONFIG, headers=staff).status_code == 404
        assert client.post(CONFIG, json={"CONFIG_KEYS": ["abc"]}, headers=staff).json() == {"CONFIG_KEYS": ["abc"]}
        again = client.post(CONFIG, json={"CONFIG_KEYS": ["abc"]}, headers=staff)
        assert again.status_code == 422 and "Use PUT to update" in again.json()
        patched = client.patch(CONFIG, json={"USER_BANNING_ENABLED": True}, headers=staff)
        assert patched.json() == {"CONFIG_KEYS": ["abc"], "USER_BANNING_ENABLED": True}
        assert client.put(CONFIG, json={"BROWSER_KEYS": ["b1"]}, headers=staff).json() == {"BROWSER_KEYS": ["b1"]}
        assert client.get(CONFIG, headers=staff).json() == {"BROWSER_KEYS": ["b1"]}
        assert client.put(CONFIG, json={"CONFIG_KEYS": ["a-b"]}, headers=staff).status_code == 400
        assert client.put(CONFIG, content=b"{", headers={**staff, "Content-Type": "application/json"}
                          ).status_code == 400
        assert client.put(CONFIG, data={"CONFIG_KEYS": "x"}, headers=staff).status_code == 415
        assert client.delete(CONFIG, headers=staff).status_code == 204
        assert client.get(CONFIG, headers=staff).status_code == 404
        assert client.get("/seb-openedx/api/v1/course/nonsense/configuration/", headers=staff).status_code == 404
        lms.seb_plugin = False
        assert client.get("/seb-openedx/seb-info", headers=staff).status_code == 404
        assert client.get(CONFIG, headers=staff).status_code == 404


def test_serializer_rules() -> None:
    data, errors = validate_seb_configuration({"CONFIG_KEYS": ["abc", "d-e"], "WHITELIST_PATHS": "wiki",
                                               "PERMISSION_COMPONENTS": ["AlwaysDenyAccess", "Nope"],
                                               "USER_BANNING_ENABLED": "maybe", "OTHER": 1})
    assert data == {}
    assert errors == {"CONFIG_KEYS": {"1": ["This value does not match the required pattern."]},
                      "WHITELIST_PATHS": ['Expected a list of items but got type "str".'],
                      "PERMISSION_COMPONENTS": {"1": ['"Nope" is not a valid choice.']},
                      "USER_BANNING_ENABLED": ["Must be a valid boolean."]}
    assert validate_seb_configuration({"USER_BANNING_ENABLED": "true", "X": 1}) == ({"USER_BANNING_ENABLED": True}, {})


def test_failure_switches_and_lifecycle() -> None:
    lms = FakeOpenEdx(fail_status=503, failure_path="/api/", throttle=1)
    with pytest.raises(RuntimeError):
        _ = lms.url
    with lms, httpx.Client(base_url=lms.url) as client:
        throttled = client.get("/api/courses/v1/courses/")
        assert throttled.status_code == 429 and throttled.headers["retry-after"] == "1"
        assert client.get("/api/courses/v1/courses/").status_code == 503
        assert client.post("/oauth2/access_token", data={"grant_type": "client_credentials"}).status_code == 401
        lms.fail_status, lms.malformed_json = None, True
        broken = client.get("/api/courses/v1/courses/")
        assert broken.status_code == 200
        with pytest.raises(ValueError):
            broken.json()
        assert [r.path for r in lms.requests_to("/api/", "GET")] == ["/api/courses/v1/courses/"] * 3
    with pytest.raises(httpx.ConnectError):  # stopped: nothing listens any more
        httpx.get(lms.url + "/api/courses/v1/courses/", timeout=2)
