"""Twilio as the telephony provider: its REST API (Messages, Calls) and the voice webhooks it calls back.

A call is placed with `Url` (our answer webhook) and `StatusCallback`; each webhook turns the IVR's next
prompt into TwiML (<Say> the script, or <Play> a custom voice message, inside a <Gather> that ends on #).
Every webhook request must carry a valid X-Twilio-Signature (HMAC-SHA1 under the auth token of the URL and
the sorted form parameters), so nobody but Twilio can press keys on a user's call.
"""

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from xml.sax.saxutils import escape, quoteattr

from flask import Blueprint, abort, current_app, request, url_for

from ..extensions import csrf, limiter
from ..i18n.names import N_
from .base import RING_SECONDS, Prompt, Provider, TelephonyError, handle

API_BASE = "https://api.twilio.com"
TIMEOUT = 10  # seconds for each REST call
GATHER_SECONDS = 10


class TwilioProvider(Provider):
    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, sender: str, api_base: str = API_BASE):
        self.account_sid, self.auth_token, self.sender = account_sid, auth_token, sender
        self.api_base = api_base.rstrip("/")

    @classmethod
    def from_config(cls, config) -> "TwilioProvider":
        missing = [
            k for k in ("IDP_TWILIO_ACCOUNT_SID", "IDP_TWILIO_AUTH_TOKEN", "IDP_TWILIO_FROM") if not config.get(k)
        ]
        if missing:
            raise TelephonyError(N_("The telephony provider is not configured."))
        return cls(
            config["IDP_TWILIO_ACCOUNT_SID"],
            config["IDP_TWILIO_AUTH_TOKEN"],
            config["IDP_TWILIO_FROM"],
            config.get("IDP_TWILIO_API_BASE") or API_BASE,
        )

    def _post(self, resource: str, fields: dict) -> dict:
        url = f"{self.api_base}/2010-04-01/Accounts/{urllib.parse.quote(self.account_sid)}/{resource}.json"
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        data = urllib.parse.urlencode({k: v for k, v in fields.items() if v is not None}).encode()
        req = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            detail = _error_message(error)
            current_app.logger.warning("Twilio refused %s: %s %s", resource, error.code, detail)
            raise TelephonyError(N_("the provider refused it.")) from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            current_app.logger.warning("Twilio unreachable for %s: %s", resource, error.__class__.__name__)
            raise TelephonyError(N_("the provider could not be reached.")) from None

    def send_sms(self, to: str, body: str) -> str:
        return self._post("Messages", {"To": to, "From": self.sender, "Body": body}).get("sid", "")

    def place_call(self, to: str, caller_id: str | None, call_ref: str) -> str:
        answer = url_for("twilio_voice.answer", call_ref=call_ref, _external=True)
        status = url_for("twilio_voice.status", call_ref=call_ref, _external=True)
        fields = {
            "To": to,
            "From": caller_id or self.sender,
            "Url": answer,
            "Method": "POST",
            "StatusCallback": status,
            "StatusCallbackMethod": "POST",
            "StatusCallbackEvent": "completed",
            "Timeout": str(RING_SECONDS),
        }
        return self._post("Calls", fields).get("sid", "")


def _error_message(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read() or b"{}")
    except ValueError:
        return ""
    return f"{body.get('code', '')} {body.get('message', '')}".strip()


def signature(auth_token: str, url: str, params: dict) -> str:
    """Twilio's request signature: HMAC-SHA1 of the URL followed by each POST parameter's name and value,
    sorted by name, base64-encoded."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def twiml(prompt: Prompt, gather_url: str) -> str:
    spoken = []
    for item in [prompt, *prompt.extra]:
        spoken.append(
            f"<Play>{escape(item.audio_url)}</Play>" if item.audio_url else f"<Say>{escape(item.script)}</Say>"
        )
    if prompt.gather and not prompt.hangup:
        body = (
            f'<Gather action={quoteattr(gather_url)} method="POST" finishOnKey="#" timeout="{GATHER_SECONDS}">'
            f"{''.join(spoken)}</Gather><Hangup/>"
        )
    else:
        body = "".join(spoken) + "<Hangup/>"
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


# --- webhooks ------------------------------------------------------------------------------------------

bp = Blueprint("twilio_voice", __name__, url_prefix="/_telephony/twilio")
csrf.exempt(bp)  # Twilio signs its requests instead
limiter.exempt(bp)


@bp.before_request
def verify_signature():
    token = current_app.config.get("IDP_TWILIO_AUTH_TOKEN")
    given = request.headers.get("X-Twilio-Signature", "")
    if current_app.config.get("IDP_TELEPHONY_PROVIDER") != "twilio" or not token:
        abort(404)
    expected = signature(token, request.url, request.form.to_dict())
    if not hmac.compare_digest(given.encode(), expected.encode()):
        abort(403, description="The request signature is not valid.")


def _respond(call_ref: str, prompt: Prompt):
    gather = url_for("twilio_voice.gather", call_ref=call_ref, _external=True)
    return twiml(prompt, gather), 200, {"Content-Type": "text/xml"}


@bp.post("/voice/<call_ref>")
def answer(call_ref):
    return _respond(call_ref, handle(call_ref, "answer"))


@bp.post("/voice/<call_ref>/gather")
def gather(call_ref):
    keys = request.form.get("Digits", "")[:15] + request.form.get("FinishedOnKey", "")[:1]
    return _respond(call_ref, handle(call_ref, "keys", keys))


@bp.post("/status/<call_ref>")
def status(call_ref):
    call_status = request.form.get("CallStatus", "")
    if call_status in ("no-answer", "busy", "failed", "canceled"):
        handle(call_ref, "no-answer")
    elif call_status == "completed":
        handle(call_ref, "hangup")
    return "", 204
