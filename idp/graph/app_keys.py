"""Graph's application addKey / removeKey: roll an app's certificates, each call proved with a JWT signed by a
certificate the app already holds (idp/oidc/keycredentials.py checks it)."""

from ..extensions import db
from ..oidc import keycredentials
from ..oidc.models import Client
from . import access
from ..kit.graph import audit, current_caller, odata_context, operation, read_json
from .applications import OBJECT, _application, _write

KEY_CREDENTIAL = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "usage": {"type": "string"},
        "key": {"type": "string"},
        "displayName": {"type": ["string", "null"]},
    },
}
ADD_KEY_BODY = {
    "type": "object",
    "required": ["keyCredential", "proof"],
    "properties": {
        "keyCredential": KEY_CREDENTIAL,
        "passwordCredential": {"type": ["object", "null"]},
        "proof": {"type": "string"},
    },
}
REMOVE_KEY_BODY = {
    "type": "object",
    "required": ["keyId", "proof"],
    "properties": {"keyId": {"type": "string"}, "proof": {"type": "string"}},
}
ACTIVITY = "Update application – Certificates and secrets management"


def _rolled_app(app_object_id: str) -> Client:
    """The application whose keys change: any, for a caller allowed to write applications; its own only, for
    an app-only token without Application.ReadWrite.All (Graph: no permission is needed to roll one's keys)."""
    caller = current_caller()
    if caller.is_app and not caller.permissions & access.APP_WRITE:
        own = db.session.get(Client, caller.client_id)
        if own is None or own.object_id != app_object_id.lower():
            raise access.denied("Without Application.ReadWrite.All an application may roll only its own keys.")
        return own
    _write()
    return _application(app_object_id)


@operation(
    "/applications/{app_object_id}/addKey",
    ["POST"],
    summary="Add a certificate (with a proof signed by a certificate the app holds)",
    body=ADD_KEY_BODY,
    responses={"200": ("Key credential", OBJECT)},
)
def add_key(app_object_id):
    client = _rolled_app(app_object_id)
    credential = keycredentials.add_key(client, read_json())
    audit(ACTIVITY, "Application", client.object_id, after={"keyCredentials": [credential]})
    db.session.commit()
    return {"@odata.context": odata_context("microsoft.graph.keyCredential"), **credential}


@operation(
    "/applications/{app_object_id}/removeKey",
    ["POST"],
    summary="Remove a certificate (with a proof signed by a certificate the app holds)",
    body=REMOVE_KEY_BODY,
    status=204,
    responses={"204": ("Removed", None)},
)
def remove_key(app_object_id):
    client = _rolled_app(app_object_id)
    body = read_json()
    keycredentials.remove_key(client, body)
    audit(ACTIVITY, "Application", client.object_id, before={"keyId": str(body.get("keyId"))[:40]})
    db.session.commit()
    return "", 204
