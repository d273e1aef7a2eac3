"""An application object's Graph properties: each one's checks and where it is kept on the `Client` (PATCH
semantics: a property absent from the body stays as it is)."""

import re

from ..directory.service import DirectoryError
from . import keycredentials
from .models import Client

MAX_URIS = 256


def invalid(message: str, target: str | None = None) -> DirectoryError:
    """A refused property, named as Graph's error `target`."""
    return DirectoryError(message, target=target)


AUDIENCES = ("AzureADMyOrg", "AzureADMultipleOrgs")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
UPDATABLE = {
    "displayName",
    "signInAudience",
    "web",
    "spa",
    "publicClient",
    "isFallbackPublicClient",
    "identifierUris",
    "api",
    "appRoles",
    "requiredResourceAccess",
    "keyCredentials",
    "description",
    "notes",
    "tags",
}


def apply(client: Client, body: dict) -> None:
    """Set the Graph properties in `body` on the registration (PATCH semantics: absent ones stay)."""
    unknown = set(body) - UPDATABLE - {"@odata.type", "id", "appId"}
    if unknown:
        name = min(unknown)[:64]
        raise invalid(f"Property '{name}' does not exist on type 'microsoft.graph.application' or cannot be set.", name)
    for name, setter in _SETTERS.items():
        if name in body:
            setter(client, body[name])
    derive_client_type(client)


def _set_display_name(client: Client, name) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > 256:
        raise invalid("Property 'displayName' must be a non-empty string of at most 256 characters.", "displayName")
    client.name = name.strip()


def _set_audience(client: Client, audience) -> None:
    if audience not in AUDIENCES:
        raise invalid(
            f"Property 'signInAudience' must be one of {', '.join(AUDIENCES)} (personal Microsoft "
            "accounts are not served here).",
            "signInAudience",
        )
    client.sign_in_audience = audience


def _platform_setter(platform: str, column: str, check):
    """web / spa / publicClient: their redirect URIs (and web's logout URL), each platform its own checks."""

    def set_platform(client: Client, value) -> None:
        setting = {} if value is None else value
        if not isinstance(setting, dict):
            raise invalid(f"Property '{platform}' must be an object.", platform)
        if "redirectUris" in setting:
            setattr(client, column, _uris(setting["redirectUris"], check, f"{platform}.redirectUris"))
        if platform == "web" and setting.get("logoutUrl") is not None:
            client.post_logout_redirect_uris = _uris([setting["logoutUrl"]], _web_uri, "web.logoutUrl")

    return set_platform


def _set_fallback_public(client: Client, value) -> None:
    if not isinstance(value, bool):
        raise invalid("Property 'isFallbackPublicClient' must be a boolean.", "isFallbackPublicClient")
    client.is_fallback_public_client = value


def _set_identifier_uris(client: Client, uris) -> None:
    if (
        not isinstance(uris, list)
        or len(uris) > 1
        or not all(isinstance(u, str) and 0 < len(u) <= 256 and "://" in u for u in uris)
    ):
        raise invalid("Property 'identifierUris' takes at most one URI here (such as api://<appId>).", "identifierUris")
    client.identifier_uri = uris[0] if uris else None


SCOPE_TEXTS = (
    "adminConsentDisplayName",
    "adminConsentDescription",
    "userConsentDisplayName",
    "userConsentDescription",
    "type",
)


def _set_api(client: Client, value) -> None:
    api = {} if value is None else value
    if not isinstance(api, dict):
        raise invalid("Property 'api' must be an object.", "api")
    if "oauth2PermissionScopes" in api:
        client.scope_definitions = _definitions(
            api["oauth2PermissionScopes"], "api.oauth2PermissionScopes", SCOPE_TEXTS
        )
        client.exposed_scopes = [d["value"] for d in client.scope_definitions if d["isEnabled"]]


def _set_app_roles(client: Client, value) -> None:
    client.app_roles = _definitions(value, "appRoles", ("displayName", "description", "allowedMemberTypes"))


def _set_required_access(client: Client, value) -> None:
    client.required_resource_access = _required_access(value)


def _set_key_credentials(client: Client, value) -> None:
    client.key_credentials, client.certificates = keycredentials.parse(value)


def derive_client_type(client: Client) -> None:
    """A public client (no secret, PKCE) when it says so or has only SPA / mobile-and-desktop URIs."""
    public = client.is_fallback_public_client or (
        not client.redirect_uris
        and bool(client.spa_redirect_uris or client.public_redirect_uris)
        and not client.password_credentials
    )
    client.is_public = public
    client.token_endpoint_auth_method = "none" if public else "client_secret_basic"
    grants = ["authorization_code", "refresh_token"]
    if not public:
        grants.append("client_credentials")
    client.grant_types = grants


def _web_uri(uri: str) -> bool:
    return (
        uri.startswith("https://") or re.match(r"^http://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(/|$)", uri) is not None
    )


#: schemes a browser runs or reads locally instead of handing to an app: never a redirect URI
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:", "file:", "blob:", "about:")


def _public_uri(uri: str) -> bool:
    return _web_uri(uri) or (
        re.match(r"[a-z][a-z0-9+.-]*:/", uri) is not None
        and not uri.startswith("http:")
        and not uri.lower().startswith(SCRIPT_SCHEMES)
    )


def _uris(value, check, name: str) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_URIS:
        raise invalid(f"Property '{name}' must be a list of at most {MAX_URIS} URIs.", name)
    for uri in value:
        if (
            not isinstance(uri, str)
            or len(uri) > 256
            or "#" in uri
            or "*" in uri
            or re.search(r"[\x00-\x20\x7f-\x9f]", uri)  # no spaces, line breaks or control characters
            or not check(uri)
        ):
            raise invalid(
                f"Invalid value specified for property '{name}': {str(uri)[:100]!r}. Use https:// (or "
                "http://localhost), without a fragment or wildcard.",
                name,
            )
    return list(dict.fromkeys(value))


def _definitions(value, name: str, texts: tuple[str, ...]) -> list[dict]:
    """appRoles / oauth2PermissionScopes: each with a GUID id and a unique value."""
    if not isinstance(value, list) or len(value) > 100:
        raise invalid(f"Property '{name}' must be a list (at most 100 entries).", name)
    found, values = [], set()
    for item in value:
        if not isinstance(item, dict) or not GUID.match(str(item.get("id", ""))):
            raise invalid(f"Each entry of '{name}' needs an 'id' (a GUID).", name)
        entry_value = item.get("value")
        if (
            not isinstance(entry_value, str)
            or not re.fullmatch(r"[A-Za-z0-9._-]{1,120}", entry_value)
            or entry_value in values
        ):
            raise invalid(f"Each entry of '{name}' needs a unique 'value' without spaces.", name)
        values.add(entry_value)
        entry = {"id": item["id"].lower(), "value": entry_value, "isEnabled": item.get("isEnabled", True) is not False}
        for text in texts:
            if text in item:
                if text == "allowedMemberTypes":
                    kinds = item[text]
                    if not isinstance(kinds, list) or not set(kinds) <= {"User", "Application"}:
                        raise invalid("allowedMemberTypes takes 'User' and/or 'Application'.", name)
                    entry[text] = list(kinds)
                elif isinstance(item[text], str) and len(item[text]) <= 1024:
                    entry[text] = item[text]
                else:
                    raise invalid(f"Property '{text}' of '{name}' must be a string.", name)
        found.append(entry)
    return found


def _required_access(value) -> list[dict]:
    if not isinstance(value, list) or len(value) > 50:
        raise invalid("Property 'requiredResourceAccess' must be a list.", "requiredResourceAccess")
    found = []
    for item in value:
        access = item.get("resourceAccess") if isinstance(item, dict) else None
        if (
            not isinstance(access, list)
            or not isinstance(item.get("resourceAppId"), str)
            or not all(
                isinstance(a, dict) and GUID.match(str(a.get("id", ""))) and a.get("type") in ("Scope", "Role")
                for a in access
            )
        ):
            raise invalid(
                "Each requiredResourceAccess entry needs resourceAppId and resourceAccess [{id, type: Scope|Role}].",
                "requiredResourceAccess",
            )
        found.append(
            {
                "resourceAppId": item["resourceAppId"][:64],
                "resourceAccess": [{"id": a["id"].lower(), "type": a["type"]} for a in access],
            }
        )
    return found


#: the updatable properties in the order they are applied (a platform's URIs are checked after the audience)
_SETTERS = {
    "displayName": _set_display_name,
    "signInAudience": _set_audience,
    "web": _platform_setter("web", "redirect_uris", _web_uri),
    "spa": _platform_setter("spa", "spa_redirect_uris", _web_uri),
    "publicClient": _platform_setter("publicClient", "public_redirect_uris", _public_uri),
    "isFallbackPublicClient": _set_fallback_public,
    "identifierUris": _set_identifier_uris,
    "api": _set_api,
    "appRoles": _set_app_roles,
    "requiredResourceAccess": _set_required_access,
    "keyCredentials": _set_key_credentials,
}
