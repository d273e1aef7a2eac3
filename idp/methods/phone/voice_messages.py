"""Custom voice messages: uploads checked the way the MFA settings page states the rules (.wav or .mp3, at most
1 MB, shorter than 20 seconds), the length measured from the audio itself; and the route that serves them to
the telephony provider (a call plays the recording by URL)."""

import io
import wave

from flask import Blueprint, abort
from mutagen import MutagenError
from mutagen.mp3 import MP3
from sqlalchemy import select

from ...errors import ServiceError
from ...i18n.names import Message, N_
from ...extensions import db, limiter
from .models import VoiceMessage
from .voice import LANGUAGES, MESSAGE_TYPES

MAX_BYTES = 1024 * 1024
MAX_SECONDS = 20
CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}


class UploadError(ServiceError, ValueError):
    """A refused voice-message upload."""


def _wav_seconds(data: bytes) -> float:
    try:
        with wave.open(io.BytesIO(data)) as audio:
            if audio.getframerate() <= 0:
                raise UploadError(N_("The .wav file has no sample rate."))
            return audio.getnframes() / audio.getframerate()
    except (wave.Error, EOFError):
        raise UploadError(N_("The file is not a valid .wav recording (PCM WAVE).")) from None


def _mp3_seconds(data: bytes) -> float:
    try:
        return MP3(io.BytesIO(data)).info.length
    except MutagenError:
        raise UploadError(N_("The file is not a valid .mp3 recording.")) from None


def measure(filename: str, stream) -> tuple[str, bytes, float]:
    """(format, bytes, seconds) of an upload, or UploadError naming the rule it breaks."""
    extension = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if extension not in CONTENT_TYPES:
        raise UploadError(N_("Only .wav and .mp3 files can be uploaded."))
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise UploadError(N_("The file is larger than 1 MB."))
    if not data:
        raise UploadError(N_("The file is empty."))
    seconds = _wav_seconds(data) if extension == "wav" else _mp3_seconds(data)
    if seconds >= MAX_SECONDS:
        raise UploadError(
            Message(
                N_("The recording is %(seconds).1f seconds long; it must be shorter than %(limit)d seconds."),
                seconds=seconds,
                limit=MAX_SECONDS,
            )
        )
    return extension, data, seconds


def save(tenant_id: str, message_type: str, language: str, filename: str, stream) -> VoiceMessage:
    if message_type not in MESSAGE_TYPES:
        raise UploadError(N_("Choose one of the message types."))
    if language not in LANGUAGES:
        raise UploadError(N_("Choose one of the languages."))
    extension, data, seconds = measure(filename, stream)
    row = db.session.scalar(
        select(VoiceMessage).where(
            VoiceMessage.tenant_id == tenant_id,
            VoiceMessage.message_type == message_type,
            VoiceMessage.language == language,
        )
    )
    if row is None:
        row = VoiceMessage(tenant_id=tenant_id, message_type=message_type, language=language)
        db.session.add(row)
    row.filename, row.content_type = filename[-256:], CONTENT_TYPES[extension]
    row.audio, row.duration_ms = data, int(seconds * 1000)
    db.session.flush()
    return row


def listing(tenant_id: str) -> list[VoiceMessage]:
    return list(
        db.session.scalars(
            select(VoiceMessage)
            .where(VoiceMessage.tenant_id == tenant_id)
            .order_by(VoiceMessage.message_type, VoiceMessage.language)
        )
    )


bp = Blueprint("phone_audio", __name__, url_prefix="/_telephony/voice-messages")


@bp.get("/<message_id>")
@limiter.limit("120/minute")
def voice_message(message_id):
    """The recording, for the provider to play (the id is unguessable; the audio is the tenant's greeting)."""
    row = db.session.get(VoiceMessage, message_id) or abort(404)
    return row.audio, 200, {"Content-Type": row.content_type, "Cache-Control": "private, max-age=300"}
