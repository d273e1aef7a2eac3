"""Graph: POST /invitations (and resetRedemption)."""
import re

from ..audit import record_audit
from ..directory import service as directory
from ..directory.models import Roles
from ..extensions import db
from ..graph import current_caller, operation, read_json
from ..graph.api import GraphError, bad_request, forbidden, not_found, odata_context
from .. import mailer
from . import redeem_url

EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
INVITATION_SCHEMA = {"type": "object", "properties": {
    "invitedUserEmailAddress": {"type": "string"}, "inviteRedirectUrl": {"type": "string"},
    "sendInvitationMessage": {"type": "boolean"}, "invitedUserDisplayName": {"type": "string"},
    "resetRedemption": {"type": "boolean"}, "invitedUser": {"type": "object"}}}


def _may_invite() -> None:
    caller = current_caller()
    if caller.is_app:
        if caller.has_permission("User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"):
            return
    elif Roles.GLOBAL_ADMIN in caller.roles and caller.has_permission("User.Invite.All", "User.ReadWrite.All"):
        return
    raise forbidden()


def _guest_upn(address: str, tenant) -> str:
    return f"{address.replace('@', '_')}#EXT#@{tenant.default_domain}"


@operation("/invitations", ["POST"], summary="Invite an external guest (or reset a guest's redemption)",
           body=INVITATION_SCHEMA, status=201, responses={"201": ("The invitation", {"type": "object"})})
def invite():
    _may_invite()
    caller = current_caller()
    body = read_json()
    address = body.get("invitedUserEmailAddress")
    redirect_url = body.get("inviteRedirectUrl")
    if not isinstance(address, str) or not EMAIL.match(address):
        raise bad_request("Property 'invitedUserEmailAddress' must be an email address.")
    if not isinstance(redirect_url, str) or not redirect_url.startswith(("https://", "http://")) or len(redirect_url) > 2000:
        raise bad_request("Property 'inviteRedirectUrl' must be an http(s) URL.")
    send = body.get("sendInvitationMessage", False)
    if not isinstance(send, bool):
        raise bad_request("Property 'sendInvitationMessage' must be true or false.")
    address = address.lower()
    if body.get("resetRedemption") is True:
        ref = (body.get("invitedUser") or {}).get("id") if isinstance(body.get("invitedUser"), dict) else None
        guest = directory.find_user(caller.tenant, ref) if isinstance(ref, str) else None
        if guest is None or not guest.is_external_guest:
            raise not_found("Property 'invitedUser' must name an external guest of this organization.")
        guest.external_user_state, guest.redemption_method, guest.redeemed_at = "PendingAcceptance", None, None
        activity = "Reset guest redemption"
    else:
        guest = directory.find_by_sign_in_name(caller.tenant, address)
        if guest is not None and not guest.is_external_guest:
            raise GraphError(400, "badRequest", "That address belongs to a member of this organization.")
        if guest is None:
            guest = directory.create_user(caller.tenant, _guest_upn(address, caller.tenant),
                                          body.get("invitedUserDisplayName") or address, None, guest="external",
                                          mail=address)
            guest.external_user_state = "PendingAcceptance"
        activity = "Invite external user"
    guest.invite_redirect_url = redirect_url
    guest.invited_by = caller.actor[0] if not caller.is_app else None
    db.session.flush()
    link = redeem_url(guest)
    if send:
        inviter = caller.user.display_name if caller.user else caller.tenant.display_name
        try:
            mailer.send(guest.mail, f"You're invited to {caller.tenant.display_name}",
                      f"{inviter} invited you to access applications within {caller.tenant.display_name}.\n\n"
                      f"Accept the invitation: {link}\n")
        except mailer.MailError:
            db.session.rollback()  # nothing is kept: the administrator can simply try again
            raise GraphError(503, "serviceUnavailable", "The invitation email could not be sent; nothing was changed.") from None
    actor_id, actor_type = caller.actor
    record_audit(tenant_id=caller.tenant.id, actor_id=actor_id, actor_type=actor_type, activity=activity,
                 target_type="user", target_id=guest.id, after={"mail": guest.mail, "sent": send})
    db.session.commit()
    return {"@odata.context": odata_context("invitations/$entity"), "id": guest.id, "inviteRedeemUrl": link,
            "invitedUserDisplayName": guest.display_name, "invitedUserEmailAddress": guest.mail,
            "invitedUserType": "Guest", "sendInvitationMessage": send, "inviteRedirectUrl": redirect_url,
            "resetRedemption": body.get("resetRedemption") is True, "status": guest.external_user_state,
            "invitedUser": {"id": guest.id}}, 201
