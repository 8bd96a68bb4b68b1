"""The OpenAPI 3.1 document of the admin API, generated from the declared endpoints and their models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from sebframe import __version__
from sebframe.api.admin.routing import ApiRouter

_PATH_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")
# JSON schema of a path parameter by its Starlette convertor (no convertor means ``str``).
_CONVERTOR_SCHEMAS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer", "minimum": 0},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
    "path": {"type": "string"},
    "str": {"type": "string"},
}

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "field_errors": {"type": "object", "additionalProperties": {"type": "string"}},
        "issues": {"type": "array", "description": "rejected IP profile rules: every line-numbered error and warning",
                   "items": {"type": "object", "required": ["line", "code", "severity", "message"],
                             "properties": {"line": {"type": "integer"}, "code": {"type": "string"},
                                            "severity": {"type": "string", "enum": ["error", "warning", "info"]},
                                            "message": {"type": "string"}}}},
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _component_schemas(router: ApiRouter) -> tuple[dict[type[BaseModel], dict[str, str]], dict[str, Any]]:
    """The JSON schemas of every request and response model, generated together: two models of the same
    name (in different modules) get distinct components instead of one silently replacing the other."""
    models = list(dict.fromkeys(model for endpoint in router.endpoints
                                for model in (endpoint.request_model, endpoint.response_model) if model is not None))
    refs, definitions = models_json_schema([(model, "validation") for model in models],
                                           ref_template="#/components/schemas/{model}")
    return {model: refs[(model, "validation")] for model in models}, definitions.get("$defs", {})


def openapi_document(router: ApiRouter) -> dict[str, Any]:
    refs, model_schemas = _component_schemas(router)
    schemas: dict[str, Any] = {"Error": _ERROR_SCHEMA, **model_schemas}
    paths: dict[str, Any] = {}

    def ref(model: type[BaseModel]) -> dict[str, str]:
        return dict(refs[model])

    for endpoint in router.endpoints:
        path = _PATH_PARAM.sub(r"{\1}", endpoint.path)
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "tags": [endpoint.tag],
            "operationId": endpoint.handler.__name__,
            "responses": {"4XX": {"description": "Error", "content": _json(_ERROR_REF)}},
        }
        parameters = [
            {"name": name, "in": "path", "required": True,
             "schema": dict(_CONVERTOR_SCHEMAS.get(convertor or "str", {"type": "string"}))}
            for name, convertor in _PATH_PARAM.findall(endpoint.path)
        ]
        for param in endpoint.query_params():
            query: dict[str, Any] = {"name": param.name, "in": "query", "required": False,
                                     "schema": dict(param.schema)}
            if param.description:
                query["description"] = param.description
            parameters.append(query)
        if parameters:
            operation["parameters"] = parameters
        if endpoint.request_model is not None:
            body_schema = ref(endpoint.request_model)
            operation["requestBody"] = {"required": True, "content": _json(body_schema)}
        elif endpoint.raw_body is not None:
            media_types = (endpoint.raw_body,) if isinstance(endpoint.raw_body, str) else endpoint.raw_body
            operation["requestBody"] = {"required": True,
                                        "content": {media: {"schema": {"type": "string", "format": "binary"}}
                                                    for media in media_types}}
        success: dict[str, Any] = {"description": "OK"}
        if endpoint.response_media:
            success["content"] = {media: {"schema": {"type": "string", "format": "binary"}}
                                  for media in endpoint.response_media}
        elif endpoint.response_model is not None:
            schema: dict[str, Any] = ref(endpoint.response_model)
            if endpoint.response_is_page:
                schema = {"type": "object", "required": ["items", "total", "page", "size", "pages"],
                          "properties": {"items": {"type": "array", "items": schema},
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
                       "securitySchemes": {"bearer": {
                           "type": "http", "scheme": "bearer",
                           "description": "a token from `sebframe token create`"}}},
    }
