"""Input checks shared by every boundary (Graph bodies, sign-in forms): the one JSON loader, and codes.

Python's json module recurses once per nesting level and turns a 5,000-digit number into a long wait, so
neither may see hostile text directly: `load_json` measures size and depth first, refuses non-finite and
oversized numbers, and raises JsonInputError (a ValueError) with a message the caller can show as it is.
"""

import ipaddress
import json
import math
import re
from .errors import ServiceError

MAX_BYTES = 1024 * 1024  # the request-body limit (MAX_CONTENT_LENGTH) is the same
#: endpoint -> (config key, default): uploads allowed above MAX_CONTENT_LENGTH, each streamed under its own cap
UPLOAD_LIMITS = {
    "graph_v1.import_devices_post": ("IDP_OATH_CSV_MAX_BYTES", 16 * 1024 * 1024),
    "graph_beta.import_devices_post": ("IDP_OATH_CSV_MAX_BYTES", 16 * 1024 * 1024),
    "console.upload": ("IDP_OATH_CSV_MAX_BYTES", 16 * 1024 * 1024),
    "console.passkey_metadata": ("IDP_FIDO_MDS_MAX_BYTES", 32 * 1024 * 1024),
    # above the 1 MB voice-message limit, so that the audio check explains an oversized file in its own words
    "console.upload_voice_message": ("IDP_VOICE_UPLOAD_MAX_BYTES", 4 * 1024 * 1024),
}
MAX_DEPTH = 32  # Graph bodies nest 4-5 levels, WebAuthn responses 3
MAX_NUMBER_DIGITS = 40

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_CODE = re.compile(r"[0-9]+")


class JsonInputError(ServiceError, ValueError):
    """A request body the loader refuses (size, depth, syntax)."""


def _depth(text: str) -> int:
    deepest = depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _number(kind):
    def parse(literal: str):
        if len(literal) > MAX_NUMBER_DIGITS:
            raise JsonInputError(
                f"A number in the request body is too long ({len(literal)} characters; at most {MAX_NUMBER_DIGITS})."
            )
        value = kind(literal)
        if isinstance(value, float) and not math.isfinite(value):
            raise JsonInputError("A number in the request body is out of range.")
        return value

    return parse


def _constant(name: str):
    raise JsonInputError(f"'{name}' is not valid JSON.")


def load_json(data: bytes | str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH):
    """Parse JSON text of bounded size and nesting; JsonInputError says precisely what is wrong."""
    if len(data) > max_bytes:
        raise JsonInputError(f"The request body is larger than {max_bytes} bytes.")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonInputError("The request body is not valid UTF-8.") from None
    if _depth(data) > max_depth:
        raise JsonInputError(f"The JSON is nested more than {max_depth} levels deep.")
    try:
        return json.loads(data, parse_int=_number(int), parse_float=_number(float), parse_constant=_constant)
    except JsonInputError:
        raise
    except json.JSONDecodeError as error:
        raise JsonInputError(
            f"The request body is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    except (ValueError, RecursionError):
        raise JsonInputError("The request body is not valid JSON.") from None


def ascii_code(value, lengths=(6, 8)) -> str | None:
    """A one-time code as typed (spaces allowed), or None unless it is ASCII digits of an allowed length.
    `str.isdigit` accepts superscripts and other scripts' digits, which int() then refuses."""
    code = (value or "").replace(" ", "").strip() if isinstance(value, str) else ""
    return code if _CODE.fullmatch(code) and len(code) in lengths else None


class RangeError(ValueError):
    """A refused IP range: the English message, and `reason_id` with `values` for a page to say it in its own
    words (ServiceError's names: the services re-raise it as theirs)."""

    def __init__(self, message: str, reason_id: str, **values: object):
        super().__init__(message)
        self.reason_id, self.values = reason_id, values


#: special-purpose space (RFC 6890 and its successors) that no public network range may contain
RESERVED = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/127",
        "::ffff:0:0/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "2002::/16",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
]
MIN_PREFIX = {4: 8, 6: 16}


def public_ip_range(text) -> str:
    """A CIDR range of public addresses only: none of it private, loopback or reserved (a supernet such as
    0.0.0.0/1 contains all of those), and no wider than /8 (IPv4) or /16 (IPv6). RangeError says why not."""
    if not isinstance(text, str):
        raise RangeError("Each IP range must be a string in CIDR notation, such as 81.2.69.0/24.", "range.not_text")
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise RangeError(
            f"'{text[:64]}' is not an IP range in CIDR notation (such as 81.2.69.0/24).",
            "range.not_cidr",
            range=text[:64],
        ) from None
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise RangeError(
            f"'{text[:64]}' is too wide: IPv{network.version} ranges must be "
            f"/{MIN_PREFIX[network.version]} or narrower.",
            "range.too_wide",
            range=text[:64],
            prefix=MIN_PREFIX[network.version],
        )
    clash = next((r for r in RESERVED if r.version == network.version and network.overlaps(r)), None)
    if clash is not None:
        raise RangeError(
            f"'{text[:64]}' contains private or reserved addresses ({clash}); "
            "only public address ranges can be trusted.",
            "range.reserved",
            range=text[:64],
            reserved=str(clash),
        )
    return str(network)
