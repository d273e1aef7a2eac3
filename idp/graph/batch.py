"""JSON batching (`POST /$batch`): up to 20 requests in one, answered in one; `dependsOn` orders them and a
request whose dependency failed is answered 424. Each request runs through this app exactly as if it had been
sent alone, with the batch's own bearer token."""

import base64
import json
import re

from flask import current_app, request
from werkzeug.test import EnvironBuilder

from ..kit.graph import GraphError, operation, read_json

MAX_REQUESTS = 20
METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE"}
BATCH_BODY = {
    "type": "object",
    "required": ["requests"],
    "properties": {
        "requests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "method", "url"],
                "properties": {
                    "id": {"type": "string"},
                    "method": {"type": "string"},
                    "url": {"type": "string"},
                    "headers": {"type": "object"},
                    "body": {},
                    "dependsOn": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}


def _bad(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def _validated(items) -> list[dict]:
    if not isinstance(items, list) or not items:
        raise _bad("The batch needs a non-empty 'requests' array.")
    if len(items) > MAX_REQUESTS:
        raise _bad(f"Number of batch requests exceeds the limit of {MAX_REQUESTS}.")
    seen = set()
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"] or len(item["id"]) > 64:
            raise _bad("Each batch request needs a string 'id'.")
        if item["id"] in seen:
            raise _bad(f"Batch request ids must be unique: '{item['id']}'.")
        seen.add(item["id"])
        if str(item.get("method", "")).upper() not in METHODS:
            raise _bad(f"Request '{item['id']}': unsupported method {str(item.get('method'))[:10]!r}.")
        url = item.get("url")
        if (
            not isinstance(url, str)
            or not url
            or "://" in url
            or url.startswith("//")
            or len(url) > 2048
            or re.match(r"^/?\$batch", url)
        ):
            raise _bad(f"Request '{item['id']}': 'url' must be relative to the version, such as '/users/{{id}}'.")
        depends = item.get("dependsOn", item.get("depends_on")) or []
        if not isinstance(depends, list) or not all(isinstance(d, str) and d in seen - {item["id"]} for d in depends):
            raise _bad(f"Request '{item['id']}': dependsOn must name requests that come before it.")
        if item.get("headers") is not None and not isinstance(item["headers"], dict):
            raise _bad(f"Request '{item['id']}': 'headers' must be an object.")
    return items


@operation(
    "/$batch",
    ["POST"],
    summary="JSON batching: up to 20 requests in one",
    body=BATCH_BODY,
    responses={"200": ("Batch responses", {"type": "object", "properties": {"responses": {"type": "array"}}})},
)
def batch():
    items = _validated(read_json().get("requests"))
    version = "beta" if request.path.startswith("/beta/") else "v1.0"
    statuses: dict[str, int] = {}
    responses = []
    for item in items:
        depends = item.get("dependsOn", item.get("depends_on")) or []
        if any(statuses.get(d, 500) >= 400 for d in depends):
            answer = {
                "id": item["id"],
                "status": 424,
                "headers": {"Content-Type": "application/json"},
                "body": {"error": {"code": "FailedDependency", "message": "A request this one depends on failed."}},
            }
        else:
            answer = _run(item, version)
        statuses[item["id"]] = answer["status"]
        responses.append(answer)
    return {"responses": responses}


def _run(item: dict, version: str) -> dict:
    url = item["url"] if item["url"].startswith("/") else "/" + item["url"]
    path, _, query = url.partition("?")
    headers = {
        str(k)[:100]: str(v)[:4000]
        for k, v in (item.get("headers") or {}).items()
        if str(k).lower() not in ("authorization", "host", "content-length")
    }
    headers["Authorization"] = request.headers.get("Authorization", "")
    data = None
    if item.get("body") is not None:
        body = item["body"]
        if isinstance(body, str):  # a base64-encoded body (the SDKs send non-object bodies so)
            try:
                data = base64.b64decode(body, validate=True)
            except ValueError:
                data = body.encode()
        else:
            data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    builder = EnvironBuilder(
        path=f"/{version}{path}",
        query_string=query,
        method=item["method"].upper(),
        headers=headers,
        data=data,
        base_url=request.host_url,
        environ_base={"REMOTE_ADDR": request.remote_addr},
    )
    with current_app.test_client() as client:
        response = client.open(builder.get_environ())
    answer = {
        "id": item["id"],
        "status": response.status_code,
        "headers": {k: v for k, v in response.headers.items() if k in ("Content-Type", "Location", "Retry-After")},
    }
    if response.data:
        answer["body"] = (
            response.get_json(silent=True) if response.is_json else base64.b64encode(response.data).decode()
        )
    return answer
