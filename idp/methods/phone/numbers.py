"""Phone numbers: parsed and validated with `phonenumbers`, stored as E.164, shown in Graph's format."""

import phonenumbers
from ...errors import ServiceError

from ...i18n.names import Message, N_

GRAPH_FORMAT = "+{country code} {number}x{extension}"


class NumberError(ServiceError, ValueError):
    """A phone number Graph's format refuses."""


def parse(text) -> tuple[str, str | None]:
    """(E.164 number, extension or None) from Graph's "+1 5555551234x123" or any international form."""
    if not isinstance(text, str) or not text.strip() or len(text) > 64:
        raise NumberError(
            Message(N_("Property 'phoneNumber' is required, in the format %(format)s."), format=GRAPH_FORMAT)
        )
    if not text.strip().startswith("+"):
        raise NumberError(
            Message(N_("The phone number must start with + and the country code (%(format)s)."), format=GRAPH_FORMAT)
        )
    try:
        number = phonenumbers.parse(text.strip(), None)
    except phonenumbers.NumberParseException:
        raise NumberError(
            Message(
                N_("'%(text)s' is not a phone number in the format %(format)s."), text=text[:64], format=GRAPH_FORMAT
            )
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise NumberError(Message(N_("'%(text)s' is not a valid phone number."), text=text[:64]))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), number.extension or None


def graph_format(e164: str, extension: str | None = None) -> str:
    number = phonenumbers.parse(e164, None)
    national = phonenumbers.national_significant_number(number)
    return f"+{number.country_code} {national}" + (f"x{extension}" if extension else "")


def masked(e164: str) -> str:
    """How the sign-in page names the number: only its last two digits."""
    number = phonenumbers.parse(e164, None)
    national = phonenumbers.national_significant_number(number)
    return f"+{number.country_code} {'X' * (len(national) - 2)}{national[-2:]}"


def is_us(e164: str) -> bool:
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) == "US"
