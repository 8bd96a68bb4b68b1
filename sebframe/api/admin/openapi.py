"""The OpenAPI 3.1 document of the admin API, generated from the declared endpoints and their models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from sebframe import __version__
from sebframe.api.admin.routing import ApiRouter

_PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "field_errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def openapi_document(router: ApiRouter) -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    paths: dict[str, Any] = {}

    def ref(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas[name] = definition
        schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    for endpoint in router.endpoints:
        path = _PATH_PARAM.sub(r"{\1}", endpoint.path)
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "tags": [endpoint.tag],
            "operationId": endpoint.handler.__name__,
            "responses": {"4XX": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        }
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
            for name in _PATH_PARAM.findall(endpoint.path)
        ]
        parameters += [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
                       for name in endpoint.query]
        if parameters:
            operation["parameters"] = parameters
        if endpoint.request_model is not None:
            operation["requestBody"] = {"required": True,
                                        "content": {"application/json": {"schema": ref(endpoint.request_model)}}}
        elif endpoint.raw_body is not None:
            operation["requestBody"] = {"required": True,
                                        "content": {endpoint.raw_body: {"schema": {"type": "string", "format": "binary"}}}}
        success: dict[str, Any] = {"description": "OK"}
        if endpoint.response_model is not None:
            schema = ref(endpoint.response_model)
            if endpoint.response_is_page:
                schema = {"type": "object", "properties": {"items": {"type": "array", "items": schema},
                          "total": {"type": "integer"}, "page": {"type": "integer"},
                          "size": {"type": "integer"}, "pages": {"type": "integer"}}}
            success["content"] = {"application/json": {"schema": schema}}
        operation["responses"][str(endpoint.status_code)] = success
        if not endpoint.public:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[endpoint.method.lower()] = operation

    return {
        "openapi": "3.1.0",
        "info": {"title": "sebframe admin API", "version": __version__,
                 "description": "JSON API for integrators; the same services and rules as the web UI."},
        "servers": [{"url": "/admin-api/v1"}],
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "a token from `sebframe token create`"}}},
    }
