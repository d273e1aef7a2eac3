"""The OpenAPI document of the admin API, built from the registered operations (so it cannot drift)."""

import re

from flask import Blueprint, jsonify

from ..kit.graph import OPERATIONS

bp = Blueprint("graph_openapi", __name__)

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "innerError": {
                    "type": "object",
                    "required": ["date", "request-id", "client-request-id"],
                    "properties": {
                        "date": {"type": "string"},
                        "request-id": {"type": "string"},
                        "client-request-id": {"type": "string"},
                    },
                },
            },
            "required": ["code", "message", "innerError"],
        }
    },
}


def document() -> dict:
    paths: dict = {}
    for path, method, spec in OPERATIONS:
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"\{(\w+)\}", path)
        ]
        responses = {
            str(code): {
                "description": text,
                **({"content": {"application/json": {"schema": schema}}} if schema else {}),
            }
            for code, (text, schema) in spec["responses"].items()
        }
        for code in ("400", "401", "403", "404", "409") + (("413",) if spec["body"] is not None else ()):
            responses.setdefault(
                code, {"description": "Graph error", "content": {"application/json": {"schema": ERROR_SCHEMA}}}
            )
        entry = {
            "summary": spec["summary"],
            "parameters": params,
            "responses": responses,
            "security": [{"bearer": []}],
            "x-permissions": spec["permissions"].document(),
        }
        if spec["body"] is not None:
            entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": spec["body"]}}}
        paths.setdefault(path, {})[method] = entry
    return {
        "openapi": "3.0.3",
        "info": {"title": "IdP admin API (Microsoft Graph shaped)", "version": "1.0"},
        "servers": [{"url": "/v1.0"}, {"url": "/beta"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "paths": paths,
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(document())
