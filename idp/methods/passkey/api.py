"""Graph: /users/{id}/authentication/fido2Methods, creation options and provisioning on behalf of a user."""

from datetime import timedelta

from ... import clock
from ...extensions import db
from ...kit.graph import (
    GraphError,
    audit,
    bad_request,
    current_caller,
    not_found,
    odata_context,
    operation,
    read_json,
    target_user,
)
from ...kit.graph_functions import function
from .. import rbac
from . import service
from .models import Passkey

BASE = "/users/{user_ref}/authentication/fido2Methods"
TIMEOUT_RANGE = (5, 43_200)  # minutes
METHOD_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "displayName": {"type": "string"},
        "createdDateTime": {"type": ["string", "null"]},
        "aaGuid": {"type": "string"},
        "model": {"type": ["string", "null"]},
        "attestationCertificates": {"type": "array", "items": {"type": "string"}},
        "attestationLevel": {"type": "string", "enum": ["attested", "notAttested"]},
    },
}
OPTIONS_SCHEMA = {
    "type": "object",
    "properties": {"challengeTimeoutDateTime": {"type": "string"}, "publicKey": {"type": "object"}},
}


def _authorized(user_ref: str, action: str):
    user = target_user(user_ref)
    rbac.authorize(current_caller(), user, action, self_service=action == "delete")
    return user


def graph_passkey(passkey: Passkey) -> dict:
    return {
        "id": passkey.id,
        "displayName": passkey.display_name,
        "createdDateTime": clock.iso(passkey.created_at),
        "aaGuid": passkey.aaguid,
        "model": passkey.model,
        "attestationCertificates": list(passkey.attestation_certificates or []),
        "attestationLevel": passkey.attestation_level,
    }


def _passkey(user, method_id: str) -> Passkey:
    passkey = db.session.get(Passkey, method_id)
    if passkey is None or passkey.user_id != user.id:
        raise not_found("There is no such FIDO2 method for this user.")
    return passkey


@operation(
    BASE,
    ["GET"],
    summary="List the user's passkeys (FIDO2 methods)",
    responses={
        "200": ("Methods", {"type": "object", "properties": {"value": {"type": "array", "items": METHOD_SCHEMA}}})
    },
)
def list_passkeys(user_ref):
    user = _authorized(user_ref, "read")
    return {
        "@odata.context": odata_context(f"users('{user.id}')/authentication/fido2Methods"),
        "value": [graph_passkey(p) for p in service.passkeys_of(user.id)],
    }


def _creation_options(user_ref: str, minutes):
    user = _authorized(user_ref, "create")
    if not isinstance(minutes, int) or isinstance(minutes, bool):
        raise bad_request("challengeTimeoutInMinutes must be a whole number of minutes.")
    if not TIMEOUT_RANGE[0] <= minutes <= TIMEOUT_RANGE[1]:
        raise bad_request(f"challengeTimeoutInMinutes must be from {TIMEOUT_RANGE[0]} to {TIMEOUT_RANGE[1]:,}.")
    refusal = service.policy_refusal(user)
    if refusal:
        raise GraphError(403, None, refusal)
    options, challenge = service.begin_registration(user, "provision", timedelta(minutes=minutes))
    db.session.commit()
    return {
        "@odata.context": odata_context("microsoft.graph.webauthnCredentialCreationOptions"),
        "challengeTimeoutDateTime": clock.iso(challenge.expires_at),
        "publicKey": options,
    }


@function(
    BASE + "/creationOptions",
    ("challengeTimeoutInMinutes",),
    summary="WebAuthn creation options to provision a passkey (challenge lifetime 5 to 43,200 minutes, "
    "default 5); called as creationOptions, creationOptions() or "
    "creationOptions(challengeTimeoutInMinutes=N), with parameter aliases",
    responses={"200": ("webauthnCredentialCreationOptions", OPTIONS_SCHEMA)},
)
def creation_options(user_ref, challengeTimeoutInMinutes=5):  # noqa: N803  (OData's parameter name)
    return _creation_options(user_ref, challengeTimeoutInMinutes)


@operation(
    BASE,
    ["POST"],
    summary="Register a passkey made from creation options, on behalf of the user",
    body={
        "type": "object",
        "required": ["publicKeyCredential"],
        "properties": {"displayName": {"type": "string"}, "publicKeyCredential": {"type": "object"}},
    },
    status=201,
    responses={"201": ("The passkey", METHOD_SCHEMA)},
)
def provision_passkey(user_ref):
    user = _authorized(user_ref, "create")
    body = read_json()
    credential = body.get("publicKeyCredential")
    if not isinstance(credential, dict) or not isinstance(credential.get("response"), dict):
        raise bad_request("Property 'publicKeyCredential' must be the credential the authenticator created.")
    if not isinstance(body.get("displayName", ""), str):
        raise bad_request("Property 'displayName' must be a string.")
    credential = {"type": "public-key", "rawId": credential.get("id"), "clientExtensionResults": {}, **credential}
    passkey = service.register(user, credential, body.get("displayName", ""), "provision")
    audit("Register passkey on behalf of user", "user", user.id, after=graph_passkey(passkey))
    db.session.commit()
    return {
        "@odata.context": odata_context(f"users('{user.id}')/authentication/fido2Methods/$entity"),
        **graph_passkey(passkey),
    }, 201


@operation(
    BASE + "/{method_id}",
    ["GET"],
    summary="Get a passkey (FIDO2 method)",
    responses={"200": ("The passkey", METHOD_SCHEMA)},
)
def get_passkey(user_ref, method_id):
    user = _authorized(user_ref, "read")
    return graph_passkey(_passkey(user, method_id))


@operation(
    BASE + "/{method_id}", ["DELETE"], summary="Delete a passkey", status=204, responses={"204": ("Deleted", None)}
)
def delete_passkey(user_ref, method_id):
    user = _authorized(user_ref, "delete")
    passkey = _passkey(user, method_id)
    before = graph_passkey(passkey)
    service.remove(passkey)
    audit("Delete passkey", "user", user.id, before=before)
    db.session.commit()
    return "", 204


def overview(user) -> list[dict]:
    """The user's passkeys for /authentication/methods and the registration report."""
    return [
        {"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", **graph_passkey(p)}
        for p in service.passkeys_of(user.id)
    ]
