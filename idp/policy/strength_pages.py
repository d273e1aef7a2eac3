"""The console's Authentication strengths: built-in ones shown read-only, custom ones created, edited and
deleted with their allowed method combinations and passkey (AAGUID) limits, through the same service as
Graph's /policies/authenticationStrengthPolicies."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import record_admin_change
from ..kit.console import admin_required
from ..kit.console import pages as console_pages
from ..kit.fields import Field, field_error
from ..directory.models import Roles
from ..extensions import db
from ..ui import refusal_text, say
from . import strength_service, strengths
from .strength_service import StrengthError
from .strengths_api import TARGET, graph_strength

FACTOR_NAMES = {
    "password": _l("Password"),
    "softwareOath": _l("Software OATH token"),
    "hardwareOath": _l("Hardware OATH token"),
    "fido2": _l("Passkey (FIDO2)"),
    "windowsHelloForBusiness": _l("Windows Hello for Business"),
    "x509CertificateMultiFactor": _l("Certificate-based authentication (multifactor)"),
    "x509CertificateSingleFactor": _l("Certificate-based authentication (single-factor)"),
    "deviceBasedPush": _l("Microsoft Authenticator (phone sign-in)"),
    "microsoftAuthenticatorPush": _l("Microsoft Authenticator (push notification)"),
    "temporaryAccessPassOneTime": _l("Temporary Access Pass (one-time use)"),
    "temporaryAccessPassMultiUse": _l("Temporary Access Pass (multi-use)"),
    "sms": _l("Text message (SMS)"),
    "voice": _l("Voice call"),
    "email": _l("Email one-time passcode"),
    "federatedMultiFactor": _l("Federated multifactor"),
    "federatedSingleFactor": _l("Federated single-factor"),
    "qrCodePin": _l("QR code"),
}
#: the combinations the form offers: every multifactor one, then single factors
OFFERED = list(strengths.BUILT_IN[strengths.MFA].allowed_combinations) + [
    "x509CertificateSingleFactor",
    "sms",
    "email",
    "password",
    "federatedSingleFactor",
]
FIELDS = {
    "displayName": Field(_l("Name"), _l("What administrators see when they require this strength."), "text"),
    "description": Field(_l("Description"), _l("Optional: what the strength is for."), "text"),
    "allowedAAGUIDs": Field(
        _l("Allowed passkey models (AAGUIDs), one per line"),
        _l("Only passkeys of these models satisfy the passkey (FIDO2) combination. Leave empty to allow any passkey."),
        "lines",
    ),
}
ERRORS = {
    "displayName": _l("Enter a name that no other authentication strength uses."),
    "allowedCombinations": _l("Choose at least one valid combination."),
    "allowedAAGUIDs": _l("Enter passkey AAGUIDs, one per line, and allow the passkey (FIDO2) combination."),
    "form": _l("The authentication strength could not be saved."),
}
say(
    {
        "strength.built_in": _l("Built-in authentication strengths cannot be changed. Create a custom one instead."),
        "strength.no_combination": _l("Choose at least one combination of methods."),
        "strength.bad_combination": _l("Choose the combinations of methods from the list."),
        "strength.fido2_needed": _l("To allow only some passkey models, also allow the Passkey (FIDO2) combination."),
        "strength.bad_aaguid": _l(
            "Enter each passkey model as its AAGUID, such as cb69481e-8ff7-4039-93ec-0a2729a154a8, one per line."
        ),
        "strength.name_required": _l("Enter a name of at most 256 characters."),
        "strength.name_taken": _l(
            "Another authentication strength is already named %(name)s. Choose a different name."
        ),
        "strength.in_use": _l(
            "An application requires this authentication strength. Choose another strength for that application "
            "first, then delete this one."
        ),
    }
)
READ_ONLY = _l(
    "You can view authentication strengths. Only an Authentication Policy Administrator or a Global "
    "Administrator can change them."
)


def combination_name(combination: str) -> str:
    return " + ".join(str(FACTOR_NAMES.get(f, f)) for f in combination.split(","))


def _may_edit() -> bool:
    return bool(g.caller.roles & Roles.POLICY_ADMINS)


def _require_edit() -> None:
    if not _may_edit():
        abort(403, description=str(READ_ONLY))


def _values(strength: strengths.Strength | None) -> dict:
    if strength is None:
        return {"displayName": "", "description": "", "allowedCombinations": [], "allowedAAGUIDs": []}
    limits = [a for c in strength.combination_configurations for a in c.get("allowedAAGUIDs", [])]
    return {
        "displayName": strength.display_name,
        "description": strength.description,
        "allowedCombinations": list(strength.allowed_combinations),
        "allowedAAGUIDs": limits,
    }


def _entered() -> dict:
    return {
        "displayName": request.form.get("displayName", "")[:300],
        "description": request.form.get("description", "")[:1000],
        "allowedCombinations": [c for c in request.form.getlist("combination") if c][:60],
        "allowedAAGUIDs": [
            line.strip() for line in request.form.get("allowedAAGUIDs", "").splitlines() if line.strip()
        ][:50],
    }


def _limit(entered: dict) -> dict:
    return {"appliesToCombinations": ["fido2"], "allowedAAGUIDs": entered["allowedAAGUIDs"]}


def _form(strength: strengths.Strength | None, values: dict, errors: dict | None = None):
    offered = OFFERED + [c for c in values["allowedCombinations"] if c not in OFFERED]
    return render_template(
        "console/strength.html",
        strength=strength,
        values=values,
        errors=errors or {},
        fields=FIELDS,
        offered=[(c, combination_name(c)) for c in offered],
        may_edit=_may_edit() and not (strength and strength.built_in),
        read_only=READ_ONLY if not _may_edit() else None,
    ), (400 if errors else 200)


def _refused(strength, entered: dict, error: StrengthError):
    db.session.rollback()
    if strength is not None:
        strength = strengths.find(g.tenant.id, strength.id)
    field = error.field or "form"
    return _form(strength, entered, {field: field_error(ERRORS[field], error)})


def _strength(strength_id: str) -> strengths.Strength:
    return strengths.find(g.tenant.id, strength_id) or abort(404, description=_("No such authentication strength."))


@console_pages.get("/authentication-strengths")
@admin_required
def strength_list():
    return render_template(
        "console/strengths.html",
        strengths=strengths.all_for(g.tenant.id),
        may_edit=_may_edit(),
        read_only=READ_ONLY,
    )


@console_pages.route("/authentication-strengths/new", methods=["GET", "POST"])
@admin_required
def new_strength():
    if request.method == "GET":
        return _form(None, _values(None))
    _require_edit()
    entered = _entered()
    if not entered["allowedCombinations"]:
        return _form(None, entered, {"allowedCombinations": _("Choose at least one combination.")})
    body = {k: entered[k] for k in ("displayName", "description", "allowedCombinations")}
    body["combinationConfigurations"] = [_limit(entered)] if entered["allowedAAGUIDs"] else []
    try:
        row = strength_service.create(g.tenant.id, body)
    except StrengthError as error:
        return _refused(None, entered, error)
    record_admin_change(
        "Add authentication strength", TARGET, row.id, after=graph_strength(strengths.find(g.tenant.id, row.id))
    )
    db.session.commit()
    flash(_("Authentication strength %(name)s created.", name=row.display_name), "ok")
    return redirect(url_for("console.strength_page", strength_id=row.id), 303)


@console_pages.route("/authentication-strengths/<strength_id>", methods=["GET", "POST"])
@admin_required
def strength_page(strength_id):
    strength = _strength(strength_id)
    if request.method == "GET":
        return _form(strength, _values(strength))
    _require_edit()
    entered = _entered()
    if not entered["allowedCombinations"]:
        return _form(strength, entered, {"allowedCombinations": _("Choose at least one combination.")})
    before = graph_strength(strength)
    try:
        _save(strength_service.custom_row(g.tenant.id, strength.id), entered)
    except StrengthError as error:
        return _refused(strength, entered, error)
    record_admin_change(
        "Update authentication strength",
        TARGET,
        strength.id,
        before=before,
        after=graph_strength(strengths.find(g.tenant.id, strength.id)),
    )
    db.session.commit()
    flash(_("Saved."), "ok")
    return redirect(url_for("console.strength_page", strength_id=strength.id), 303)


def _save(row, entered: dict) -> None:
    """Name and description, then combinations, then the passkey limit: each through the service."""
    strength_service.describe(row, {"displayName": entered["displayName"], "description": entered["description"]})
    strength_service.set_combinations(row, entered["allowedCombinations"])
    current = next(iter(row.combination_configurations or []), None)
    wanted = entered["allowedAAGUIDs"]
    if current and [a.lower() for a in wanted] == current["allowedAAGUIDs"]:
        return
    if current:
        strength_service.remove_limit(row, current["id"])
    if wanted:
        strength_service.add_limit(row, _limit(entered))


@console_pages.post("/authentication-strengths/<strength_id>/delete")
@admin_required
def delete_strength(strength_id):
    strength = _strength(strength_id)
    _require_edit()
    if request.form.get("confirm") != "yes":
        abort(400, description=_("Confirm the deletion first."))
    try:
        strength_service.delete(strength_service.custom_row(g.tenant.id, strength.id))
    except StrengthError as error:
        db.session.rollback()
        flash(refusal_text(error), "error")
        return redirect(url_for("console.strength_page", strength_id=strength.id), 303)
    record_admin_change(
        "Delete authentication strength", TARGET, strength.id, before={"displayName": strength.display_name}
    )
    db.session.commit()
    flash(_("Authentication strength %(name)s deleted.", name=strength.display_name), "ok")
    return redirect(url_for("console.strength_list"), 303)
