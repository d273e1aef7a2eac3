"""Claims of ID tokens and userinfo, and the hook list that later rules use to vet refresh requests."""
from .. import clock

#: callables (session, refresh_token_row) that raise InvalidGrantError to refuse a refresh
refresh_rules: list = []


def user_claims(user, scope: str) -> dict:
    scopes = set(scope.split())
    claims = {"oid": user.id, "tid": user.tenant_id}
    if "profile" in scopes:
        claims.update(name=user.display_name, preferred_username=user.upn)
    if "email" in scopes and user.mail:
        claims["email"] = user.mail
    return claims


def id_token_claims(principal, client, scope: str) -> dict:
    from .tokens import issuer, pairwise_sub
    user, session = principal.user, principal.session
    claims = {
        "iss": issuer(user.tenant_id), "aud": client.id, "sub": pairwise_sub(user.id, client.id),
        "auth_time": clock.to_epoch(session.auth_time), "amr": list(session.amr), "sid": session.id,
        "ver": "2.0", "preferred_username": user.upn,
    }
    if principal.acr or session.acr:
        claims["acr"] = principal.acr or session.acr
    claims.update(user_claims(user, scope))
    return claims
