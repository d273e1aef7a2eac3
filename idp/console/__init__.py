"""The admin console: users, their methods, and the authentication methods policy. Method slices add
panels to the user page and pages of their own (through idp.kit.console, whose routes this blueprint takes);
every change goes through the same services (and role checks) as the API."""

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..audit import record_admin_change
from ..directory.models import Group, Roles
from ..extensions import db
from ..i18n.names import N_
from ..policy import service as policy
from ..kit.console import admin_required
from ..ui import refusal_text

bp = Blueprint("console", __name__, url_prefix="/<tenant>/admin")

#: callables (caller, user) -> dict(template=..., **context) rendered on the user page, or None
user_panels: list = []
#: callables (caller, user) -> dict(template=..., **context) or None: the user page's sections after the
#: account's own (a guest's invitation, MFA blocks and lockout)
user_sections: list = []
#: callables (tenant_id) -> set of ids of users with a lasting second factor (the dashboard's MFA coverage)
mfa_registrations: list = []


@bp.app_context_processor
def console_helpers():
    from ..kit.fields import field_for, mfa_field, policy_name

    return {"policy_name": policy_name, "field_for": field_for, "mfa_field": mfa_field}


@bp.get("/policies")
@admin_required
def policies():
    return render_template(
        "console/policies.html", configs=[(t, policy.get(g.tenant.id, t.method_id)) for t in policy.all_types()]
    )


@bp.route("/policies/<method_id>", methods=["GET", "POST"])
@admin_required
def policy_page(method_id):
    kind = policy.config_type(method_id) or abort(404, description=_("No such authentication method."))
    config = policy.get(g.tenant.id, kind.method_id)
    may_edit = bool(g.caller.roles & Roles.POLICY_ADMINS)
    error, field_errors = None, {}
    if request.method == "POST":
        if not may_edit:
            abort(403, description=_("Only an Authentication Policy Administrator may change the policy."))
        before = dict(config.__dict__)
        try:
            policy.apply_patch(kind, config, _policy_form(kind), g.tenant)
        except policy.PolicyError as problem:
            named = [name for name in kind.defaults if f"'{name}'" in str(problem)]
            error = _in_page_words(problem, named)
            field_errors = dict.fromkeys(named, error)
        else:
            policy.save(g.tenant.id, config)
            record_admin_change(
                "Update authentication methods policy",
                "authenticationMethodConfiguration",
                kind.method_id,
                before=before,
                after=dict(config.__dict__),
            )
            db.session.commit()
            return redirect(url_for("console.policy_page", method_id=kind.method_id, saved=1), 303)
        db.session.rollback()
        config = _as_entered(kind, policy.get(g.tenant.id, kind.method_id))
    groups = db.session.scalars(select(Group).where(Group.tenant_id == g.tenant.id).order_by(Group.display_name)).all()
    return render_template(
        "console/policy.html",
        kind=kind,
        config=config,
        groups=groups,
        error=error,
        field_errors=field_errors,
        may_edit=may_edit,
        saved=request.args.get("saved"),
    ), (400 if error else 200)


def _in_page_words(error: policy.PolicyError, named: list[str]) -> str:
    """The policy page's own words for a refused field (the service's message names Graph's properties)."""
    problem = str(error)
    if "does not exist in this tenant" in problem:
        return _("That group no longer exists. Choose another group.")
    if "must not exceed" in problem:
        return _("The minimum lifetime must not be longer than the maximum lifetime.")
    if "must lie between" in problem:
        return _("The default lifetime must lie between the minimum and the maximum lifetime.")
    if "aaGuids" in problem:
        return _("Enter each AAGUID on its own line, as a GUID such as 01020304-0506-0708-0102-030405060708.")
    if named and "whole number" in problem:
        return _("Enter a whole number in the range shown for this field.")
    return refusal_text(error, fallback=_("The policy was not saved. Check the values you entered, then try again."))


def _as_entered(kind, config):
    """The stored configuration with the form's values over it: a refused form shows what was typed."""
    config.state = "enabled" if request.form.get("state") == "on" else "disabled"
    for name, default in kind.defaults.items():
        if isinstance(default, bool):
            config.settings[name] = request.form.get(name) == "on"
        elif not isinstance(default, (dict, list)) and name in request.form:
            config.settings[name] = request.form[name][:100]
    return config


def _targets(name: str) -> list[str]:
    return [value[:64] for value in request.form.getlist(name) if value][:50]


def _policy_form(kind) -> dict:
    """Turn the policy form back into a Graph-style PATCH body."""
    body = {"state": "enabled" if request.form.get("state") in ("on", "enabled") else "disabled"}
    groups = _targets("include")
    if request.form.get("target") == "groups" and not groups:
        raise policy.PolicyError(N_("Choose at least one group, or include all users."))
    included = groups if request.form.get("target") == "groups" else ["all_users"]
    body["includeTargets"] = [{"id": target, "targetType": "group"} for target in included]
    body["excludeTargets"] = [{"id": target, "targetType": "group"} for target in _targets("exclude")]
    if kind.parse_form:
        body.update(kind.parse_form(request.form, policy.get(g.tenant.id, kind.method_id).settings))
    for name, default in kind.defaults.items():
        if name in body:
            continue
        raw = request.form.get(name)
        if isinstance(default, bool):
            body[name] = raw == "on"
        elif isinstance(default, int):
            try:
                body[name] = int(raw)
            except (TypeError, ValueError):
                raise policy.PolicyError(f"Property '{name}' must be a whole number.") from None
        elif raw is not None and not isinstance(default, (dict, list)):
            body[name] = raw
    return body
