"""The OpenAPI document describes every endpoint, its parameters and bodies; responses match it."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from pydantic import create_model
from starlette.requests import Request

from sebframe.api.admin.endpoints import routers
from sebframe.api.admin.endpoints.activity import ACTIVITY_QUERY
from sebframe.api.admin.endpoints.client_logs import CLIENT_LOG_QUERY
from sebframe.api.admin.endpoints.institutions import INSTITUTION_QUERY
from sebframe.api.admin.endpoints.location_audit import AUDIT_QUERY
from sebframe.api.admin.endpoints.location_profiles import PROFILE_QUERY
from sebframe.api.admin.endpoints.locations import LOCATION_QUERY
from sebframe.api.admin.endpoints.users import USER_QUERY
from sebframe.api.admin.openapi import openapi_document
from sebframe.api.admin.routing import ApiRouter
from sebframe.core.accounts.activity_log import ACTIVITY_FILTERS
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.institutions import INSTITUTION_FILTERS
from sebframe.core.accounts.users import USER_FILTERS
from sebframe.core.db.models import ClientConnection, Exam
from sebframe.core.location.audit_log import AUDIT_FILTERS
from sebframe.core.location.profiles import LOCATION_FILTERS, PROFILE_FILTERS
from sebframe.core.monitoring.logs import CLIENT_LOG_FILTERS
from sebframe.core.session.clock import now_ms
from tests.api.admin.helpers import BASE, PNG, World
from tests.api.admin.test_admin_certificates import certificate_der
from tests.client_log_helpers import Event, add_connection, add_events

pytestmark = pytest.mark.anyio

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
ENDPOINTS = [endpoint for router in routers() for endpoint in router.endpoints]


@pytest.fixture
async def document(api_world: World) -> dict[str, Any]:
    response = await api_world.client.get(BASE + "/openapi.json")  # public: no token needed
    assert response.status_code == 200
    return response.json()


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


async def test_document_structure(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"] == [{"url": "/admin-api/v1"}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    operation_ids = []
    for path, item in document["paths"].items():
        assert path.startswith("/") and ":" not in path, path  # no Starlette convertors leak out
        for method, operation in item.items():
            assert method in METHODS
            assert operation["summary"] and operation["tags"] and operation["operationId"]
            assert any(code.startswith("2") for code in operation["responses"])
            assert "4XX" in operation["responses"]
            for response in operation["responses"].values():
                assert response["description"]
            operation_ids.append(operation["operationId"])
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"
    schemas = document["components"]["schemas"]
    # Component names become class names in integrators' generated clients: each model's own, no module path.
    assert not [name for name in schemas if "__" in name]
    for ref in _refs(document):
        assert ref.startswith("#/components/schemas/") and ref.removeprefix("#/components/schemas/") in schemas


EXPECTED = {
    "GET /institutions", "POST /institutions", "GET /institutions/{id}", "PUT /institutions/{id}",
    "GET /institutions/{id}/logo", "PUT /institutions/{id}/logo", "DELETE /institutions/{id}/logo",
    "GET /institutions/{id}/deactivation-report", "POST /institutions/{id}/activate",
    "POST /institutions/{id}/deactivate",
    "GET /users", "POST /users", "GET /users/{id}", "PATCH /users/{id}", "DELETE /users/{id}",
    "POST /users/{id}/activate", "POST /users/{id}/deactivate", "PUT /users/{id}/password",
    "GET /users/{id}/deletion-report",
    "GET /activity-log", "GET /plugins", "GET /me", "POST /tokens",
    "GET /lms-types", "GET /lms-setups", "POST /lms-setups", "GET /lms-setups/{id}", "PUT /lms-setups/{id}",
    "PATCH /lms-setups/{id}", "DELETE /lms-setups/{id}", "POST /lms-setups/{id}/test",
    "POST /lms-setups/{id}/activate", "GET /lms-setups/{id}/deactivation-report",
    "POST /lms-setups/{id}/deactivate", "GET /lms-lookup",
    "GET /exams", "POST /exams", "GET /exams/{id}", "PATCH /exams/{id}", "DELETE /exams/{id}",
    "GET /exams/{id}/deletion-report", "GET /exams/{id}/missing-setup", "GET /exams/{id}/configuration",
    "POST /exams/{id}/configuration", "DELETE /exams/{id}/configuration", "GET /exams/{id}/configuration/choices",
    "GET /exams/{id}/configuration/export", "GET /exams/{id}/configuration/config-key", "GET /indicator-types",
    "GET /exams/{id}/indicators", "POST /exams/{id}/indicators", "PUT /exams/{id}/indicators/{indicator_id}",
    "DELETE /exams/{id}/indicators/{indicator_id}", "GET /exams/{id}/restriction", "PUT /exams/{id}/restriction",
    "POST /exams/{id}/restriction/apply", "POST /exams/{id}/restriction/release",
    "GET /exam-templates", "POST /exam-templates", "GET /exam-templates/{id}", "PUT /exam-templates/{id}",
    "DELETE /exam-templates/{id}",
    "GET /client-logs", "GET /client-logs/{id}", "GET /client-logs/count", "GET /client-logs/export.csv",
    "DELETE /client-logs",
    "GET /locations", "POST /locations", "GET /locations/{id}", "PUT /locations/{id}", "PATCH /locations/{id}",
    "POST /locations/{id}/hide", "POST /locations/{id}/unhide",
    "GET /location-profiles", "POST /location-profiles", "POST /location-profiles/check",
    "GET /location-profiles/{id}", "PUT /location-profiles/{id}", "GET /location-profiles/{id}/versions",
    "GET /location-profiles/{id}/versions/{version}", "POST /location-profiles/{id}/hide",
    "POST /location-profiles/{id}/unhide", "POST /location-profiles/{id}/preview",
    "GET /exams/{id}/location", "PUT /exams/{id}/location", "POST /exams/{id}/location/suspend",
    "POST /exams/{id}/location/resume", "GET /exams/{id}/location/exceptions", "POST /exams/{id}/location/exceptions",
    "GET /exams/{id}/location/exceptions/{exception_id}", "PUT /exams/{id}/location/exceptions/{exception_id}",
    "DELETE /exams/{id}/location/exceptions/{exception_id}", "GET /exams/{id}/location/blocked",
    "GET /exams/{id}/location/placements", "GET /exams/{id}/location/overrides", "POST /exams/{id}/location/overrides",
    "POST /exams/{id}/location/overrides/{override_id}/revoke",
    "GET /location-audit", "GET /location-audit/{id}", "GET /exams/{id}/location/audit.log",
    "GET /exams/{id}/location/audit.jsonl", "GET /exams/{id}/location/audit.csv",
}


async def test_every_endpoint_is_documented(document: dict[str, Any]) -> None:
    documented = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    assert EXPECTED <= documented
    assert len(documented) == len(ENDPOINTS)
    for endpoint in ENDPOINTS:
        path = re.sub(r"{(\w+):\w+}", r"{\1}", endpoint.path)
        operation = document["paths"][path][endpoint.method.lower()]
        assert operation["operationId"] == endpoint.handler.__name__
        assert str(endpoint.status_code) in operation["responses"]
        if not endpoint.public:
            assert operation["security"] == [{"bearer": []}]
        if endpoint.request_model is not None or endpoint.raw_body is not None:
            assert operation["requestBody"]["required"] is True
        if endpoint.method in ("POST", "PUT", "PATCH") and not path.endswith(("/activate", "/deactivate",
                                                                               "/credentials", "/undo", "/test",
                                                                               "/apply", "/release", "/confirm",
                                                                               "/hide", "/unhide", "/join")):
            assert "requestBody" in operation, (endpoint.method, path)
        success = operation["responses"][str(endpoint.status_code)]
        if endpoint.method != "DELETE" or endpoint.response_model is not None:
            assert "content" in success, (endpoint.method, path)


async def test_every_path_parameter_is_declared(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        names = re.findall(r"{(\w+)}", path)
        for operation in item.values():
            declared = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}
            assert set(declared) == set(names), (path, declared)
            for name in names:
                assert declared[name]["required"] is True
                assert declared[name]["schema"]["type"] == "integer", (path, name)
            query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            assert len(query) == len(set(query))


@pytest.mark.parametrize(("path", "declared", "service"), [
    ("/institutions", INSTITUTION_QUERY, INSTITUTION_FILTERS),
    ("/users", USER_QUERY, USER_FILTERS),
    ("/activity-log", ACTIVITY_QUERY, ACTIVITY_FILTERS),
    ("/client-logs", CLIENT_LOG_QUERY, CLIENT_LOG_FILTERS),
    ("/locations", LOCATION_QUERY, LOCATION_FILTERS),
    ("/location-profiles", PROFILE_QUERY, PROFILE_FILTERS),
    ("/location-audit", AUDIT_QUERY, AUDIT_FILTERS),
])
async def test_list_queries_cover_the_service_filters(
    document: dict[str, Any], path: str, declared: Any, service: tuple[str, ...]
) -> None:
    assert {f.name for f in declared.filters} == set(service)
    params = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}
    assert set(params) == {"page", "size", "sort", *service}
    assert params["page"]["schema"]["type"] == "integer"
    response = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(response["properties"]) == set(response["required"]) == {"items", "total", "page", "size", "pages"}


def _body_schema(operation: dict[str, Any], status: str | None) -> dict[str, Any]:
    holder = operation["requestBody"] if status is None else operation["responses"][status]
    schema: dict[str, Any] = holder["content"]["application/json"]["schema"]
    return schema["properties"]["items"]["items"] if "$ref" not in schema else schema


async def test_every_body_is_documented_by_its_own_model(document: dict[str, Any]) -> None:
    """Each body refers to its endpoint's model, also when models of two modules share a name (the exam's and
    the user's deletion reports were one component, so the exam's was documented with the user's fields)."""
    schemas = document["components"]["schemas"]
    for endpoint in ENDPOINTS:
        operation = document["paths"][re.sub(r"{(\w+):\w+}", r"{\1}", endpoint.path)][endpoint.method.lower()]
        declared = [(endpoint.request_model, None)] if endpoint.request_model is not None else []
        if endpoint.response_model is not None and not endpoint.response_media:
            declared.append((endpoint.response_model, str(endpoint.status_code)))
        for model, status in declared:
            documented = schemas[_body_schema(operation, status)["$ref"].removeprefix("#/components/schemas/")]
            expected = model.model_json_schema()
            assert documented["properties"].keys() == expected["properties"].keys(), (endpoint.path, model)
            assert documented.get("required") == expected.get("required"), (endpoint.path, model)


def test_models_of_the_same_name_keep_their_own_components() -> None:
    first = create_model("Report", user_id=(int, ...))
    second = create_model("Report", exam_id=(int, ...))
    api = ApiRouter()

    async def user_report(request: Request, actor: Actor) -> None: ...

    async def exam_report(request: Request, actor: Actor) -> None: ...

    api.get("/users/report", summary="u", tag="t", response_model=first)(user_report)
    api.get("/exams/report", summary="e", tag="t", response_model=second)(exam_report)
    document = openapi_document(api)
    refs = [document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            for path in ("/users/report", "/exams/report")]
    assert refs[0] != refs[1]
    schemas = document["components"]["schemas"]
    assert [list(schemas[ref.rsplit("/", 1)[1]]["properties"]) for ref in refs] == [["user_id"], ["exam_id"]]


async def test_no_secret_in_any_response_schema(document: dict[str, Any]) -> None:
    output_schemas = set()
    for item in document["paths"].values():
        for operation in item.values():
            for response in operation["responses"].values():
                output_schemas.update(ref.rsplit("/", 1)[1] for ref in _refs(response))
    schemas = document["components"]["schemas"]
    for name in output_schemas - {"TokenCreated"}:  # the one place a new token is shown, once
        # Flags (has_quit_password: true) cannot leak a secret; a public-key hash is public by definition.
        properties = {p for p, schema in schemas[name].get("properties", {}).items()
                      if schema.get("type") != "boolean" and p != "public_key_hash"}
        assert not {p for p in properties if "password" in p or "hash" in p or "stamp" in p}, name


async def test_responses_match_their_declared_models(api_world: World) -> None:
    """Call every GET endpoint (and a few others) and validate the body against its declared model."""
    api = api_world.api("root")
    await api.ok("PUT", f"/institutions/{api_world.a.id}/logo", content=PNG, headers={"Content-Type": "image/png"})
    ids = {"id": api_world.a.id}
    users = {"id": api_world.users["a-supporter"].id}
    # SEB configuration entities are written (and exported) by the institution's administrator.
    a_admin = api_world.api("a-admin")
    certificate = await a_admin.ok("POST", "/certificates", 201, json={"data": base64.b64encode(certificate_der())
                                                                                .decode()})
    config = await a_admin.ok("POST", "/connection-configurations", 201, json={"name": "Every GET", "active": True})
    exam_admin = api_world.api("a-examadmin")
    exam_config = await exam_admin.ok("POST", "/exam-configurations", 201, json={"name": "Every GET"})
    template = await exam_admin.ok("POST", "/configuration-templates", 201, json={"name": "Every GET"})
    lms_setup = await a_admin.ok("POST", "/lms-setups", 201, json={
        "name": "Every GET", "lms_type": "TESTING", "url": "https://lms.example.org", "active": True,
        "settings": {"client_name": "a", "client_secret": "b"}})
    exam = await exam_admin.ok("POST", "/exams", 201, json={
        "lms_setup_id": lms_setup["id"], "quiz_id": "quiz1", "supporter_ids": [api_world.users["a-supporter"].id]})
    ready = await exam_admin.ok("POST", "/exam-configurations", 201, json={"name": "Every GET exam",
                                                                          "status": "READY_TO_USE"})
    await exam_admin.ok("POST", f"/exams/{exam['id']}/configuration", 201, json={"configuration_id": ready["id"]})
    exam_template = await exam_admin.ok("POST", "/exam-templates", 201, json={"name": "Every GET"})
    # A closed SEB connection: the exam's participation report has a row to validate.
    async with api_world.factory.services.db.transaction() as session:
        session.add(ClientConnection(connection_token="every-get", institution_id=api_world.a.id, exam_id=exam["id"],
                                     status="CLOSED", client_address="10.0.0.1", created_ms=now_ms(),
                                     changed_ms=now_ms()))
    # A SEB client log event of the exam, for the client log endpoints.
    services = api_world.factory.services
    async with services.db.read() as session:
        exam_row = await session.get(Exam, exam["id"])
    assert exam_row is not None
    log_connection = await add_connection(services, exam_row, "every-get-user")
    [event_id] = await add_events(services, log_connection, [Event("INFO_LOG", 1, "Every GET", 1)])
    # A location, an IP profile on the exam with an exception, and the profile's audit record.
    location = await a_admin.ok("POST", "/locations", 201, json={"name": "Every GET"})
    profile = await a_admin.ok("POST", "/location-profiles", 201, json={
        "name": "Every GET", "rules": "ALLOW 10.1.0.0/24 room=A", "location_id": location["id"]})
    await exam_admin.ok("PUT", f"/exams/{exam['id']}/location", json={"profile_ids": [profile["id"]]})
    exception = await exam_admin.ok("POST", f"/exams/{exam['id']}/location/exceptions", 201,
                                    json={"name": "every-get-user"})
    [audit] = (await a_admin.ok("GET", "/location-audit"))["items"]
    second_ids = {"{version:int}": "1", "{exception_id:int}": str(exception["id"])}
    per_prefix = {"/certificates": (a_admin, certificate["id"]), "/connection-configurations": (a_admin, config["id"]),
                  "/exam-configurations": (exam_admin, exam_config["id"]),
                  "/configuration-templates": (exam_admin, template["id"]),
                  "/lms-setups": (a_admin, lms_setup["id"]), "/lms-lookup": (exam_admin, 0),
                  "/exams": (exam_admin, exam["id"]), "/exam-templates": (exam_admin, exam_template["id"]),
                  "/monitoring": (exam_admin, exam["id"]), "/client-logs": (exam_admin, event_id),
                  "/locations": (a_admin, location["id"]), "/location-profiles": (a_admin, profile["id"]),
                  "/location-audit": (a_admin, audit["id"])}
    checked = 0
    for endpoint in ENDPOINTS:
        if endpoint.method != "GET" or "{" in endpoint.path and "{id:int}" not in endpoint.path:
            continue
        values = users if endpoint.path.startswith("/users") else ids
        caller, entity_id = next((pair for prefix, pair in per_prefix.items() if endpoint.path.startswith(prefix)),
                                 (api, values["id"]))
        path = endpoint.path.replace("{id:int}", str(entity_id))
        for param, value in second_ids.items():
            path = path.replace(param, value)
        response = await caller.get(path)
        assert response.status_code == endpoint.status_code, (path, response.text)
        if endpoint.response_media:
            assert response.headers["content-type"] in endpoint.response_media
        elif endpoint.response_model is not None:
            body = response.json()
            items = body["items"] if endpoint.response_is_page else [body]
            assert items, path
            for item in items:
                endpoint.response_model.model_validate(item)
        checked += 1
    assert checked >= 10
