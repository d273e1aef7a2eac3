"""The simulated authenticator: a device that really pairs and signs, for development and CI.

It keeps its private keys (sealed) in the database and speaks the device protocol through the same service
calls the device endpoints make: the pairing proof, the signed poll and the signed response. Its page is
/_dev/authenticator (development mode only); `flask idp authenticator pair|requests|approve|deny|report`
drives it from a shell.
"""

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import click
from cryptography.hazmat.primitives import serialization
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.cli import AppGroup
from sqlalchemy import DateTime, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from ... import clock, crypto
from ...directory import service as directory
from ...directory.models import new_id
from ...extensions import db
from ...i18n.names import Message, N_
from . import protocol, service

SEALING_CONTEXT = "simulated-authenticator"


class SimulatedAuthenticator(db.Model):
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    device_id: Mapped[str] = mapped_column(String(36), index=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    upn: Mapped[str] = mapped_column(String(320), index=True)
    private_key: Mapped[str] = mapped_column(Text)  # sealed PKCS#8
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)

    def key(self):
        return serialization.load_der_private_key(crypto.unseal(self.private_key, SEALING_CONTEXT), None)


class SimulatorError(Exception):
    pass


def scan(link: str, name: str = "Simulated authenticator") -> SimulatedAuthenticator:
    """Pair with the link a QR code holds: make a key pair, prove it over the code, register the public key."""
    parts = urlsplit((link or "").strip())
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if parts.scheme != "idp-authenticator" or parts.netloc != "pair" or not {"tenant", "code"} <= set(query):
        raise SimulatorError(N_("That is not an authenticator pairing link (idp-authenticator://pair?...)."))
    key = protocol.new_key()
    body = {
        "code": query["code"],
        "publicKey": protocol.public_key_text(key),
        "deviceName": name,
        "proof": protocol.sign(key, protocol.pairing_message(query["code"])),
    }
    try:
        device = service.pair(query["tenant"], body)
    except service.PushError as error:
        raise SimulatorError(error.message) from None  # its Message: the page translates it
    user = db.session.get(directory.User, device.user_id)
    sealed = crypto.seal(
        key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        SEALING_CONTEXT,
    )
    simulated = SimulatedAuthenticator(
        device_id=device.id, tenant_id=device.tenant_id, upn=user.upn, private_key=sealed
    )
    db.session.add(simulated)
    db.session.commit()
    return simulated


def requests_for(simulated: SimulatedAuthenticator) -> list[dict]:
    """Poll as a device does: a signed timestamp."""
    stamp = clock.timestamp()
    signature = protocol.sign(simulated.key(), protocol.poll_message(simulated.device_id, stamp))
    try:
        device = service.device_by_poll(simulated.device_id, stamp, signature)
    except service.PushError:  # the user deleted this device in My Security Info
        return []
    return [service.view(r) for r in service.pending_for(device)]


def answer(simulated: SimulatedAuthenticator, request_id: str, decision: str, number: int | None = None) -> str:
    pending = {r["id"]: r for r in requests_for(simulated)}
    if request_id not in pending:
        raise SimulatorError(N_("There is no such pending request on this device."))
    chosen = number if decision == "approve" else None
    body = {
        "deviceId": simulated.device_id,
        "decision": decision,
        "number": chosen,
        "signature": protocol.sign(
            simulated.key(), protocol.response_message(request_id, pending[request_id]["nonce"], decision, chosen)
        ),
    }
    try:
        return service.respond(request_id, body)
    except service.PushError as error:
        raise SimulatorError(error.message) from None


def devices_for(upn: str | None = None) -> list[SimulatedAuthenticator]:
    stmt = select(SimulatedAuthenticator).order_by(SimulatedAuthenticator.created_at.desc())
    if upn:
        stmt = stmt.where(SimulatedAuthenticator.upn == upn.strip().lower())
    return list(db.session.scalars(stmt))


# --- the development page ------------------------------------------------------------------------------

bp = Blueprint("devauthenticator", __name__, url_prefix="/_dev/authenticator")


@bp.before_request
def development_only():
    if not (current_app.config.get("IDP_DEV_MODE") or current_app.debug):
        abort(404)


@bp.get("/")
def page(error=None, notice=None, status=200):
    devices = [(d, requests_for(d)) for d in devices_for()]
    return render_template("devauthenticator/index.html", devices=devices, error=error, notice=notice), status


@bp.post("/pair")
def pair_page():
    try:
        simulated = scan(request.form.get("link", ""), request.form.get("name") or "Simulated authenticator")
    except SimulatorError as error:
        return page(error=error.args[0], status=400)
    return page(notice=Message(N_("Paired for %(upn)s."), upn=simulated.upn))


@bp.post("/<simulated_id>/requests/<request_id>/<decision>")
def respond_page(simulated_id, request_id, decision):
    simulated = db.session.get(SimulatedAuthenticator, simulated_id) or abort(404)
    if decision not in service.DECISIONS:
        abort(404)
    number = request.form.get("number", type=int)
    try:
        state = answer(simulated, request_id, decision, number)
    except SimulatorError as error:
        return page(error=error.args[0], status=400)
    return redirect(url_for("devauthenticator.page", answered=state))


# --- the command line ------------------------------------------------------------------------------------

cli = AppGroup("authenticator", help="The simulated Microsoft Authenticator (development and CI).")


def _device(upn: str) -> SimulatedAuthenticator:
    found = devices_for(upn)
    if not found:
        raise click.ClickException(f"no simulated authenticator is paired for {upn}")
    return found[0]


def _answer(upn: str, decision: str, number: int | None = None) -> None:
    simulated, item = _pending(upn)
    try:
        click.echo(answer(simulated, item["id"], decision, number))
    except SimulatorError as error:
        raise click.ClickException(str(error)) from None


def _pending(upn: str) -> tuple[SimulatedAuthenticator, dict]:
    simulated = _device(upn)
    pending = requests_for(simulated)
    if not pending:
        raise click.ClickException(f"no pending request for {upn}")
    return simulated, pending[-1]


@cli.command("pair")
@click.argument("link")
def pair_cmd(link):
    """Pair with the link shown under the QR code in My Security Info."""
    try:
        simulated = scan(link)
    except SimulatorError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"paired device {simulated.device_id} for {simulated.upn}")


@cli.command("requests")
@click.option("--upn", required=True)
def requests_cmd(upn):
    """Show the pending requests: app, location and the number choices."""
    for item in requests_for(_device(upn)):
        click.echo(f"{item['id']}  {item['appName']}  {item['location']}  choices {item['numberChoices']}")


@cli.command("approve")
@click.option("--upn", required=True)
@click.option("--number", type=int, required=True, help="The number the sign-in page shows.")
def approve_cmd(upn, number):
    _answer(upn, "approve", number)


@cli.command("deny")
@click.option("--upn", required=True)
def deny_cmd(upn):
    _answer(upn, "deny")


@cli.command("report")
@click.option("--upn", required=True)
def report_cmd(upn):
    """ "No, it's not me": deny and report fraud."""
    _answer(upn, "report")
