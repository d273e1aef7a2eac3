"""Text messages and voice calls behind one provider interface, the way mail works (SMTP or the outbox).

The simulator (the default) keeps what it "sends" in the database and shows it on the development phone page
(/_dev/phone), where the developer answers calls and presses keys; `IDP_TELEPHONY_PROVIDER=twilio` sends
through Twilio's REST API instead. Either way a call is driven by the IVR of whoever placed it: the provider
reports events (answered, keys pressed, no answer, hung up) to the call handler, which says what to play next.

simulator.py   the simulated carrier: stored messages and calls, the development phone page
twilio.py      Twilio's REST API (Messages, Calls) and its voice webhook (TwiML, signed requests)
"""

from dataclasses import dataclass, field
from typing import Callable

from flask import current_app

#: how long a call rings before it counts as not answered (seconds)
RING_SECONDS = 60


class TelephonyError(Exception):
    """The provider did not take the message or call; the message is safe to show to the user."""


@dataclass
class Prompt:
    """What the call plays next: a script (and the uploaded recording that replaces it, if any)."""

    script: str
    audio_url: str | None = None  # a custom voice message to play instead of reading the script
    gather: bool = True  # wait for keys after it
    hangup: bool = False
    extra: list = field(default_factory=list)  # prompts played after this one (same call turn)


#: the IVR: (call_ref, event, keys) -> Prompt; event is answer | keys | no-answer | hangup
CallHandler = Callable[[str, str, str], Prompt]
_handlers: dict[str, CallHandler] = {}


def register_handler(kind: str, handler: CallHandler) -> None:
    _handlers[kind] = handler


def handle(call_ref: str, event: str, keys: str = "") -> Prompt:
    """A call event, from any provider, to the IVR that placed the call (`kind:ref`)."""
    kind, _, ref = call_ref.partition(":")
    handler = _handlers.get(kind)
    if handler is None:
        return Prompt("This call has ended. Goodbye.", gather=False, hangup=True)
    return handler(ref, event, keys[:16])


class Provider:
    name = ""

    def send_sms(self, to: str, body: str) -> str:
        """Send a text message to an E.164 number; returns the provider's message id."""
        raise NotImplementedError

    def place_call(self, to: str, caller_id: str | None, call_ref: str) -> str:
        """Start a call whose events go to `handle(call_ref, ...)`; returns the provider's call id."""
        raise NotImplementedError


def provider() -> Provider:
    name = current_app.config.get("IDP_TELEPHONY_PROVIDER") or "simulator"
    if name == "twilio":
        from .twilio import TwilioProvider

        return TwilioProvider.from_config(current_app.config)
    from .simulator import SimulatorProvider

    return SimulatorProvider()
