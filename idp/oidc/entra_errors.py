"""Entra's error answers: `AADSTS<code>:` descriptions, `error_codes`, `timestamp`, `trace_id` and a
`correlation_id` that echoes the caller's `client-request-id`.

A refusal that knows its Entra code raises `entra(ErrorClass, code, detail)`; errors raised inside Authlib are
given the code that fits the request (`entra_answers.classify`, which also shapes the answer). Texts are short
paraphrases of Entra's own. This module imports nothing of the OIDC server, so models and grants raise through it.
"""

import re
import uuid

from authlib.oauth2.rfc6749 import errors as oauth
from flask import g, has_request_context, request

from ..i18n.names import N_

#: code -> (Entra's error name, what it means here). README.md lists the same table.
CODES = {
    50011: (
        "RedirectUriMismatch",
        N_("The redirect URI in the request does not match the ones registered for the app."),
    ),
    50053: ("IdsLocked", N_("The account is locked: too many failed sign-in attempts. Wait, then try again.")),
    50055: ("InvalidPasswordExpiredPassword", N_("The password has expired.")),
    50057: ("UserDisabled", N_("The user account is disabled.")),
    50194: (
        "NonMultiTenantAppNotAllowedOnCommon",
        N_(
            "Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. "
            "Use a tenant-specific endpoint or configure the application to be multi-tenant."
        ),
    ),
    50058: ("UserInformationNotProvided", N_("A silent sign-in was requested, but no user is signed in.")),
    50059: (
        "MissingTenantRealmAndNoUserInformationProvided",
        N_("No tenant could be found from the request: use a tenant-specific authority or send a login hint."),
    ),
    50076: (
        "UserStrongAuthClientAuthNRequired",
        N_("Multi-factor authentication is required for this user: sign in interactively."),
    ),
    50079: (
        "UserStrongAuthEnrollmentRequired",
        N_("The user must register for multi-factor authentication: sign in interactively."),
    ),
    50126: ("InvalidUserNameOrPassword", N_("Error validating credentials: invalid username or password.")),
    50173: (
        "FreshTokenNeeded",
        N_("The grant was revoked (the session ended or the password changed): sign in again."),
    ),
    53003: ("BlockedByConditionalAccess", N_("Access has been blocked by the organization's sign-in rules.")),
    54005: ("OAuth2AuthorizationCodeAlreadyRedeemed", N_("The authorization code was already redeemed.")),
    65001: (
        "DelegationDoesNotExist",
        N_("The user or administrator has not consented to the app using this permission."),
    ),
    70003: ("UnsupportedGrantType", N_("The app asked for a grant type this server does not support.")),
    70008: ("ExpiredOrRevokedGrant", N_("The authorization code or refresh token has expired or was revoked.")),
    70011: ("InvalidScope", N_("The value provided for the input parameter 'scope' is not valid.")),
    70016: ("AuthorizationPending", N_("The user has not finished signing in yet: keep polling.")),
    70019: ("CodeExpired", N_("The verification code has expired: start a new device sign-in.")),
    70000: ("InvalidGrant", N_("The grant is not valid.")),
    90014: ("MissingRequiredField", N_("A required parameter is missing from the request.")),
    90023: ("InvalidRequest", N_("The request is not valid for this endpoint.")),
    500011: ("InvalidResourceServicePrincipalNotFound", N_("The resource was not found in this organization.")),
    500021: ("AccessDenied", N_("The user declined the request.")),
    700016: (
        "UnauthorizedClient_DoesNotMatchRequest",
        N_("The application was not found in the directory of this tenant: check the client id and the tenant."),
    ),
    700027: ("InvalidClientAssertion", N_("The client assertion failed validation.")),
    700054: (
        "ResponseTypeNotEnabled",
        N_("The response_type 'id_token' is not enabled for the application (its ID tokens switch is off)."),
    ),
    700082: (
        "ExpiredOrRevokedGrantInactiveToken",
        N_("The refresh token has expired due to inactivity: sign in again."),
    ),
    7000215: (
        "InvalidClientSecretProvided",
        N_("Invalid client secret provided: send the secret's value, not its id."),
    ),
    7000218: (
        "MissingClientCredential",
        N_("The request body must contain the parameter 'client_assertion' or 'client_secret'."),
    ),
    7000222: ("InvalidClientSecretExpiredKeysProvided", N_("The client secret provided for the app has expired.")),
    9002313: ("InvalidRequest", N_("The request is malformed or not valid.")),
    9002326: (
        "CrossOriginNotAllowed",
        N_("Tokens for this app may not be redeemed by a browser's cross-origin request."),
    ),
    50013: ("InvalidAssertion", N_("The assertion is not valid: expired, for another app, or not a user's token.")),
    50020: ("UserUnauthorized", N_("This user account does not exist in the tenant of the app.")),
    7000112: ("UnauthorizedClient_AppDisabled", N_("The app may not use this grant type.")),
}

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


_NOT_IN_DESCRIPTIONS = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


def description_text(text: str) -> str:
    """`text` as an error_description may carry it (RFC 6749: printable ASCII without '"' and '\\'): what a
    request sent, or an app's name, is reflected with the other characters replaced."""
    return _NOT_IN_DESCRIPTIONS.sub("?", text.replace('"', "'").replace("\\", "/"))


def entra(error_class: type[oauth.OAuth2Error], code: int, detail: str = "", **kwargs) -> oauth.OAuth2Error:
    """An OAuth error that carries its Entra code; `detail` adds what this request got wrong."""
    description = CODES[code][1] + (f" {description_text(detail)}" if detail else "")
    error = error_class(description=description, **kwargs)
    error.aadsts = code
    return error


def note(code: int) -> None:
    """Remember why this request is about to fail inside Authlib (e.g. a code already redeemed)."""
    g.aadsts = code


def trace_id() -> str:
    """One id per request, shown in every error answer and page, and in the logs."""
    if "trace_id" not in g:
        g.trace_id = str(uuid.uuid4())
    return g.trace_id


def correlation_id() -> str:
    """The caller's `client-request-id` when it is a GUID (MSAL sends one), else a new one."""
    sent = request.headers.get("client-request-id", "") if has_request_context() else ""
    return sent.lower() if _UUID.fullmatch(sent) else g.setdefault("correlation_id", str(uuid.uuid4()))
