"""Text messages and voice calls behind one provider interface, the way mail works (SMTP or the outbox).

The simulator (the default) keeps what it "sends" in the database and shows it on the development phone page
(/_dev/phone), where the developer answers calls and presses keys; `IDP_TELEPHONY_PROVIDER=twilio` sends
through Twilio's REST API instead. Either way a call is driven by the IVR of whoever placed it: the provider
reports events (answered, keys pressed, no answer, hung up) to the call handler, which says what to play next.

base.py        the provider interface, the prompt a call plays, the registry of call handlers (IVRs)
simulator.py   the simulated carrier: stored messages and calls, the development phone page
twilio.py      Twilio's REST API (Messages, Calls) and its voice webhook (TwiML, signed requests)
"""

from flask import current_app

from .base import RING_SECONDS, CallHandler, Prompt, Provider, TelephonyError, _handlers, handle, register_handler

#: `_handlers` too: the registry itself, which tests/test_wiring.py finds empty after importing every module
__all__ = [
    "RING_SECONDS",
    "CallHandler",
    "Prompt",
    "Provider",
    "TelephonyError",
    "_handlers",
    "handle",
    "provider",
    "register_handler",
]


def provider() -> Provider:
    name = current_app.config.get("IDP_TELEPHONY_PROVIDER") or "simulator"
    if name == "twilio":
        from .twilio import TwilioProvider

        return TwilioProvider.from_config(current_app.config)
    from .simulator import SimulatorProvider

    return SimulatorProvider()
