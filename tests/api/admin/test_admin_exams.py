"""Admin API: exams (import, list, change, delete with report), configuration, indicators, SEB restriction,
missing setup, exam templates; roles and tenant isolation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from sebframe.api.admin.endpoints.exam_templates import EXAM_TEMPLATE_QUERY
from sebframe.api.admin.endpoints.exams import EXAM_QUERY, RestrictionOut
from sebframe.core.accounts.roles import Role
from sebframe.core.exams import EXAM_FILTERS, EXAM_TEMPLATE_FILTERS
from sebframe.core.exams.restriction import RestrictionDetails
from sebframe.core.sebconfig import decode_seb
from sebframe.core.services import Services
from sebframe.settings import Settings
from sebframe.types import ChoiceSource, RestrictionField
from tests.api.admin.helpers import World, error_of
from tests.exam_helpers import exam_services, restrictions

pytestmark = pytest.mark.anyio
BEK = "d" * 64
CLIENT_CHECKS = ("signature_key_check_enabled", "signature_key_trust_threshold", "signature_key_grants",
                 "allowed_seb_versions", "alternative_bek")


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with exam_services(settings) as services:
        yield services


async def _setup(api_world: World) -> dict[str, Any]:
    return await api_world.api("a-admin").ok("POST", "/lms-setups", 201, json={
        "name": "Testing LMS", "lms_type": "TESTING", "url": "http://lms.mockup.com", "active": True,
        "settings": {"client_name": "a", "client_secret": "b"}})


async def _import(api_world: World, setup: dict[str, Any], quiz_id: str = "quiz1", **fields: Any) -> dict[str, Any]:
    body = {"lms_setup_id": setup["id"], "quiz_id": quiz_id, "supporter_ids": [api_world.users["a-supporter"].id],
            **fields}
    return await api_world.api("a-examadmin").ok("POST", "/exams", 201, json=body)


def test_list_queries_cover_the_service_filters() -> None:
    assert {f.name for f in EXAM_QUERY.filters} == set(EXAM_FILTERS)
    assert {f.name for f in EXAM_TEMPLATE_QUERY.filters} == set(EXAM_TEMPLATE_FILTERS)


async def test_import_list_get_patch_and_missing_setup(api_world: World) -> None:
    setup = await _setup(api_world)
    api = api_world.api("a-examadmin")
    exam = await _import(api_world, setup, exam_type="BYOD")
    assert exam["name"] == "Demo Quiz 1 (MOCKUP)" and exam["quiz_id"] == "quiz1" and exam["status"] == "RUNNING"
    assert exam["exam_type"] == "BYOD" and exam["supporter_ids"] == [api_world.users["a-supporter"].id]
    assert exam["restriction_applied"] and exam["missing_setup"] == ["no exam configuration attached"]
    await _import(api_world, setup, "quiz11")
    page = await api.ok("GET", "/exams?sort=-name")
    assert [item["name"] for item in page["items"]] == ["Demo Quiz 11 (MOCKUP)", "Demo Quiz 1 (MOCKUP)"]
    assert page["items"][0]["lms_setup_name"] == "Testing LMS"
    running = await api.ok("GET", "/exams?status=RUNNING")
    assert [item["quiz_id"] for item in running["items"]] == ["quiz1"]
    assert (await api.ok("GET", "/exams?start_from=2029-01-01T00:00:00Z"))["total"] == 2
    error_of(await api.get("/exams?status=DONE"), 422)
    error_of(await api.get("/exams?bogus=1"), 422)
    missing = await api.ok("GET", f"/exams/{exam['id']}/missing-setup")
    assert missing == {"exam_id": exam["id"], "ready": False, "missing": ["no exam configuration attached"]}
    changed = await api.ok("PATCH", f"/exams/{exam['id']}", json={"exam_type": "VDI"})
    assert changed["exam_type"] == "VDI" and changed["supporter_ids"] == exam["supporter_ids"]
    error_of(await api.patch(f"/exams/{exam['id']}", json={"supporter_ids": []}), 422)
    error_of(await api.patch(f"/exams/{exam['id']}", json={"name": "mine"}), 422)  # course data is the LMS's
    # Refusals: ended course, duplicate, unknown quiz, wrong types.
    ended = error_of(await api.post("/exams", json={"lms_setup_id": setup["id"], "quiz_id": "quiz3",
                                                    "supporter_ids": [api_world.users["a-supporter"].id]}), 422)
    assert "ended" in ended["field_errors"]["quiz_id"]
    duplicate = error_of(await api.post("/exams", json={"lms_setup_id": setup["id"], "quiz_id": "quiz1",
                                                        "supporter_ids": [api_world.users["a-supporter"].id]}), 409)
    assert "imported already" in duplicate["message"]
    error_of(await api.post("/exams", json={"lms_setup_id": setup["id"], "quiz_id": "quiz1", "exam_type": "X"}), 422)
    error_of(await api.post("/exams", json={"lms_setup_id": "1", "quiz_id": "quiz1"}), 422)


async def test_seb_client_checks_round_trip(api_world: World) -> None:
    setup = await _setup(api_world)
    api = api_world.api("a-examadmin")
    exam = await _import(api_world, setup)
    assert {key: exam[key] for key in CLIENT_CHECKS} == {
        "signature_key_check_enabled": False, "signature_key_trust_threshold": 2, "signature_key_grants": [],
        "allowed_seb_versions": "", "alternative_bek": None}
    assert "app_signature_salt" not in exam  # handed to SEB clients only
    wanted = {"signature_key_check_enabled": True, "signature_key_trust_threshold": 0,
              "signature_key_grants": [BEK.upper(), "e" * 64], "allowed_seb_versions": "iOS.3.2.0.AE, Win.3.5.min",
              "alternative_bek": "f" * 64}
    changed = await api.ok("PATCH", f"/exams/{exam['id']}", json=wanted)
    expected = {**wanted, "signature_key_grants": [BEK, "e" * 64], "allowed_seb_versions": "iOS.3.2.0.AE,Win.3.5.min"}
    assert {key: changed[key] for key in CLIENT_CHECKS} == expected
    assert {key: (await api.ok("GET", f"/exams/{exam['id']}"))[key] for key in CLIENT_CHECKS} == expected
    refused = error_of(await api.patch(f"/exams/{exam['id']}", json={
        "signature_key_check_enabled": False, "allowed_seb_versions": "Win.3.5.min,Android.1.0"}), 422)
    assert refused["field_errors"]["allowed_seb_versions"].startswith(
        "'Android.1.0' is not a SEB version: unknown OS 'Android'")
    refused = error_of(await api.patch(f"/exams/{exam['id']}", json={"signature_key_grants": ["12ab"]}), 422)
    assert "'12ab' is not an app signature key hash" in refused["field_errors"]["signature_key_grants"]
    assert {key: (await api.ok("GET", f"/exams/{exam['id']}"))[key] for key in CLIENT_CHECKS} == expected
    cleared = await api.ok("PATCH", f"/exams/{exam['id']}", json={"alternative_bek": "", "allowed_seb_versions": ""})
    assert cleared["alternative_bek"] is None and cleared["allowed_seb_versions"] == ""
    assert cleared["signature_key_grants"] == [BEK, "e" * 64]  # left out: unchanged


async def test_configuration_export_key_and_restriction(api_world: World) -> None:
    setup = await _setup(api_world)
    api = api_world.api("a-examadmin")
    exam = await _import(api_world, setup)
    path = f"/exams/{exam['id']}"
    error_of(await api.get(path + "/configuration"), 404)
    assert (await api.ok("GET", path + "/configuration/choices"))["items"] == []
    draft = await api.ok("POST", "/exam-configurations", 201, json={"name": "Draft"})
    error_of(await api.post(path + "/configuration", json={"configuration_id": draft["id"]}), 409)
    ready = await api.ok("POST", "/exam-configurations", 201, json={"name": "Ready", "status": "READY_TO_USE"})
    assert [c["name"] for c in (await api.ok("GET", path + "/configuration/choices"))["items"]] == ["Ready"]
    attached = await api.ok("POST", path + "/configuration", 201,
                            json={"configuration_id": ready["id"], "password": "pw"})
    assert attached["name"] == "Ready" and attached["status"] == "IN_USE" and attached["password_protected"]
    assert (await api.ok("GET", path + "/configuration"))["configuration_id"] == ready["id"]
    exported = await api.get(path + "/configuration/export")
    assert exported.status_code == 200
    key = (await api.ok("GET", path + "/configuration/config-key"))["config_key"]
    assert decode_seb(exported.content, password="pw").config_key() == key
    restriction = await api.ok("GET", path + "/restriction")
    assert restriction["supported"] and restriction["applied"] and restriction["config_keys"] == [key]
    updated = await api.ok("PUT", path + "/restriction", json={"browser_exam_keys": [BEK]})
    assert updated["browser_exam_keys"] == [BEK] and updated["outcome"].startswith("applied with 1 Config Key")
    assert restrictions()[(setup["id"], "quiz1")].browser_exam_keys == (BEK,)  # type: ignore[attr-defined]
    error_of(await api.put(path + "/restriction", json={"properties": {"X": "y"}}), 422)
    released = await api.ok("POST", path + "/restriction/release")
    assert not released["applied"] and released["outcome"] == "released"
    applied = await api.ok("POST", path + "/restriction/apply")
    assert applied["applied"]
    assert (await api.ok("GET", path + "/missing-setup"))["ready"]
    assert (await api.request("DELETE", path + "/configuration")).status_code == 204
    assert (await api.ok("GET", f"/exam-configurations/{ready['id']}"))["status"] == "READY_TO_USE"
    error_of(await api.delete(path + "/configuration"), 409)


async def test_indicators_and_types(api_world: World) -> None:
    setup = await _setup(api_world)
    api = api_world.api("a-examadmin")
    exam = await _import(api_world, setup)
    path = f"/exams/{exam['id']}/indicators"
    types = await api.ok("GET", "/indicator-types")
    battery = next(t for t in types["items"] if t["name"] == "BATTERY_STATUS")
    assert battery["fixed_tags"] == ["<battery>"] and battery["inverse"]
    [ping] = (await api.ok("GET", path))["items"]
    assert ping["name"] == "Ping" and [t["value"] for t in ping["thresholds"]] == [5000, 10000, 15000]
    created = await api.ok("POST", path, 201, json={
        "name": "Errors", "indicator_type": "ERROR_COUNT", "color": "#FF0000", "tags": ["net"],
        "thresholds": [{"value": 3, "color": "ff0000"}, {"value": 1, "color": "ffc20e"}]})
    assert created["color"] == "ff0000" and [t["value"] for t in created["thresholds"]] == [1, 3]
    bad = error_of(await api.post(path, json={"name": "Bad", "indicator_type": "ERROR_COUNT",
                                              "thresholds": [{"value": 1, "color": "ff0000"},
                                                             {"value": 1, "color": "00ff00"}]}), 422)
    assert "unique" in bad["field_errors"]["thresholds"]
    error_of(await api.post(path, json={"name": "Ping", "indicator_type": "LAST_PING"}), 422)
    error_of(await api.post(path, json={"name": "X", "indicator_type": "NOPE"}), 422)
    replaced = await api.ok("PUT", f"{path}/{created['id']}", json={"name": "Warnings", "indicator_type": "WARN_COUNT"})
    assert replaced["name"] == "Warnings" and replaced["thresholds"] == []
    # The assigned supporter may change, not add or delete.
    supporter = api_world.api("a-supporter")
    await supporter.ok("PUT", f"{path}/{created['id']}", json={"name": "Warnings", "indicator_type": "WARN_COUNT",
                                                               "color": "00ff00"})
    error_of(await supporter.post(path, json={"name": "Mine", "indicator_type": "LAST_PING"}), 403)
    error_of(await supporter.delete(f"{path}/{created['id']}"), 403)
    assert (await api.request("DELETE", f"{path}/{created['id']}")).status_code == 204
    error_of(await api.delete(f"{path}/{created['id']}"), 404)


async def test_delete_with_report(api_world: World) -> None:
    setup = await _setup(api_world)
    api = api_world.api("a-examadmin")
    exam = await _import(api_world, setup)
    report = await api.ok("GET", f"/exams/{exam['id']}/deletion-report")
    assert report["indicators"] == ["Ping"] and report["configuration"] is None
    assert report["restriction"] and report["supporters"] == ["A-Supporter Tester (a-supporter)"]
    error_of(await api_world.api("a-supporter").delete(f"/exams/{exam['id']}"), 403)
    deleted = await api.ok("DELETE", f"/exams/{exam['id']}")
    assert deleted["exam_name"] == "Demo Quiz 1 (MOCKUP)" and deleted["warnings"] == []
    assert (setup["id"], "quiz1") not in restrictions()
    error_of(await api.get(f"/exams/{exam['id']}"), 404)


async def test_roles_and_tenants(api_world: World) -> None:
    setup = await _setup(api_world)
    exam = await _import(api_world, setup)
    path = f"/exams/{exam['id']}"
    # Institutional and SEB Server administrators read; the assigned supporter reads and modifies.
    for reader in ("a-admin", "root"):
        assert (await api_world.api(reader).ok("GET", path))["id"] == exam["id"]
        error_of(await api_world.api(reader).patch(path, json={"exam_type": "VDI"}), 403)
        error_of(await api_world.api(reader).post(path + "/restriction/release"), 403)
    supporter = api_world.api("a-supporter")
    assert [e["id"] for e in (await supporter.ok("GET", "/exams"))["items"]] == [exam["id"]]
    await supporter.ok("PATCH", path, json={"exam_type": "VDI"})
    error_of(await supporter.post("/exams", json={"lms_setup_id": setup["id"], "quiz_id": "quiz5",
                                                  "supporter_ids": [api_world.users["a-supporter"].id]}), 403)
    other = await api_world.user(api_world.a, "a-supporter-2")
    assert (await api_world.api("a-supporter-2").ok("GET", "/exams"))["items"] == []
    error_of(await api_world.api("a-supporter-2").get(path), 404)
    # Another institution sees nothing and cannot use the LMS setup.
    b_admin = api_world.api("b-admin")
    error_of(await b_admin.get(path), 404)
    assert (await b_admin.ok("GET", "/exams"))["items"] == []
    await api_world.user(api_world.b, "b-examadmin", Role.EXAM_ADMIN)
    error_of(await api_world.api("b-examadmin").post("/exams", json={
        "lms_setup_id": setup["id"], "quiz_id": "quiz5", "supporter_ids": [other.id]}), 404)
    error_of(await api_world.api("b-examadmin").get(path + "/indicators"), 404)
    error_of(await api_world.api(None).get("/exams"), 401)


async def test_exam_templates(api_world: World) -> None:
    api = api_world.api("a-examadmin")
    base = await api.ok("POST", "/configuration-templates", 201, json={"name": "Base"})
    first = await api.ok("POST", "/exam-templates", 201, json={
        "name": "Finals", "institutional_default": True, "exam_type": "MANAGED",
        "configuration_template_id": base["id"], "supporter_ids": [api_world.users["a-supporter"].id],
        "indicators": [{"name": "Ping", "indicator_type": "LAST_PING",
                        "thresholds": [{"value": 5000, "color": "ffc20e"}]}]})
    assert first["institutional_default"] and first["indicators"][0]["thresholds"] == [{"value": 5000,
                                                                                       "color": "ffc20e"}]
    second = await api.ok("POST", "/exam-templates", 201, json={"name": "Quizzes", "institutional_default": True})
    assert not (await api.ok("GET", f"/exam-templates/{first['id']}"))["institutional_default"]
    page = await api.ok("GET", "/exam-templates?exam_type=MANAGED")
    assert [t["name"] for t in page["items"]] == ["Finals"]
    replaced = await api.ok("PUT", f"/exam-templates/{first['id']}", json={"name": "Finals", "exam_type": "BYOD"})
    assert replaced["exam_type"] == "BYOD" and len(replaced["indicators"]) == 1  # indicators kept
    assert replaced["configuration_template_id"] is None and replaced["supporter_ids"] == []
    error_of(await api.post("/exam-templates", json={"name": "quizzes"}), 422)
    error_of(await api.post("/exam-templates", json={"name": "Bad", "indicators": [{"name": "x",
                                                                                    "indicator_type": "NOPE"}]}), 422)
    error_of(await api_world.api("a-admin").put(f"/exam-templates/{first['id']}", json={"name": "Mine"}), 403)
    error_of(await api_world.api("a-supporter").get("/exam-templates"), 403)
    error_of(await api_world.api("b-admin").get(f"/exam-templates/{first['id']}"), 404)
    # Importing with the template applies it.
    setup = await _setup(api_world)
    exam = await api_world.api("a-examadmin").ok("POST", "/exams", 201, json={
        "lms_setup_id": setup["id"], "quiz_id": "quiz4", "exam_template_id": second["id"],
        "supporter_ids": [api_world.users["a-supporter"].id]})
    assert exam["exam_template_id"] == second["id"]
    assert (await api.request("DELETE", f"/exam-templates/{second['id']}")).status_code == 204
    assert (await api.ok("GET", f"/exams/{exam['id']}"))["exam_template_id"] is None


async def test_restriction_fields_say_where_their_choices_come_from() -> None:
    details = RestrictionDetails(exam_id=1, supported=True, unsupported_reason="", lms_type="OPEN_EDX", applied=False,
                                 message="", config_keys=(), browser_exam_keys=(), properties={}, fields=(
                                     RestrictionField("PATHS", "Paths", ("about", "wiki"), multiple=True),
                                     RestrictionField("CHAPTERS", "Chapters", multiple=True,
                                                      choices_from=ChoiceSource.CHAPTERS)))
    fields = RestrictionOut.of(details).model_dump(mode="json")["fields"]
    assert [(f["name"], f["choices"], f["choices_from"]) for f in fields] == [
        ("PATHS", ["about", "wiki"], None), ("CHAPTERS", [], "chapters")]
