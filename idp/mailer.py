"""Mail delivery: Flask-Mail over SMTP when MAIL_SERVER is set; otherwise a local outbox in the database that
the development mailbox (/_dev/mailbox, dev mode only) shows, so a guest sign-in can be completed locally."""

import logging
import smtplib
import socket
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, abort, current_app, has_request_context, render_template
from flask_babel import force_locale
from flask_mail import Message
from sqlalchemy import DateTime, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .directory.models import new_id
from .extensions import db, mail

log = logging.getLogger(__name__)


class MailError(Exception):
    """The message could not be handed to the mail server."""


class OutboxMessage(db.Model):
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


def send(recipient: str, subject: str, body: str) -> None:
    """Send one plain-text message. Raises MailError when SMTP is unreachable or refuses it, or when the
    recipient or subject would break a header line (Flask-Mail's BadHeaderError was an unhandled 500)."""
    if any(c in recipient + subject for c in "\r\n\x00"):
        log.warning("mail not sent: a line break in the recipient or subject")
        raise MailError("a line break in the recipient or subject")
    if not current_app.config.get("MAIL_SERVER"):
        db.session.add(OutboxMessage(recipient=recipient, subject=subject, body=body))
        db.session.flush()
        return
    try:
        mail.send(Message(subject=subject, recipients=[recipient], body=body))
    except (smtplib.SMTPException, OSError, socket.timeout) as error:
        log.warning("mail to %s not sent: %s", recipient, error.__class__.__name__)
        raise MailError(str(error)) from error


def recipient_language(preferred: str | None = None, page_language: bool = True) -> str:
    """The language a message goes out in: the recipient's preferredLanguage when we offer it ("ja-JP" is
    "ja"), else (with `page_language`) the language of the page the recipient is on (the guest asking for a
    code), else English."""
    from . import i18n

    offered = current_app.config["IDP_LANGUAGES"]
    base = (preferred or "").replace("_", "-").split("-")[0].lower()
    if base in offered:
        return base
    return i18n.select_locale() if page_language and has_request_context() else i18n.DEFAULT


def send_in(language: str, recipient: str, compose: Callable[[], tuple[str, str]]) -> None:
    """Send (subject, body) as `compose` builds them with gettext under `language`: the subject is
    translated along with the body, whatever language the current page is in."""
    with force_locale(language):
        subject, body = compose()
    send(recipient, subject, body)


bp = Blueprint("devmail", __name__, url_prefix="/_dev")


@bp.get("/mailbox")
def mailbox():
    if not (current_app.config.get("IDP_DEV_MODE") or current_app.debug):
        abort(404)
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(50)).all()
    return render_template("devmail/mailbox.html", messages=messages)
