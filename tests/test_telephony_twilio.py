"""The Twilio adapter against a local stub of Twilio's documented REST API (never the network), and the signed
voice webhooks Twilio calls back, driven as Twilio would."""

import base64
import hashlib
import hmac
import json
import re
import threading
import uuid

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from idp.extensions import db
from idp.methods.phone import service

from .support import PASSWORD, Agent, enable_method
from .test_oidc_flow import Rp

SID, TOKEN, SENDER = "AC" + "1" * 32, "stub-auth-token", "+14255550199"
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class TwilioStub:
    """Messages.json and Calls.json as Twilio documents them: Basic auth with the account SID and auth token,
    form-encoded fields, 201 with the new resource's sid, Twilio's error JSON otherwise."""

    def __init__(self):
        self.received: list[tuple[str, dict]] = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @Request.application
    def app(self, request: Request) -> Response:
        match = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/(Messages|Calls)\.json", request.path)
        if request.method != "POST" or match is None:
            return self._error(404, 20404, "The requested resource was not found")
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (SID, TOKEN) or match.group(1) != SID:
            return self._error(401, 20003, "Authenticate")
        fields = request.form.to_dict()
        if not E164.fullmatch(fields.get("To", "")):
            return self._error(400, 21211, f"The 'To' number {fields.get('To')} is not a valid phone number.")
        required = ("From", "Body") if match.group(2) == "Messages" else ("From", "Url")
        if any(not fields.get(name) for name in required):
            return self._error(400, 21603, "A 'From' phone number is required.")
        self.received.append((match.group(2), fields))
        prefix = "SM" if match.group(2) == "Messages" else "CA"
        body = {
            "sid": prefix + uuid.uuid4().hex,
            "account_sid": SID,
            "to": fields["To"],
            "from": fields["From"],
            "status": "queued",
        }
        return Response(json.dumps(body), status=201, content_type="application/json")

    @staticmethod
    def _error(status, code, message):
        return Response(
            json.dumps(
                {
                    "code": code,
                    "message": message,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status,
                }
            ),
            status=status,
            content_type="application/json",
        )

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def twilio(app):
    stub = TwilioStub()
    app.config.update(
        IDP_TELEPHONY_PROVIDER="twilio",
        IDP_TWILIO_ACCOUNT_SID=SID,
        IDP_TWILIO_AUTH_TOKEN=TOKEN,
        IDP_TWILIO_FROM=SENDER,
        IDP_TWILIO_API_BASE=stub.url,
    )
    yield stub
    stub.stop()


def signed_post(url: str, params: dict, token: str = TOKEN) -> requests.Response:
    """Post as Twilio does: X-Twilio-Signature over the URL and the sorted parameters."""
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    mac = base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()
    return requests.post(url, data=params, headers={"X-Twilio-Signature": mac})


def at_second_factor(live, seed, method_id):
    enable_method(seed.tenant.id, method_id)
    service.add(seed.alice, "mobile", "+1 2065550123")
    db.session.commit()
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.go(rp.authorize_url())
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    return rp, agent


def test_text_message_through_twilio(live, seed, twilio):
    rp, agent = at_second_factor(live, seed, "Sms")
    [(resource, fields)] = twilio.received
    assert resource == "Messages" and fields["To"] == "+12065550123" and fields["From"] == SENDER
    code = re.search(r"\b(\d{6})\b", fields["Body"]).group(1)
    agent.submit("/login/method/sms", otc=code)
    agent.submit("/login/kmsi", stay="no")
    assert "sms" in rp.id_claims(rp.redeem(agent))["amr"]


def test_provider_refusal_is_a_clear_message(app, live, seed, twilio):
    app.config["IDP_TWILIO_AUTH_TOKEN"] = "wrong"
    _, agent = at_second_factor(live, seed, "Sms")
    assert "We couldn't send the text message: the provider refused it." in agent.text()
    assert twilio.received == []


def test_voice_call_through_twilio_webhooks(live, seed, twilio):
    rp, agent = at_second_factor(live, seed, "Voice")
    [(resource, fields)] = twilio.received
    assert resource == "Calls" and fields["To"] == "+12065550123" and fields["Timeout"] == "60"
    call = {"CallSid": "CA" + "2" * 32, "AccountSid": SID, "From": SENDER, "To": "+12065550123"}
    assert requests.post(fields["Url"], data={**call, "CallStatus": "in-progress"}).status_code == 403  # unsigned
    assert signed_post(fields["Url"], {**call, "CallStatus": "in-progress"}, token="guess").status_code == 403
    answered = signed_post(fields["Url"], {**call, "CallStatus": "in-progress"})
    assert answered.status_code == 200 and answered.headers["Content-Type"].startswith("text/xml")
    assert "<Gather" in answered.text and "press pound to finish your verification" in answered.text
    gather_url = re.search(r'action="([^"]+)"', answered.text).group(1)
    pressed = signed_post(gather_url, {**call, "Digits": "", "FinishedOnKey": "#"})
    assert "successfully verified" in pressed.text and "<Hangup/>" in pressed.text
    assert signed_post(fields["StatusCallback"], {**call, "CallStatus": "completed"}).status_code == 204
    agent.submit("/login/method/voice")
    agent.submit("/login/kmsi", stay="no")
    assert "tel" in rp.id_claims(rp.redeem(agent))["amr"]
