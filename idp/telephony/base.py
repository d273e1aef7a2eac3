"""The telephony interface the providers implement and the IVRs speak: the prompt a call plays, the provider's
two operations, and the registry of call handlers that `idp.wiring` fills. It imports no provider, so the
simulator and Twilio depend on it and not on the package that chooses between them."""

from dataclasses import dataclass, field
from typing import Callable

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
