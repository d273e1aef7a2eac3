"""The out-of-band steps (a voice call, an app notification) share one pending-challenge engine
(methods.base.OutOfBandStep): what each outcome says, logs and counts, and that every sentence is whole, so the page
can translate it (a sentence built by joining two translated halves reaches a Japanese reader in English)."""

from flask_babel import force_locale, gettext

from idp.methods import all_methods
from idp.methods.base import MethodContext, OutOfBandStep


def _steps():
    return [m for m in all_methods() if isinstance(m, OutOfBandStep)]


def test_the_call_and_the_notification_are_out_of_band_steps(app):
    assert {m.name for m in _steps()} == {"voice", "push"}


def test_every_outcome_sentence_is_translated_whole(app):
    for step in _steps():
        sentences = [step.waiting.message, *(o.message for o in step.failures.values())]
        with app.test_request_context(), force_locale("ja"):
            untranslated = [s for s in sentences if gettext(s) == s]
        assert untranslated == [], step.name


class _Scripted:
    """Reads a given outcome: the engine's mapping is what is under test here, the services are tested elsewhere."""

    def __init__(self, step: OutOfBandStep, outcome: str):
        self.step, self.value = step, outcome

    def verify(self):
        step = type(self.step)()
        step.outcome = lambda challenge_id: self.value  # type: ignore[method-assign]
        return step.verify(MethodContext(user=None, tenant_id="t", data={step.challenge_key: "id"}), {})


def test_outcomes_map_to_success_waiting_denials_and_misses(app):
    push = next(m for m in _steps() if m.name == "push")
    approved = _Scripted(push, "approved").verify()
    assert approved.ok and approved.factor == "microsoftAuthenticatorPush"
    waiting = _Scripted(push, "pending").verify()
    assert not waiting.ok and not waiting.mfa_denial and waiting.reason == "app notification not answered yet"
    denied = _Scripted(push, "denied").verify()
    assert denied.mfa_denial and denied.reason == "MFA denied; user declined the authentication"
    assert not _Scripted(push, "expired").verify().mfa_denial  # a missed request does not count towards lockout

    voice = next(m for m in _steps() if m.name == "voice")
    assert _Scripted(voice, "verified").verify().factor == "voice"
    hung_up = _Scripted(voice, "hung-up").verify()
    assert hung_up.mfa_denial and hung_up.reason == "voice call: hung-up"
    other = _Scripted(voice, "busy").verify()
    assert not other.mfa_denial and other.reason == "voice call: busy"  # the log names what the provider said
