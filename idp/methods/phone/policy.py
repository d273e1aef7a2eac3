"""Sms and Voice: the authentication methods policy's configurations for phones."""

from ...policy.service import ConfigType


def _voice(settings: dict) -> str | None:
    if not isinstance(settings.get("isOfficePhoneAllowed"), bool):
        return "Property 'isOfficePhoneAllowed' must be true or false."
    return None


SMS = ConfigType(method_id="Sms", odata_type="#microsoft.graph.smsAuthenticationMethodConfiguration")
VOICE = ConfigType(
    method_id="Voice",
    odata_type="#microsoft.graph.voiceAuthenticationMethodConfiguration",
    defaults={"isOfficePhoneAllowed": False},
    validate=_voice,
)
