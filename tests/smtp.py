"""A real SMTP server (aiosmtpd) on a free loopback port, keeping what it receives."""

import email
import re
import socket
import time

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address):
        return [m for m in self.messages if address in m["To"]]

    def last_code(self, address, digits=8):
        body = self.to(address)[-1].get_payload(decode=True).decode()
        return re.search(rf"\b(\d{{{digits}}})\b", body).group(1)


def point_mail_at(app, port: int) -> None:
    """Configure Flask-Mail for a local SMTP server (re-initialised: the test app suppresses mail by default)."""
    from idp.extensions import mail

    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_USE_TLS=False,
        MAIL_USE_SSL=False,
        MAIL_SUPPRESS_SEND=False,
        MAIL_DEFAULT_SENDER="IdP <no-reply@idp.test>",
    )
    app.extensions["mail"] = mail.init_mail(app.config, app.debug, False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    point_mail_at(app, controller.port)
    yield inbox
    controller.stop()


def wait_for(predicate, seconds=5.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False
