"""The rules of an invitation's properties, one place for every caller (Graph's POST /invitations today)."""

import re
from dataclasses import dataclass
from ..errors import ServiceError

EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")  # fullmatch: `$` admits a newline
MAX_DISPLAY_NAME = 256  # the directory's limit for a user's display name
MAX_URL = 2000
MAX_ADDRESS = 254  # RFC 5321's longest path; the guest's UPN (address + #EXT#@domain) must fit 320


class InvitationError(ServiceError, ValueError):
    """A refused property; the message names it."""


@dataclass
class Invitation:
    address: str
    redirect_url: str
    send: bool
    display_name: str | None
    reset: bool
    invited_user_id: str | None
    message_language: str | None = None  # invitedUserMessageInfo.messageLanguage: the mail's language


def parse(body: dict) -> Invitation:
    """Check every property's type and size (a JSON number is not a name, an object is not a string)."""
    address, redirect_url = body.get("invitedUserEmailAddress"), body.get("inviteRedirectUrl")
    if not isinstance(address, str) or len(address) > MAX_ADDRESS or not EMAIL.fullmatch(address):
        raise InvitationError(
            "Property 'invitedUserEmailAddress' must be an email address.", reason_id="invitation.address"
        )
    if (
        not isinstance(redirect_url, str)
        or not redirect_url.startswith(("https://", "http://"))
        or len(redirect_url) > MAX_URL
    ):
        raise InvitationError("Property 'inviteRedirectUrl' must be an http(s) URL.", reason_id="invitation.redirect")
    flags = {}
    for name in ("sendInvitationMessage", "resetRedemption"):
        flags[name] = body.get(name, False)
        if not isinstance(flags[name], bool):
            raise InvitationError(f"Property '{name}' must be true or false.")
    display_name = body.get("invitedUserDisplayName")
    if display_name is not None and (not isinstance(display_name, str) or len(display_name) > MAX_DISPLAY_NAME):
        raise InvitationError(
            f"Property 'invitedUserDisplayName' must be a string of at most {MAX_DISPLAY_NAME} characters.",
            reason_id="invitation.name",
            values={"limit": MAX_DISPLAY_NAME},
        )
    invited = body.get("invitedUser")
    if invited is not None and not isinstance(invited, dict):
        raise InvitationError("Property 'invitedUser' must be an object with the guest's 'id'.")
    ref = (invited or {}).get("id")
    if ref is not None and not isinstance(ref, str):
        raise InvitationError("Property 'invitedUser.id' must be a string.")
    name = display_name.strip() if display_name else ""
    return Invitation(
        address.lower(),
        redirect_url,
        flags["sendInvitationMessage"],
        name or None,
        flags["resetRedemption"],
        ref,
        _message_language(body.get("invitedUserMessageInfo")),
    )


def _message_language(info) -> str | None:
    if info is None:
        return None
    language = info.get("messageLanguage") if isinstance(info, dict) else None
    if not (
        language is None or (isinstance(language, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?", language))
    ):
        raise InvitationError(
            "Property 'invitedUserMessageInfo.messageLanguage' must be a language tag such as 'ja-JP'."
        )
    return language


class InvitationRefused(InvitationError):
    """The invitation is well formed but cannot be carried out; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int, code: str, reason_id: str | None = None):
        super().__init__(message, status, code=code, reason_id=reason_id)


def _guest_of(tenant, invitation: Invitation):
    """(the guest the invitation is for, the audit activity): an existing guest's redemption reset, an existing
    guest invited again, or a new guest account pending acceptance."""
    from ..directory import service as directory

    if invitation.reset:
        guest = directory.find_user(tenant, invitation.invited_user_id) if invitation.invited_user_id else None
        if guest is None or not guest.is_external_guest:
            raise InvitationRefused(
                "Property 'invitedUser' must name an external guest of this organization.",
                404,
                "notFound",
                reason_id="invitation.not_a_guest",
            )
        guest.external_user_state, guest.redemption_method, guest.redeemed_at = "PendingAcceptance", None, None
        return guest, "Reset guest redemption"
    guest = directory.find_by_sign_in_name(tenant, invitation.address)
    if guest is not None and not guest.is_external_guest:
        raise InvitationRefused(
            "That address belongs to a member of this organization.", 400, "badRequest", reason_id="invitation.member"
        )
    if guest is None:
        guest = directory.create_user(
            tenant,
            f"{invitation.address.replace('@', '_')}#EXT#@{tenant.default_domain}",
            invitation.display_name or invitation.address,
            None,
            guest="external",
            mail=invitation.address,
        )
        guest.external_user_state = "PendingAcceptance"
    return guest, "Invite external user"


def _send_invitation(tenant, guest, invitation: Invitation, inviter_name: str | None, link: str) -> None:
    """The invitation mail, in the invitation's messageLanguage, else the guest's, else English (the page that
    sends it is the administrator's, not the guest's)."""
    from flask_babel import gettext as _

    from .. import mailer

    def compose() -> tuple[str, str]:
        lines = [
            _(
                "%(inviter)s invited you to access applications within %(tenant)s.",
                inviter=inviter_name or tenant.display_name,
                tenant=tenant.display_name,
            ),
            _("Accept the invitation: %(link)s", link=link),
        ]
        return _("You're invited to %(tenant)s", tenant=tenant.display_name), "\n\n".join(lines) + "\n"

    language = mailer.recipient_language(invitation.message_language or guest.preferred_language, page_language=False)
    mailer.send_in(language, guest.mail, compose)


def carry_out(tenant, invitation: Invitation, actor_id, actor_type: str, inviter_name: str | None):
    """Invite (or reset the redemption of) an external guest: the Graph operation and the console alike.
    Returns (guest, redeem link); the caller commits."""
    from .. import mailer
    from ..audit import record_audit
    from ..extensions import db
    from . import redeem_url

    guest, activity = _guest_of(tenant, invitation)
    guest.invite_redirect_url = invitation.redirect_url
    guest.invited_by = actor_id if actor_type == "user" else None
    db.session.flush()
    link = redeem_url(guest)
    if invitation.send:
        try:
            _send_invitation(tenant, guest, invitation, inviter_name, link)
        except mailer.MailError:
            db.session.rollback()  # nothing is kept: the administrator can simply try again
            raise InvitationRefused(
                "The invitation email could not be sent; nothing was changed.", 503, "serviceUnavailable"
            ) from None
    record_audit(
        tenant_id=tenant.id,
        actor_id=actor_id,
        actor_type=actor_type,
        activity=activity,
        target_type="user",
        target_id=guest.id,
        after={"mail": guest.mail, "sent": invitation.send},
    )
    return guest, link
