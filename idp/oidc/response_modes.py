"""How an authorization response reaches the app: `query`, `fragment` or `form_post` (an auto-submitting form,
the default of Microsoft.Identity.Web). A mode this server does not know is refused, never replaced by `query`;
responses that carry an ID token are never put in the query string."""

from urllib.parse import parse_qsl, urlencode, urlsplit

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import g, render_template, request

from . import entra_errors

MODES = ("query", "fragment", "form_post")


def validate() -> None:
    """Check `response_mode` against `response_type` before anything else happens; remember the mode."""
    mode = request.values.get("response_mode") or None
    carries_token = "id_token" in request.values.get("response_type", "").split()
    if mode is not None and mode not in MODES:
        raise entra_errors.entra(
            InvalidRequestError,
            9002313,
            f"The response_mode '{mode[:40]}' is not supported: use query, fragment or form_post.",
        )
    if mode == "query" and carries_token:
        raise entra_errors.entra(
            InvalidRequestError,
            9002313,
            "The response_mode 'query' cannot carry an ID token: use fragment or form_post.",
        )
    g.response_mode = mode or ("fragment" if carries_token else "query")


def deliver(response, redirect_uri: str | None):
    """Re-shape a 302 to the app's redirect URI into the requested mode."""
    mode = g.get("response_mode", "query")
    if (
        not hasattr(response, "status_code")
        or response.status_code != 302
        or not redirect_uri
        or not response.location.startswith(redirect_uri)
    ):
        return response
    target = urlsplit(response.location)
    own = set(parse_qsl(urlsplit(redirect_uri).query, keep_blank_values=True))
    params = [p for p in parse_qsl(target.query, keep_blank_values=True) if p not in own]
    params += parse_qsl(target.fragment, keep_blank_values=True)
    if mode == "query":
        return response
    if mode == "fragment":
        response.location = f"{redirect_uri}#{urlencode(params)}"
        return response
    page = render_template("oidc/form_post.html", action=redirect_uri, params=params)
    return page, 200, {"Cache-Control": "no-store"}
