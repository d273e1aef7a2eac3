"""Phone-call settings: the US-only caller ID, and custom voice messages (.wav/.mp3, at most 1 MB, shorter than
20 s measured from the audio), played only to callers of their language."""

import io
import re
import wave

import pytest

from idp.extensions import db
from idp.methods.phone import service
from idp.mfa import settings as mfa_settings

from .support import PASSWORD, Agent, enable_method, forms, password_sign_in
from .test_oidc_flow import Rp

PAGE = "/contoso.test/admin/mfa/voice-messages"


def make_wav(seconds: float, rate: int = 8000, width: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(width)
        audio.setframerate(rate)
        audio.writeframes(b"\x80" * int(seconds * rate) * width)
    return buffer.getvalue()


def make_mp3(seconds: float) -> bytes:
    """MPEG-1 Layer III frames at 128 kbit/s, 44.1 kHz (417 bytes, 1152 samples each) of silence."""
    frame = bytes([0xFF, 0xFB, 0x90, 0x00]) + bytes(413)
    return frame * int(seconds * 44100 / 1152)


@pytest.fixture
def console(live, seed):
    agent = Agent(live.url)
    agent.go(PAGE)
    password_sign_in(agent, "admin@contoso.test")
    agent.go(PAGE)
    return agent


def upload(agent, filename, data, message_type="fraudGreeting", language="en"):
    token = next(f for f in forms(agent.page.text) if "voice-messages" in f["action"])["fields"]["csrf_token"]
    response = agent.http.post(
        agent.base + PAGE,
        data={"csrf_token": token, "message_type": message_type, "language": language},
        files={"file": (filename, data)},
        allow_redirects=False,
    )
    agent.go(PAGE)
    return response


@pytest.mark.parametrize(
    "filename,data,fragment",
    [
        ("big.wav", make_wav(13, rate=44100, width=2), "larger than 1 MB"),  # 1.1 MB, yet only 13 s
        ("long.wav", make_wav(21), "21.0 seconds"),  # 168 kB, but 21 s
        ("greeting.ogg", b"OggS" + bytes(2000), "Only .wav and .mp3"),
        ("long.mp3", make_mp3(21), "seconds"),
        ("renamed.mp3", make_wav(2), "not a valid .mp3"),
        ("noise.wav", b"RIFF" + bytes(100), "not a valid .wav"),
    ],
)
def test_uploads_are_refused_by_the_audio_itself(console, filename, data, fragment):
    if filename == "big.wav":
        assert 1.05 * 1024 * 1024 < len(data) < 1.2 * 1024 * 1024
    refused = upload(console, filename, data)
    assert refused.status_code == 400 and fragment in refused.text, refused.text[-2000:]
    assert "No custom messages" in console.text()


def test_uploads_are_listed_with_their_measured_length(console):
    assert upload(console, "greeting.wav", make_wav(2.5)).status_code == 302
    assert upload(console, "success.mp3", make_mp3(5), message_type="authenticationSuccessful").status_code == 302
    text = console.text()
    assert "greeting.wav" in text and "2.5 s" in text and "success.mp3" in text and re.search(r"5\.\d s", text)


def test_caller_id_is_us_only(app, seed):
    with pytest.raises(mfa_settings.SettingsError, match="only US"):
        mfa_settings.update(seed.tenant.id, "phoneCallSettings", {"callerIdNumber": "+44 7911 123456"})
    _, after = mfa_settings.update(seed.tenant.id, "phoneCallSettings", {"callerIdNumber": "(425) 555-0100"})
    assert after["callerIdNumber"] == "+14255550100"


def call_alice(live, seed, language: str) -> Agent:
    rp = Rp(live, seed)
    agent = Agent(live.url)
    agent.http.headers["Accept-Language"] = language
    agent.go(rp.authorize_url())
    agent.submit("/login", username="alice@contoso.test")
    agent.submit("/login/method/password", password=PASSWORD)
    assert agent.page.url.endswith("/login/method/voice")
    phone = Agent(live.url)
    phone.go("/_dev/phone/")
    phone.submit("/answer")
    return phone


def test_custom_message_plays_only_in_its_language(app, console, live, seed):
    app.config["IDP_DEV_MODE"] = True
    recording = make_wav(3)
    assert upload(console, "begruessung.wav", recording, language="de").status_code == 302
    mfa_settings.update(seed.tenant.id, "phoneCallSettings", {"callerIdNumber": "+1 425 555 0100"})
    enable_method(seed.tenant.id, "Voice")
    service.add(seed.alice, "mobile", "+1 2065550123")
    db.session.commit()
    phone = call_alice(live, seed, "de-DE,de;q=0.9")
    assert "Call from +14255550100" in phone.text() and "custom voice message" in phone.text()
    audio = re.search(r'<audio controls src="([^"]+)"', phone.page.text).group(1)
    assert phone.http.get(audio).content == recording
    phone.submit("/hangup")
    english = call_alice(live, seed, "en-US")
    text = english.text()
    assert "custom voice message" not in text.split("Call from")[1] and "press pound to finish" in text
    french = call_alice(live, seed, "fr")
    assert "appuyez sur 0 puis sur dièse" in french.text().split("Call from")[1]  # standard, in French


@pytest.mark.parametrize("preferred, accept", [("ja-JP", "en-US"), (None, "ja,en;q=0.5")])
def test_the_standard_call_speaks_japanese_to_a_japanese_user(app, live, seed, preferred, accept):
    app.config["IDP_DEV_MODE"] = True
    seed.alice.preferred_language = preferred
    enable_method(seed.tenant.id, "Voice")
    service.add(seed.alice, "mobile", "+1 2065550123")
    db.session.commit()
    call = call_alice(live, seed, accept).text().split("Call from")[1]
    assert "確認を完了するには、シャープ キーを押してください。" in call and "press pound" not in call
