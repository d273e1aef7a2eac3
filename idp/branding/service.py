"""Company branding: the checks every writer (Graph, the console) goes through. Text is stored as typed and
always escaped when shown; a logo must be a PNG or JPEG that fits Entra's banner size, checked from its own
bytes (never from the declared type): SVG, which can carry script, is refused."""

import re
import struct
from types import SimpleNamespace

from ..errors import ServiceError
from .. import cache
from ..extensions import db
from .models import TenantBranding

COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
MAX_SIGN_IN_TEXT = 1024
MAX_HINT = 64
MAX_LOGO_BYTES = 50 * 1024
MAX_LOGO_SIZE = (245, 36)  # Entra's banner logo: at most 245 x 36 pixels
#: Graph property -> (column, maximum length)
TEXTS = {
    "signInPageText": ("sign_in_page_text", MAX_SIGN_IN_TEXT),
    "usernameHintText": ("username_hint_text", MAX_HINT),
}
WRITABLE = {"backgroundColor", *TEXTS}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BrandingError(ServiceError, ValueError):
    def __init__(self, message: str, target: str | None = None):
        super().__init__(message, target=target)


def find(tenant_id: str) -> TenantBranding | None:
    return db.session.get(TenantBranding, tenant_id)


CACHE_SECONDS = 30  # how long another process may go on showing the branding as it was


def shown(tenant_id: str) -> SimpleNamespace | None:
    """What the sign-in pages show (the logo's presence, not its bytes), kept a few seconds per process: every
    sign-in page asks, often twice."""
    values = cache.named("branding", ttl=CACHE_SECONDS).get(tenant_id, lambda: _shown_values(tenant_id))
    return SimpleNamespace(**values) if values else None


def _shown_values(tenant_id: str) -> dict:
    row = find(tenant_id)
    if row is None:
        return {}  # remembered too: most tenants have no branding
    values = {name: value for name, value in (cache.column_values(row) or {}).items() if name != "banner_logo"}
    return {**values, "banner_logo": row.banner_logo is not None}


cache.cleared_on_change("branding", TenantBranding)


def _row(tenant_id: str) -> TenantBranding:
    row = find(tenant_id)
    if row is None:
        row = TenantBranding(tenant_id=tenant_id)
        db.session.add(row)
    return row


def check(values: dict) -> dict:
    """The properties to store, checked (None clears one). Raises BrandingError naming the property."""
    checked = {}
    for name, value in values.items():
        if name not in WRITABLE:
            raise BrandingError(f"Property '{name[:64]}' cannot be updated on organizationalBranding.", name)
        if value is not None and not isinstance(value, str):
            raise BrandingError(f"Property '{name}' must be a string.", name)
        value = value.strip() if value else None
        if name == "backgroundColor" and value is not None and not COLOR.fullmatch(value):
            raise BrandingError(
                "Property 'backgroundColor' must be a colour in hexadecimal form, such as #FFFFFF.", name
            )
        if name in TEXTS and value is not None:
            if len(value) > TEXTS[name][1]:
                raise BrandingError(f"Property '{name}' is too long (at most {TEXTS[name][1]} characters).", name)
            if CONTROL.search(value):
                raise BrandingError(f"Property '{name}' may not contain control characters.", name)
        checked[name] = value
    return checked


def update(tenant_id: str, values: dict) -> dict:
    """Apply checked properties; returns {property: (before, after)} of what changed (the caller commits)."""
    row = _row(tenant_id)
    changes = {}
    for name, value in check(values).items():
        column = "background_color" if name == "backgroundColor" else TEXTS[name][0]
        before = getattr(row, column)
        if before != value:
            setattr(row, column, value)
            changes[name] = (before, value)
    db.session.flush()
    return changes


def image_type(data: bytes) -> str:
    """The logo's type from its own bytes, with its size checked. Raises BrandingError."""
    if len(data) == 0:
        raise BrandingError("The logo is empty.", "bannerLogo")
    if len(data) > MAX_LOGO_BYTES:
        raise BrandingError(f"The logo is larger than {MAX_LOGO_BYTES // 1024} KB.", "bannerLogo")
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        kind, size = "image/png", struct.unpack(">II", data[16:24])
    elif data.startswith(b"\xff\xd8"):
        kind, size = "image/jpeg", _jpeg_size(data)
    else:
        raise BrandingError("The logo must be a PNG or JPEG image (SVG and other types are refused).", "bannerLogo")
    if size[0] > MAX_LOGO_SIZE[0] or size[1] > MAX_LOGO_SIZE[1]:
        raise BrandingError("The logo may be at most 245 x 36 pixels.", "bannerLogo")
    return kind


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Width and height from the first start-of-frame marker."""
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            break
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    raise BrandingError("The logo is not a readable JPEG image.", "bannerLogo")


def set_logo(tenant_id: str, data: bytes | None) -> None:
    """Store a checked logo, or remove it (None). The caller commits."""
    row = _row(tenant_id)
    row.banner_logo_type = image_type(data) if data is not None else None
    row.banner_logo = data
    db.session.flush()
