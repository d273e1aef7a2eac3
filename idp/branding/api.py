"""Graph: /organization/{id}/branding (organizationalBranding: GET, PATCH) and its banner logo stream (PUT, GET,
DELETE), for the default localization ("0") only."""

from flask import make_response, request

from ..directory.models import Roles
from ..extensions import db
from ..kit.graph import GraphError, audit, current_caller, not_found, odata_context, operation, read_json
from . import service

BRANDING = "/organization/{organization_id}/branding"
LOGO_PATHS = (f"{BRANDING}/bannerLogo", f"{BRANDING}/localizations/{{localization_id}}/bannerLogo")
TEXT = {"type": ["string", "null"]}
SCHEMA = {
    "type": "object",
    "properties": {
        "backgroundColor": {**TEXT, "maxLength": 7},
        "signInPageText": {**TEXT, "maxLength": service.MAX_SIGN_IN_TEXT},
        "usernameHintText": {**TEXT, "maxLength": service.MAX_HINT},
    },
}


def _tenant(organization_id: str, localization_id: str = "0", write: bool = False):
    caller = current_caller()
    if organization_id != caller.tenant.id:
        raise not_found(f"Resource '{organization_id[:64]}' does not exist.")
    if localization_id != "0":
        raise not_found("Only the default branding (localization '0') exists in this organization.")
    if write and not caller.is_app and Roles.GLOBAL_ADMIN not in caller.roles:
        raise GraphError(403, None, "Only a Global Administrator may change the company branding.")
    return caller.tenant


def graph_branding(tenant, row) -> dict:
    return {
        "@odata.context": odata_context(f"organization('{tenant.id}')/branding/$entity"),
        "@odata.type": "#microsoft.graph.organizationalBranding",
        "id": "0",
        "backgroundColor": row.background_color,
        "signInPageText": row.sign_in_page_text,
        "usernameHintText": row.username_hint_text,
        "bannerLogoRelativeUrl": None,
        "cdnList": [],
    }


@operation(BRANDING, ["GET"], summary="Get the company branding", responses={"200": ("Branding", SCHEMA)})
def get_branding(organization_id):
    tenant = _tenant(organization_id)
    row = service.find(tenant.id)
    if row is None:
        raise not_found("No branding is configured for this organization.")
    return graph_branding(tenant, row)


@operation(BRANDING, ["PATCH"], summary="Update the company branding", body=SCHEMA, status=204)
def update_branding(organization_id):
    tenant = _tenant(organization_id, write=True)
    changes = service.update(tenant.id, {k: v for k, v in read_json().items() if k not in ("@odata.type", "id")})
    audit("Update company branding", "Organization", tenant.id, after={k: v[1] for k, v in changes.items()})
    db.session.commit()
    return "", 204


def _logo_put(organization_id, localization_id="0"):
    tenant = _tenant(organization_id, localization_id, write=True)
    service.set_logo(tenant.id, request.get_data(cache=False))
    audit("Update company branding", "Organization", tenant.id, after={"bannerLogo": "replaced"})
    db.session.commit()
    return "", 204


def _logo_get(organization_id, localization_id="0"):
    row = service.find(_tenant(organization_id, localization_id).id)
    if row is None or row.banner_logo is None:
        raise not_found("No banner logo is configured for this organization.")
    response = make_response(row.banner_logo)
    response.headers.update({"Content-Type": row.banner_logo_type, "X-Content-Type-Options": "nosniff"})
    return response


def _logo_delete(organization_id, localization_id="0"):
    tenant = _tenant(organization_id, localization_id, write=True)
    service.set_logo(tenant.id, None)
    audit("Update company branding", "Organization", tenant.id, after={"bannerLogo": None})
    db.session.commit()
    return "", 204


PUT_LOGO = "Upload the banner logo (PNG or JPEG, at most 245 x 36 pixels and 50 KB)"


@operation(LOGO_PATHS[0], ["PUT"], summary=PUT_LOGO, status=204)
def put_banner_logo(organization_id):
    return _logo_put(organization_id)


@operation(LOGO_PATHS[1], ["PUT"], summary=PUT_LOGO, status=204)
def put_localized_banner_logo(organization_id, localization_id):
    return _logo_put(organization_id, localization_id)


@operation(LOGO_PATHS[0], ["GET"], summary="Download the banner logo")
def get_banner_logo(organization_id):
    return _logo_get(organization_id)


@operation(LOGO_PATHS[1], ["GET"], summary="Download the banner logo")
def get_localized_banner_logo(organization_id, localization_id):
    return _logo_get(organization_id, localization_id)


@operation(LOGO_PATHS[0], ["DELETE"], summary="Remove the banner logo", status=204)
def delete_banner_logo(organization_id):
    return _logo_delete(organization_id)
