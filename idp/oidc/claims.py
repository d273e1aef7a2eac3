"""Claims of ID tokens and userinfo, and the hook list that later rules use to vet refresh requests."""

from .. import clock
from .naming import issuer, pairwise_sub

#: callables (session, refresh_token_row) that raise InvalidGrantError to refuse a refresh
refresh_rules: list = []


#: how the app authenticated, as Entra's `azpacr` / `appidacr` say it: 0 public, 1 secret, 2 certificate
CLIENT_ACR = {"none": "0", "client_secret_basic": "1", "client_secret_post": "1", "private_key_jwt": "2"}


def client_acr() -> str:
    from flask import g

    return CLIENT_ACR.get(g.get("client_auth_method"), "0")


def user_claims(user, scope: str) -> dict:
    scopes = set(scope.split())
    claims = {"oid": user.id, "tid": user.tenant_id}
    if "profile" in scopes:
        claims.update(name=user.display_name, preferred_username=user.upn)
    if "email" in scopes and user.mail:
        claims["email"] = user.mail
    return claims


def id_token_claims(principal, client, scope: str) -> dict:
    user, session = principal.user, principal.session
    claims = {
        "iss": issuer(user.tenant_id),
        "aud": client.id,
        "sub": pairwise_sub(user.id, client.id),
        "auth_time": clock.to_epoch(session.auth_time),
        "amr": list(session.amr),
        "sid": session.id,
        "ver": "2.0",
        "preferred_username": user.upn,
    }
    if principal.acr or session.acr:
        claims["acr"] = principal.acr or session.acr
    claims.update(user_claims(user, scope))
    return claims
