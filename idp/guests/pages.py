"""Guests in the admin console: the invite button (the same rules as Graph's POST /invitations)."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..kit.console import admin_required
from ..kit.console import pages as console_pages
from ..directory import service as directory
from ..directory.models import Roles
from ..extensions import db
from ..ui import refusal_text, say
from . import invitations


say(
    {
        "invitation.address": _l("Enter the guest's email address, such as name@example.com."),
        "invitation.redirect": _l(
            "Enter the web address the guest goes to after accepting, starting with https:// (or http://)."
        ),
        "invitation.name": _l("Enter a display name of at most %(limit)s characters."),
        "invitation.not_a_guest": _l(
            "This user is not a guest from another organization, so there is nothing to reset."
        ),
        "invitation.member": _l(
            "That address belongs to a member of this organization. Members sign in with their own account: invite "
            "an address from another organization."
        ),
    }
)


def may_invite_guests(caller) -> bool:
    return Roles.GLOBAL_ADMIN in caller.roles


def user_section(caller, user) -> dict | None:
    """The user page's part for an external guest: the invitation's state and a redemption reset."""
    if not user.is_external_guest:
        return None
    return {"template": "console/guest_section.html", "may_invite": may_invite_guests(caller)}


@console_pages.post("/users/<user_id>/reset-redemption")
@admin_required
def reset_redemption(user_id):
    """Graph's POST /invitations with resetRedemption: the guest redeems again (e.g. with another account)."""
    guest = directory.find_user(g.tenant, user_id) or abort(404)
    if not may_invite_guests(g.caller):
        abort(403, description=_("Only a Global Administrator may invite guests."))
    if request.form.get("confirm") != "yes":
        abort(400, description=_("Confirm the reset first."))
    try:
        invitation = invitations.parse(
            {
                "invitedUserEmailAddress": guest.mail or "",
                "inviteRedirectUrl": guest.invite_redirect_url or request.host_url,
                "sendInvitationMessage": request.form.get("send") == "on",
                "resetRedemption": True,
                "invitedUser": {"id": guest.id},
            }
        )
        link = invitations.carry_out(g.tenant, invitation, g.sso.user.id, "user", g.sso.user.display_name)[1]
    except invitations.InvitationError as problem:
        flash(refusal_text(problem), "error")
    else:
        db.session.commit()
        flash(_("Redemption reset. New redeem link: %(link)s", link=link), "ok")
    return redirect(url_for("console.user_page", user_id=guest.id), 303)


@console_pages.route("/users/invite", methods=["GET", "POST"])
@admin_required
def invite_guest():
    """Invite an external guest: the same rules as Graph's POST /invitations."""
    may_invite = may_invite_guests(g.caller)
    error, values = None, {"address": "", "name": "", "redirect": request.host_url, "send": True}
    if request.method == "POST":
        if not may_invite:
            abort(403, description=_("Only a Global Administrator may invite guests."))
        values = {
            "address": request.form.get("address", "").strip()[:320],
            "name": request.form.get("name", "")[:256],
            "redirect": request.form.get("redirect", "").strip()[:2000],
            "send": request.form.get("send") == "on",
        }
        try:
            invitation = invitations.parse(
                {
                    "invitedUserEmailAddress": values["address"],
                    "inviteRedirectUrl": values["redirect"],
                    "invitedUserDisplayName": values["name"] or None,
                    "sendInvitationMessage": values["send"],
                }
            )
            guest, link = invitations.carry_out(g.tenant, invitation, g.sso.user.id, "user", g.sso.user.display_name)
        except invitations.InvitationError as problem:
            error = refusal_text(problem)
        else:
            db.session.commit()
            flash(_("Invitation created. Redeem link: %(link)s", link=link), "ok")
            return redirect(url_for("console.user_page", user_id=guest.id), 303)
    return render_template("console/invite.html", values=values, error=error, may_invite=may_invite), (
        400 if error else 200
    )
