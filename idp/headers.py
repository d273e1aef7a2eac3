"""The security headers of every response: set by the app's after_request hook (idp/__init__.py) and by the
token path below Flask (oidc/quick_path.py), from this one list."""

EVERY_RESPONSE = (
    ("X-Content-Type-Options", "nosniff"),
    # same-origin: the CSRF check over HTTPS needs our own Referer; other sites never see one
    ("Referrer-Policy", "same-origin"),
)
PAGES = (
    (
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self' http: https:; base-uri 'none'",
    ),
    ("X-Frame-Options", "DENY"),
)
OVER_TLS = (("Strict-Transport-Security", "max-age=31536000"),)  # browsers keep to HTTPS for this host from now on


def for_response(secure: bool, page: bool = False) -> list[tuple[str, str]]:
    """The headers for a response: `secure` when the request came over HTTPS, `page` for an HTML page."""
    return [*EVERY_RESPONSE, *(PAGES if page else ()), *(OVER_TLS if secure else ())]
