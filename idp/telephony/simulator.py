"""The simulated carrier: messages and calls kept in the database, and the development phone page.

On /_dev/phone (development mode only) each number shows its text messages and its calls. A ringing call can
be answered, declined or left to ring out; an answered call shows what it plays and takes keys ("#", "0#").
"""

from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import JSON, DateTime, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..directory.models import new_id
from ..extensions import db
from .base import RING_SECONDS, Prompt, Provider, handle

KEYS = set("0123456789*#")


class SimulatedSms(db.Model):
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    to_number: Mapped[str] = mapped_column(String(32), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


class SimulatedCall(db.Model):
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    call_ref: Mapped[str] = mapped_column(String(80), index=True)
    to_number: Mapped[str] = mapped_column(String(32), index=True)
    caller_id: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="ringing")  # ringing | answered | ended
    #: what happened, in order: {"play": script, "audio": url} and {"pressed": keys}
    transcript: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    ring_until: Mapped[datetime] = mapped_column(DateTime)


class SimulatorProvider(Provider):
    name = "simulator"

    def send_sms(self, to: str, body: str) -> str:
        message = SimulatedSms(to_number=to, body=body)
        db.session.add(message)
        db.session.flush()
        return message.id

    def place_call(self, to: str, caller_id: str | None, call_ref: str) -> str:
        call = SimulatedCall(
            call_ref=call_ref,
            to_number=to,
            caller_id=caller_id,
            transcript=[],
            ring_until=clock.now() + timedelta(seconds=RING_SECONDS),
        )
        db.session.add(call)
        db.session.flush()
        return call.id


def _played(prompt: Prompt) -> list:
    entries = []
    for item in [prompt, *prompt.extra]:
        entries.append({"play": item.script, "audio": item.audio_url})
    return entries


def event(call: SimulatedCall, name: str, keys: str = "") -> None:
    """Deliver one event of a simulated call to its IVR and write down what the call played."""
    if call.state == "ended":
        return
    expected = {
        "answer": "ringing",
        "decline": "ringing",
        "no-answer": "ringing",
        "keys": "answered",
        "hangup": "answered",
    }[name]
    # one event at a time: the state moves only if nobody else moved it first
    new_state = "answered" if name in ("answer", "keys") else "ended"
    moved = db.session.execute(
        update(SimulatedCall)
        .where(SimulatedCall.id == call.id, SimulatedCall.state == expected)
        .values(state=new_state)
    ).rowcount
    db.session.commit()
    if moved != 1:
        return
    ivr_event = {"decline": "hangup"}.get(name, name)
    prompt = handle(call.call_ref, ivr_event, keys)
    transcript = (
        list(call.transcript)
        + ([{"pressed": keys}] if name == "keys" else [])
        + ([{"event": name}] if name != "keys" else [])
        + _played(prompt)
    )
    values = {"transcript": transcript}
    if prompt.hangup or not prompt.gather:
        values["state"] = "ended"
    db.session.execute(update(SimulatedCall).where(SimulatedCall.id == call.id).values(**values))
    db.session.commit()


def ring_out_expired() -> None:
    """Calls nobody answered in time end as not answered (the IVR hears it once)."""
    for call in db.session.scalars(
        select(SimulatedCall).where(SimulatedCall.state == "ringing", SimulatedCall.ring_until <= clock.now())
    ).all():
        event(call, "no-answer")


def calls_to(number: str) -> list[SimulatedCall]:
    return list(
        db.session.scalars(
            select(SimulatedCall).where(SimulatedCall.to_number == number).order_by(SimulatedCall.created_at.desc())
        )
    )


def messages_to(number: str) -> list[SimulatedSms]:
    return list(
        db.session.scalars(
            select(SimulatedSms).where(SimulatedSms.to_number == number).order_by(SimulatedSms.created_at.desc())
        )
    )


# --- the development phone page ----------------------------------------------------------------------

bp = Blueprint("devphone", __name__, url_prefix="/_dev/phone")


@bp.before_request
def development_only():
    if not (current_app.config.get("IDP_DEV_MODE") or current_app.debug):
        abort(404)


@bp.get("/")
def phone():
    ring_out_expired()
    messages = db.session.scalars(select(SimulatedSms).order_by(SimulatedSms.created_at.desc()).limit(100)).all()
    calls = db.session.scalars(select(SimulatedCall).order_by(SimulatedCall.created_at.desc()).limit(50)).all()
    numbers = {}
    for item in [*messages, *calls]:
        numbers.setdefault(item.to_number, {"messages": [], "calls": []})
        numbers[item.to_number]["messages" if isinstance(item, SimulatedSms) else "calls"].append(item)
    return render_template("devphone/phone.html", numbers=numbers)


@bp.post("/calls/<call_id>/<action>")
def call_action(call_id, action):
    call = db.session.get(SimulatedCall, call_id) or abort(404)
    if action not in ("answer", "decline", "no-answer", "keys", "hangup"):
        abort(404)
    keys = request.form.get("keys", "").strip()[:16]
    if action == "keys" and (not keys or set(keys) - KEYS):
        abort(400, description="Press one or more of the keys 0-9, * and #.")
    event(call, action, keys)
    return redirect(url_for("devphone.phone") + f"#call-{call.id}")
