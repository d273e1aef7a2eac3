"""The MFA settings in the pages: what an MFA prompt offers, the fraud report step, the console page."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..audit import record_admin_change
from ..kit.console import admin_required
from ..kit.console import pages as console_pages
from ..kit.fields import field_error
from ..directory import service as directory
from ..directory.models import Group, Roles, User
from ..extensions import db, limiter
from ..i18n.names import N_
from ..methods import rbac
from ..signin import flow
from ..signin.models import SigninTransaction, Step
from ..signin.views import bp as signin_bp
from ..ui import refusal_text, say
from . import blocks, fraud, lockout, remember, risk, settings
from .models import MfaBlock, MfaUserState


def mfa_prompt_extras(txn, stage: str, method) -> dict:
    """For an MFA prompt: how long the device may be remembered, and whether fraud can be reported."""
    user = txn.user if txn else None
    if user is None or not (stage == "mfa" or method.mfa_prompt):
        return {"remember_days": None, "can_report": False}
    return {
        "remember_days": remember.days_offered(user) if stage == "mfa" else None,
        "can_report": fraud.may_report(txn) and fraud.can_report(user),
    }


@signin_bp.post("/report")
@limiter.limit("10/minute")
def report_fraud():
    """ "I didn't try to sign in", from an MFA prompt: the pending sign-in is denied. Only a sign-in that has
    proved a first factor for its user may report: typing someone's name must not block them."""
    txn = flow.current(g.tenant)
    if txn is None or not fraud.may_report(txn):
        return render_template("signin/expired.html", restart=url_for("signin.start", tenant=g.tenant_ref)), 400
    if not fraud.can_report(txn.user):
        abort(403, description=N_("Your organization does not accept fraud reports."))
    outcome = fraud.report(txn, txn.user)
    return render_template("signin/reported.html", outcome=outcome)


# --- the report link in the email-code message --------------------------------------------------------


def report_for(user):
    """A report from the (already verified, single-use) link of a code e-mail: it denies the user's pending
    sign-in, if any, and does what the settings say."""
    if user.tenant_id != g.tenant.id or not fraud.can_report(user):
        return None
    txn = db.session.scalar(
        select(SigninTransaction)
        .where(
            SigninTransaction.user_id == user.id,
            SigninTransaction.state != Step.DONE,
            SigninTransaction.expires_at > clock.now(),
        )
        .order_by(SigninTransaction.created_at.desc())
        .limit(1)
    )
    if txn is None:  # nothing pending: still recorded, as a report about this user
        txn = SigninTransaction(
            tenant_id=user.tenant_id, user_id=user.id, methods_done=[], amr=[], data={}, expires_at=clock.now()
        )
    return fraud.report(txn, user)


# --- console ---------------------------------------------------------------------------------------------


def _may_edit() -> bool:
    return bool(g.caller.roles & Roles.POLICY_ADMINS)


def _form_value(default, raw):
    if isinstance(default, bool):
        return raw == "on"
    if isinstance(default, int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            return raw
    if isinstance(default, list):
        return [line.strip() for line in (raw or "").splitlines() if line.strip()]
    if isinstance(default, dict):  # includeTarget
        return {"targetType": "group", "id": raw or "all_users"}
    return raw


PAGES = ("block", "risk")  # the MFA pages that are not a settings section


def _back(page: str, error: str | None = None):
    """Back to the section's page with the outcome in the session's flash: the page shows only messages the
    server itself wrote, never text from the URL."""
    flash(error or _("Saved."), "error" if error else "ok")
    return redirect(url_for("console.mfa_section", section=page), 303)


@console_pages.route("/mfa", methods=["GET"])
@admin_required
def mfa_settings():
    """The MFA settings' overview: one link per section (each section is its own page)."""
    return render_template("console/mfa.html", sections=settings.SECTIONS, may_edit=_may_edit())


@console_pages.get("/mfa/<section>")
@admin_required
def mfa_section(section):
    if section == "locations":  # named locations have their own pages now
        return redirect(url_for("console.named_locations"), 301)
    return _section_page(section)


say(
    {
        "block.reason_needed": _l("Enter a reason for blocking this user. It is kept in the audit log."),
        "block.unblock_reason_needed": _l("Enter a reason for unblocking this user. It is kept in the audit log."),
        "block.already": _l(
            "%(upn)s is already blocked from MFA until %(until)s. To block them with a new reason, unblock them first."
        ),
        "block.inactive": _l("This block has already ended. Reload the page to see the current blocks."),
    }
)

#: refused IP ranges: trusted IPs here, named locations (location_pages) too
say(
    {
        "range.not_cidr": _l(
            "%(range)s is not an IP range in CIDR notation. Write an address, a slash and the prefix length, "
            "such as 81.2.69.0/24."
        ),
        "range.too_wide": _l("%(range)s is too wide. Use a prefix of /%(prefix)s or longer (a narrower range)."),
        "range.reserved": _l(
            "%(range)s includes private or reserved addresses (%(reserved)s). Only public address ranges can be "
            "trusted."
        ),
        "range.ipv6_trusted": _l(
            "%(range)s is an IPv6 range, and trusted IPs take IPv4 only. Add IPv6 ranges to a named location instead."
        ),
        "range.too_many": _l("Enter at most %(count)s trusted IP ranges."),
    }
)


def _in_page_words(error: settings.SettingsError) -> str:
    """The page's own words for a refused field (the service's message names Graph's properties)."""
    if error.limits:
        return _("Enter a whole number from %(low)d to %(high)d.", low=error.limits[0], high=error.limits[1])
    words = {
        "fraudCode": _("Enter 1 to 8 digits (0-9)."),
        "recipients": _("Enter at most 50 email addresses, one per line."),
        "callerIdNumber": _("Enter a US phone number, such as +1 425 555 0100, or leave the field empty."),
        "includeTarget": _("That group no longer exists. Choose another group."),
        "ranges": _(
            "Enter public IPv4 ranges in CIDR notation, such as 203.0.113.0/24, one per line (at most 50). "
            "IPv6 ranges belong in a named location."
        ),
    }
    if error.field == "ranges":  # which range and why (private, IPv6, malformed) matters: the detail stays
        return field_error(words["ranges"], error)
    return words.get(error.field or "") or refusal_text(error)


def _section_page(section, values=None, error: settings.SettingsError | None = None, status=200):
    tenant_id = g.tenant.id
    if section not in settings.SECTIONS and section not in PAGES:
        abort(404, description=_("No such MFA settings page."))
    context = {
        "section": section,
        "spec": settings.SECTIONS.get(section),
        "may_edit": _may_edit(),
        "error": _in_page_words(error) if error else None,
        "now": clock.now(),
        "user_of": lambda user_id: db.session.get(User, user_id),
    }
    if section in settings.SECTIONS:
        context["values"] = values or settings.get(tenant_id, section)
        context["groups"] = db.session.scalars(select(Group).where(Group.tenant_id == tenant_id)).all()
        context["field_errors"] = {
            name: context["error"] for name in settings.SECTIONS[section].defaults if error and name == error.field
        }
    elif section == "block":
        context["blocked"] = blocks.listing(tenant_id)
    else:
        context["risky"], context["detections"] = risk.risky_users(tenant_id), risk.detections(tenant_id)[:50]
    return render_template("console/mfa_section.html", **context), status


@console_pages.post("/mfa/settings/<section>")
@admin_required
def save_mfa_section(section):
    if section not in settings.SECTIONS or not _may_edit():
        abort(404 if section not in settings.SECTIONS else 403)
    defaults = settings.SECTIONS[section].defaults
    changes = {
        name: _form_value(default, request.form.get(name))
        for name, default in defaults.items()
        if name in request.form or isinstance(default, bool)
    }
    try:
        before, after = settings.update(g.tenant.id, section, changes)
    except settings.SettingsError as error:
        db.session.rollback()
        entered = {**settings.get(g.tenant.id, section), **changes}
        return _section_page(section, values=entered, error=error, status=400)  # what was typed stays
    record_admin_change(
        f"Update MFA settings: {settings.SECTIONS[section].title}", "mfaSettings", section, before=before, after=after
    )
    db.session.commit()
    return _back(section)


@console_pages.post("/mfa/block")
@admin_required
def block_user():
    if not _may_edit():
        abort(403)
    user = directory.find_user(g.tenant, request.form.get("upn", "").strip()[:320])
    if user is None:
        return _back("block", error=_("No user with that UPN in this tenant."))
    if not blocks.may_block(g.caller, user):
        return _back("block", error=_(blocks.ADMIN_TARGET))
    try:
        row = blocks.block(user, request.form.get("reason", ""), g.sso.user.upn)
    except blocks.BlockError as error:
        return _back("block", error=refusal_text(error))
    record_admin_change(
        "Block user from MFA", "user", user.id, after={"reason": row.reason, "expires": clock.iso(row.expires_at)}
    )
    db.session.commit()
    return _back("block")


@console_pages.post("/mfa/block/<block_id>/unblock")
@admin_required
def unblock_user(block_id):
    row = db.session.get(MfaBlock, block_id)
    if row is None or row.tenant_id != g.tenant.id or not _may_edit():
        abort(404 if row is None or row.tenant_id != g.tenant.id else 403)
    try:
        blocks.unblock(row, request.form.get("reason", ""), g.sso.user.upn)
    except blocks.BlockError as error:
        return (
            _back_to_user(row.user_id, refusal_text(error))
            if request.form.get("back") == "user"
            else _back("block", refusal_text(error))
        )
    record_admin_change("Unblock user from MFA", "user", row.user_id, after={"reason": row.unblock_reason})
    db.session.commit()
    return _back_to_user(row.user_id) if request.form.get("back") == "user" else _back("block")


def _back_to_user(user_id: str, error: str | None = None):
    flash(error or _("Saved."), "error" if error else "ok")
    return redirect(url_for("console.user_page", user_id=user_id, _anchor="lockout"), 303)


def user_section(caller, user) -> dict:
    """The user page's MFA part: an active block (with unblock) and the MFA denial lockout (with unlock)."""
    return {
        "template": "console/mfa_user_section.html",
        "mfa_block": blocks.active_block(user),
        "mfa_lockout": lockout.status(user),
        "mfa_state": db.session.get(MfaUserState, user.id),
        "may_edit_mfa": bool(caller.roles & Roles.POLICY_ADMINS),
        "remember_refusal": _remember_refusal(caller, user),
    }


def _remember_refusal(caller, user) -> str | None:
    """Why this administrator may not forget the user's remembered devices (the methods' rule), or None."""
    try:
        rbac.authorize(caller, user, "delete", self_service=True)
    except rbac.MethodAccessError:
        if user.is_admin:
            return _(
                "Only a Global Administrator or a Privileged Authentication Administrator may do this for an administrator."
            )
        return _("Your role cannot manage this user's authentication methods.")
    return None


@console_pages.post("/users/<user_id>/mfa-unlock")
@admin_required
def unlock_mfa(user_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    if not _may_edit():
        abort(403, description=_("Only a Global Administrator or an Authentication Policy Administrator may do this."))
    lockout.unlock(user)
    record_admin_change("Unlock user from MFA lockout", "user", user.id)
    db.session.commit()
    return _back_to_user(user.id)


@console_pages.post("/mfa/risk/<user_id>/dismiss")
@admin_required
def dismiss_risk(user_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    if not _may_edit():
        abort(403)
    if risk.dismiss(user):
        record_admin_change("Dismiss user risk", "user", user.id)
        db.session.commit()
    return _back("risk")


@console_pages.post("/users/<user_id>/revoke-mfa-sessions")
@admin_required
def revoke_mfa_sessions(user_id):
    user = directory.find_user(g.tenant, user_id) or abort(404)
    rbac.authorize(
        g.caller, user, "delete", self_service=True
    )  # the same target rule as every other action on a user's methods (no admins for an Auth Admin)
    remember.revoke(user)
    record_admin_change("Revoke MFA sessions", "user", user.id)
    db.session.commit()
    flash(_("Every remembered device asks for MFA again."), "ok")
    return redirect(url_for("console.user_page", user_id=user.id, _anchor="lockout"), 303)
