"""Graph: POST /invitations (and resetRedemption)."""

from ..directory.models import Roles
from ..extensions import db
from ..kit.graph import current_caller, forbidden, odata_context, operation, read_json
from . import invitations

INVITATION_SCHEMA = {
    "type": "object",
    "properties": {
        "invitedUserEmailAddress": {"type": "string"},
        "inviteRedirectUrl": {"type": "string"},
        "sendInvitationMessage": {"type": "boolean"},
        "invitedUserDisplayName": {"type": "string", "maxLength": 256},
        "resetRedemption": {"type": "boolean"},
        "invitedUser": {"type": "object"},
        "invitedUserMessageInfo": {"type": "object", "properties": {"messageLanguage": {"type": "string"}}},
    },
}


def _may_invite() -> None:
    """The token's permission was checked by the operation table; a delegated caller also needs the role."""
    caller = current_caller()
    if not caller.is_app and Roles.GLOBAL_ADMIN not in caller.roles:
        raise forbidden()


@operation(
    "/invitations",
    ["POST"],
    summary="Invite an external guest (or reset a guest's redemption)",
    body=INVITATION_SCHEMA,
    status=201,
    responses={"201": ("The invitation", {"type": "object"})},
)
def invite():
    _may_invite()
    caller = current_caller()
    invitation = invitations.parse(read_json())
    inviter = caller.user.display_name if caller.user else None
    actor_id, actor_type = caller.actor
    guest, link = invitations.carry_out(caller.tenant, invitation, actor_id, actor_type, inviter)
    send, redirect_url = invitation.send, invitation.redirect_url
    db.session.commit()
    return {
        "@odata.context": odata_context("invitations/$entity"),
        "id": guest.id,
        "inviteRedeemUrl": link,
        "invitedUserDisplayName": guest.display_name,
        "invitedUserEmailAddress": guest.mail,
        "invitedUserType": "Guest",
        "sendInvitationMessage": send,
        "inviteRedirectUrl": redirect_url,
        "resetRedemption": invitation.reset,
        "status": guest.external_user_state,
        "invitedUser": {"id": guest.id},
    }, 201
