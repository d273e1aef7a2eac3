"""How a failed OAuth request is answered in Entra's shape: the code that fits it (`classify`), the JSON body,
the parameters sent back to a redirect URI and the response headers. The codes and the raising of errors are
entra_errors.py's, low enough for the models and grants; this part looks up the app the request names."""

from authlib.oauth2.rfc6749 import errors as oauth
from flask import g, request

from .. import clock
from .clients import find_client
from .entra_errors import CODES, correlation_id, trace_id


def classify(error: oauth.OAuth2Error) -> int:
    """The Entra code of an error: the raiser's, the one noted for this request, or one that fits."""
    code = getattr(error, "aadsts", None) or g.get("aadsts")
    if code:
        return code
    name, description = error.error, (error.description or "").lower()
    if name == "invalid_client":
        return _client_code()
    if name == "invalid_scope":
        return 65001 if "may not request" in description else 70011
    if name == "invalid_grant":
        return 70008
    if name == "unsupported_grant_type":
        return 70003
    if name == "unauthorized_client":
        return 700054 if "id_token" in request.values.get("response_type", "") else 7000112
    if name == "login_required":
        return 50058
    if name in ("consent_required", "interaction_required"):
        return 65001 if name == "consent_required" else 50076
    if name == "access_denied":
        return 500021
    if name == "invalid_request" and "redirect" in description:
        return 50011
    if name == "invalid_request" and "missing" in description:
        return 90014
    return 9002313


def _client_code() -> int:
    auth = _basic_credentials()
    client_id = request.values.get("client_id") or (auth.username if auth else None)
    client = find_client(client_id)
    if client is None or client.tenant_id != getattr(g.get("tenant"), "id", None):
        return 700016
    if request.form.get("client_assertion"):
        return 700027
    if request.form.get("client_secret") or (auth and auth.password):
        return 7000215
    return 7000218


def _basic_credentials():
    try:
        return request.authorization
    except ValueError:  # a header Werkzeug cannot decode (bytes that are not ASCII): no credentials to name
        return None


def body(error: oauth.OAuth2Error) -> dict:
    """The JSON body Entra sends for a failed token or device-code request."""
    code = classify(error)
    stamp = clock.now().strftime("%Y-%m-%d %H:%M:%SZ")
    text = error.description or CODES.get(code, ("", error.error))[1]
    if not text.startswith("AADSTS"):
        text = f"AADSTS{code}: {text}"
    result = {
        "error": error.error,
        "error_description": (
            f"{text}\r\nTrace ID: {trace_id()}\r\nCorrelation ID: {correlation_id()}\r\nTimestamp: {stamp}"
        ),
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id(),
        "correlation_id": correlation_id(),
        "error_uri": f"{request.url_root.rstrip('/')}/error?code={code}",
    }
    if getattr(error, "claims", None):
        result["claims"] = error.claims
    return result


def redirect_params(error: oauth.OAuth2Error) -> list[tuple[str, str]]:
    """What goes back to the app's redirect URI: `error`, an `AADSTS` description, `state`, trace and
    correlation ids (as Entra sends them)."""
    code = classify(error)
    text = error.description or CODES.get(code, ("", error.error))[1]
    params = [
        ("error", error.error),
        ("error_description", text if text.startswith("AADSTS") else f"AADSTS{code}: {text}"),
        ("error_codes", str(code)),
        ("trace_id", trace_id()),
        ("correlation_id", correlation_id()),
    ]
    if error.state:
        params.append(("state", error.state))
    return params


def response_headers() -> list[tuple[str, str]]:
    return [("x-ms-request-id", trace_id()), ("client-request-id", correlation_id())]
