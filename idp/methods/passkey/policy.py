"""The Fido2 configuration: self-service registration, attestation enforcement, AAGUID key restrictions."""

import uuid

from ...policy.service import ConfigType

#: The Microsoft Authenticator app's passkey AAGUIDs (iOS, Android): the console's one-click switch adds them.
MICROSOFT_AUTHENTICATOR = ("90a3ccdf-635c-4729-a248-9b709135078f", "de1e552d-db1d-4423-a619-566b625cdc84")
DEFAULTS = {
    "isSelfServiceRegistrationAllowed": True,
    "isAttestationEnforced": False,
    "keyRestrictions": {"isEnforced": False, "enforcementType": "block", "aaGuids": []},
}


def normal_aaguid(value) -> str | None:
    """The canonical lower-case form, or None when `value` is not a UUID written with hyphens."""
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def validate(settings: dict) -> str | None:
    for name in ("isSelfServiceRegistrationAllowed", "isAttestationEnforced"):
        if not isinstance(settings[name], bool):
            return f"Property '{name}' must be true or false."
    restrictions = settings["keyRestrictions"]
    if not isinstance(restrictions, dict):
        return "Property 'keyRestrictions' must be an object."
    unknown = set(restrictions) - {"isEnforced", "enforcementType", "aaGuids", "@odata.type"}
    if unknown:
        return f"Property 'keyRestrictions.{sorted(unknown)[0]}' is not valid."
    merged = {**DEFAULTS["keyRestrictions"], **restrictions}
    merged.pop("@odata.type", None)
    if not isinstance(merged["isEnforced"], bool):
        return "Property 'keyRestrictions.isEnforced' must be true or false."
    if merged["enforcementType"] not in ("allow", "block"):
        return "Property 'keyRestrictions.enforcementType' must be 'allow' or 'block'."
    aaguids = merged["aaGuids"]
    if not isinstance(aaguids, list) or len(aaguids) > 500:
        return "Property 'keyRestrictions.aaGuids' must be a list of AAGUIDs."
    for item in aaguids:
        if normal_aaguid(item) is None:
            return f"Property 'keyRestrictions.aaGuids': '{str(item)[:64]}' is not an AAGUID (a GUID such as 01020304-0506-0708-0102-030405060708)."
    # stored normalised, so comparisons and the console agree
    merged["aaGuids"] = list(dict.fromkeys(normal_aaguid(item) for item in aaguids))
    settings["keyRestrictions"] = merged
    return None


def microsoft_authenticator_listed(restrictions: dict) -> bool:
    return all(aaguid in restrictions.get("aaGuids", []) for aaguid in MICROSOFT_AUTHENTICATOR)


def parse_form(form, current: dict) -> dict:
    """The console's key-restriction fields; the "Microsoft Authenticator" switch adds (or removes) its AAGUIDs."""
    lines = [line.strip() for line in form.get("keyRestrictions.aaGuids", "").splitlines() if line.strip()]
    aaguids = [normal_aaguid(line) or line for line in lines]
    if form.get("microsoftAuthenticator") == "on":
        aaguids += [a for a in MICROSOFT_AUTHENTICATOR if a not in aaguids]
    else:
        aaguids = [a for a in aaguids if a not in MICROSOFT_AUTHENTICATOR]
    return {
        "keyRestrictions": {
            "isEnforced": form.get("keyRestrictions.isEnforced") == "on",
            "enforcementType": form.get("keyRestrictions.enforcementType", "block"),
            "aaGuids": aaguids,
        }
    }


CONFIG = ConfigType(
    method_id="Fido2",
    odata_type="#microsoft.graph.fido2AuthenticationMethodConfiguration",
    defaults=DEFAULTS,
    validate=validate,
    form_template="console/fido2_policy.html",
    parse_form=parse_form,
)


def key_allowed(settings: dict, aaguid: str) -> bool:
    """Key restrictions, applied at registration and at every sign-in."""
    restrictions = settings["keyRestrictions"]
    if not restrictions.get("isEnforced"):
        return True
    listed = (normal_aaguid(aaguid) or aaguid) in restrictions.get("aaGuids", [])
    return listed if restrictions.get("enforcementType") == "allow" else not listed
